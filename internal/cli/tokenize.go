package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/tokenizer"
)

func newTokenizeCmd(env *Env) *cobra.Command {
	var (
		path    string
		special bool
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "tokenize",
		Short: "Encode standard input with a Hugging Face tokenizer.json",
		Long: `Reads all of standard input as one text and prints its token ids, space
separated, or {"ids":[…],"tokens":[…]} with --json. BOS/EOS and other
post-processor tokens are added only with --special; spellings of special
tokens in the text are matched as those tokens either way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				return &exitError{code: 2, err: errors.New("tokenize: --tokenizer FILE|DIR is required")}
			}
			tk, err := tokenizer.Load(path)
			if err != nil {
				return fmt.Errorf("tokenize: %w", err)
			}
			text, err := io.ReadAll(env.Stdin)
			if err != nil {
				return fmt.Errorf("tokenize: read stdin: %w", err)
			}
			ids := tk.Encode(string(text), special)
			if asJSON {
				toks := make([]string, len(ids))
				for i, id := range ids {
					toks[i], _ = tk.IDToToken(id)
				}
				out := struct {
					IDs    []int    `json:"ids"`
					Tokens []string `json:"tokens"`
				}{ids, toks}
				enc := json.NewEncoder(env.Stdout)
				enc.SetEscapeHTML(false)
				return enc.Encode(out)
			}
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = strconv.Itoa(id)
			}
			_, err = fmt.Fprintln(env.Stdout, strings.Join(parts, " "))
			return err
		},
	}
	cmd.Flags().StringVar(&path, "tokenizer", "", "tokenizer.json file or model folder")
	cmd.Flags().BoolVar(&special, "special", false, "add the post-processor's special tokens (BOS/EOS)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"ids":[…],"tokens":[…]}`)
	return cmd
}
