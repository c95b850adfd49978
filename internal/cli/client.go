package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

// apiConn holds the flags every API client command shares: --url (default
// WHET_URL), --output, and the token from WHET_TOKEN.
type apiConn struct {
	url, token, output string
}

func (c *apiConn) bind(cmd *cobra.Command, env *Env) {
	url, _ := env.Lookup("WHET_URL")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	c.token, _ = env.Lookup("WHET_TOKEN")
	f := cmd.PersistentFlags()
	f.StringVar(&c.url, "url", url, "whet server URL (env WHET_URL)")
	f.StringVarP(&c.output, "output", "o", "table", "output format: table or json")
}

func (c *apiConn) client() (*api.Client, error) {
	if c.output != "table" && c.output != "json" {
		return nil, &exitError{code: 2, err: fmt.Errorf("--output %q: want table or json", c.output)}
	}
	if c.token == "" {
		return nil, &exitError{code: 2, err: errors.New("no credentials: set WHET_TOKEN to an API key (whet_…) or an access token")}
	}
	return api.NewClient(c.url, c.token), nil
}

// emit prints v as indented JSON, or calls table with a tab writer.
func (c *apiConn) emit(w io.Writer, v any, table func(tw *tabwriter.Writer)) error {
	if c.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// pageFlags adds --limit and --cursor to a list command.
func pageFlags(cmd *cobra.Command, limit *int, cursor *string) {
	cmd.Flags().IntVar(limit, "limit", 50, "page size (1–1000)")
	cmd.Flags().StringVar(cursor, "cursor", "", "next_cursor from the previous page")
}

func nextHint(w io.Writer, output, next string) {
	if output == "table" && next != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", next)
	}
}

func joinScopes(s []string) string { return strings.Join(s, " ") }
