package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

func newAuditCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the hash-chained audit log",
		Long: "These commands read the metadata database directly (--data DIR for the embedded SQLite,\n" +
			"or --db postgres://…), so they work with the server stopped and trust nothing it says.",
	}

	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit chain; exit 3 naming the first edited, deleted or reordered record",
		Args:  cobra.NoArgs,
	}
	vcf := bindConfigFlags(verify, "data", "db")
	verify.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := vcf.load(cmd, env)
		if err != nil {
			return err
		}
		db, err := openExisting(cmd, cfg.DB, cfg.Data)
		if err != nil {
			return err
		}
		defer db.Close()
		res, err := audit.New(db, nil).Verify(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, res.String())
		if !res.OK {
			return &exitError{code: 3, err: fmt.Errorf("audit chain broken at record %d (%s)", res.BadSeq, res.BadID)}
		}
		return nil
	}

	var format, org, out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Export audit records as JSON Lines or CSV for compliance reports",
		Args:  cobra.NoArgs,
	}
	ecf := bindConfigFlags(export, "data", "db")
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	export.Flags().StringVar(&org, "org", "", "only this organisation id (default: all)")
	export.Flags().StringVar(&out, "out", "", "write to this file (default: stdout)")
	export.RunE = func(cmd *cobra.Command, _ []string) error {
		if format != "jsonl" && format != "csv" {
			return &exitError{code: 2, err: fmt.Errorf("--format %q: want jsonl or csv", format)}
		}
		cfg, err := ecf.load(cmd, env)
		if err != nil {
			return err
		}
		db, err := openExisting(cmd, cfg.DB, cfg.Data)
		if err != nil {
			return err
		}
		defer db.Close()
		var w io.Writer = env.Stdout
		if out != "" {
			f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		return audit.New(db, nil).Export(cmd.Context(), w, format, org)
	}
	cmd.AddCommand(verify, export)
	return cmd
}

// openExisting opens a metadata database that must already exist: the
// audit commands inspect data, they never create an empty database.
func openExisting(cmd *cobra.Command, dbURL, dataDir string) (*store.DB, error) {
	if dbURL == "" {
		path := filepath.Join(dataDir, store.DefaultSQLiteFile)
		if _, err := os.Stat(path); err != nil {
			return nil, &exitError{code: 2, err: fmt.Errorf("no whet database at %s (use --data DIR or --db URL)", path)}
		}
	}
	return store.Open(cmd.Context(), dbURL, dataDir)
}
