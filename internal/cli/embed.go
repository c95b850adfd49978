package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/encoder"
	"github.com/whet-dev/whet/internal/tokenizer"
)

func newEmbedCmd(env *Env) *cobra.Command {
	var (
		dir       string
		pooling   string
		normalize bool
		int8      bool
		batch     int
	)
	cmd := &cobra.Command{
		Use:   "embed",
		Short: "Embed each line of standard input with a BERT-family model",
		Long: `Reads standard input line by line and prints one JSON array of floats per line,
in order. The model folder holds config.json, *.safetensors and tokenizer.json
(sentence-transformers folders also give the pooling mode and normalisation).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return &exitError{code: 2, err: errors.New("embed: --model DIR is required")}
			}
			if batch < 1 {
				return &exitError{code: 2, err: errors.New("embed: --batch must be at least 1")}
			}
			opts := encoder.Options{Pooling: encoder.Pooling(pooling), Int8: int8}
			if pooling != "" && pooling != string(encoder.PoolCLS) && pooling != string(encoder.PoolMean) {
				return &exitError{code: 2, err: fmt.Errorf("embed: --pooling must be cls or mean, not %q", pooling)}
			}
			if cmd.Flags().Changed("normalize") {
				opts.Normalize = &normalize
			}
			m, err := encoder.Load(dir, opts)
			if err != nil {
				return fmt.Errorf("embed: %w", err)
			}
			tk, err := tokenizer.Load(dir)
			if err != nil {
				return fmt.Errorf("embed: %w", err)
			}
			out := bufio.NewWriter(env.Stdout)
			defer out.Flush()
			flush := func(lines []string) error {
				vecs, err := m.Embed(cmd.Context(), tk, lines)
				if err != nil {
					return fmt.Errorf("embed: %w", err)
				}
				for _, v := range vecs {
					data, err := json.Marshal(v)
					if err != nil {
						return fmt.Errorf("embed: %w", err)
					}
					out.Write(data)
					out.WriteByte('\n')
				}
				return nil
			}
			sc := bufio.NewScanner(env.Stdin)
			sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
			var pending []string
			for sc.Scan() {
				pending = append(pending, strings.TrimRight(sc.Text(), "\r"))
				if len(pending) == batch {
					if err := flush(pending); err != nil {
						return err
					}
					pending = pending[:0]
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("embed: read stdin: %w", err)
			}
			if len(pending) > 0 {
				return flush(pending)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "model", "", "model folder (config.json, *.safetensors, tokenizer.json)")
	cmd.Flags().StringVar(&pooling, "pooling", "", "cls or mean (default: the model's 1_Pooling config, else cls)")
	cmd.Flags().BoolVar(&normalize, "normalize", false, "L2-normalise vectors (default: the model's Normalize module)")
	cmd.Flags().BoolVar(&int8, "int8", false, "quantise linear layers to int8")
	cmd.Flags().IntVar(&batch, "batch", 32, "lines per forward pass")
	return cmd
}
