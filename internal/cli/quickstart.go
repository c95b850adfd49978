package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newQuickstartCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole loop on the bundled sample corpus",
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(env.Stdout, "whet quickstart: not built yet. Planned stages:")
			for _, s := range []string{
				"1. ingest the sample corpus in examples/ (redact PII, dedup, version)",
				"2. build a hybrid BM25 + dense index and score the retrieval test collection",
				"3. train a domain tokenizer and a small base model, then LoRA SFT and DPO",
				"4. evaluate, gate, register and serve the model with citations",
			} {
				fmt.Fprintln(env.Stdout, "  "+s)
			}
			return nil
		},
	}
}
