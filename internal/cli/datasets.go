package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
)

func newDatasetsCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "Create datasets, list their versions, process them into new versions, export them",
		Long: "Dataset commands talk to a whet server (--url or WHET_URL) with the token in WHET_TOKEN.\n" +
			"Documents get into a dataset with `whet ingest`; `whet datasets process` turns them into an\n" +
			"immutable version (redaction, dedup, filters) that training and indexes use.",
	}
	conn.bind(cmd, env)
	project, _ := env.Lookup("WHET_PROJECT")

	var limit int
	var cursor string
	list := &cobra.Command{
		Use:   "list",
		Short: "List a project's datasets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			if project == "" {
				return &exitError{code: 2, err: errors.New("--project (or WHET_PROJECT) is required")}
			}
			page, err := c.ListDatasets(cmd.Context(), project, limit, cursor)
			if err != nil {
				return err
			}
			err = conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME\tKIND\tCREATED\tDESCRIPTION")
				for _, d := range page.Items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Kind, fmtTime(&d.CreatedAt), orDash(d.Description))
				}
			})
			nextHint(env.Stdout, conn.output, page.NextCursor)
			return err
		},
	}
	pageFlags(list, &limit, &cursor)

	var kind, desc string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a dataset (kinds: documents, instruction, preference, chat)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			if project == "" {
				return &exitError{code: 2, err: errors.New("--project (or WHET_PROJECT) is required")}
			}
			d, err := c.CreateDataset(cmd.Context(), project, api.DatasetCreate{Name: args[0], Kind: kind, Description: desc})
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, d, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "created dataset %s (%s, %s)\n", d.ID, d.Name, d.Kind)
			})
		},
	}
	create.Flags().StringVar(&kind, "kind", "documents", "documents, instruction, preference or chat")
	create.Flags().StringVar(&desc, "description", "", "what the dataset holds")
	for _, c := range []*cobra.Command{list, create} {
		c.Flags().StringVar(&project, "project", project, "project ID (env WHET_PROJECT)")
	}

	show := &cobra.Command{
		Use:   "show DATASET_ID",
		Short: "Show a dataset and its latest version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			var d dataset.Dataset
			if err := c.Do(cmd.Context(), http.MethodGet, "/v1/datasets/"+url.PathEscape(args[0]), nil, &d); err != nil {
				return err
			}
			vs, err := c.ListDatasetVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := struct {
				dataset.Dataset
				Latest *dataset.Version `json:"latest_version,omitempty"`
			}{Dataset: d}
			if len(vs) > 0 {
				out.Latest = &vs[0]
			}
			return conn.emit(env.Stdout, out, func(tw *tabwriter.Writer) {
				row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
				row("ID", d.ID)
				row("Name", d.Name)
				row("Kind", string(d.Kind))
				row("Project", d.ProjectID)
				row("Created", fmtTime(&d.CreatedAt))
				row("Description", orDash(d.Description))
				row("Versions", fmt.Sprint(len(vs)))
				if out.Latest != nil {
					row("Latest", fmt.Sprintf("%s (%d items, lineage %s)", out.Latest.Version, out.Latest.Items, out.Latest.LineageHash))
				}
			})
		},
	}

	versions := &cobra.Command{
		Use:   "versions DATASET_ID",
		Short: "List a dataset's versions, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			vs, err := c.ListDatasetVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, vs, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "VERSION\tITEMS\tLINEAGE HASH\tCREATED\tURI")
				for _, v := range vs {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", v.Version, v.Items, v.LineageHash, fmtTime(&v.CreatedAt), v.URI)
				}
			})
		},
	}

	var exportVersion, exportOut string
	export := &cobra.Command{
		Use:   "export DATASET_ID",
		Short: "Write a version as JSONL (one document or record per line)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			return streamTo(env.Stdout, exportOut, func(w io.Writer) error {
				return c.ExportDataset(cmd.Context(), args[0], exportVersion, w)
			})
		},
	}
	export.Flags().StringVar(&exportVersion, "version", "latest", "version: semver, lineage hash or latest")
	export.Flags().StringVarP(&exportOut, "file", "f", "", "write to this file instead of stdout")

	var cardVersion, cardOut string
	card := &cobra.Command{
		Use:   "card DATASET_ID",
		Short: "Print a version's dataset card (Markdown)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			return streamTo(env.Stdout, cardOut, func(w io.Writer) error {
				return c.DatasetCard(cmd.Context(), args[0], cardVersion, w)
			})
		},
	}
	card.Flags().StringVar(&cardVersion, "version", "latest", "version: semver, lineage hash or latest")
	card.Flags().StringVarP(&cardOut, "file", "f", "", "write to this file instead of stdout")

	var cfgFile string
	var logs bool
	process := &cobra.Command{
		Use:   "process DATASET_ID",
		Short: "Process a dataset into a new version and print its lineage hash, redaction and dedup summary",
		Long: "Queues the processing job (redaction, dedup, normalisation, filters, weak labels; see\n" +
			"docs/DATASETS.md for the config file), follows it with a progress bar, then prints the\n" +
			"new version. The config file is JSON; without one every stage runs with its defaults.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			var cfg ingest.ProcessConfig
			if cfgFile != "" {
				raw, err := os.ReadFile(cfgFile)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--config: %w", err)}
				}
				dec := json.NewDecoder(strings.NewReader(string(raw)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&cfg); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--config %s: %w", cfgFile, err)}
				}
			}
			acc, err := c.ProcessDataset(cmd.Context(), args[0], cfg)
			if err != nil {
				return err
			}
			j, err := watchJob(cmd.Context(), c, acc.JobID, env.Stderr, logs)
			if err != nil {
				return err
			}
			if err := jobExit(j); err != nil {
				return err
			}
			var res struct {
				Version     string `json:"version"`
				LineageHash string `json:"lineage_hash"`
				Created     bool   `json:"created"`
			}
			_ = json.Unmarshal(j.Result, &res)
			v, err := c.DatasetVersion(cmd.Context(), args[0], firstNonBlank(res.Version, "latest"))
			if err != nil {
				return err
			}
			return printProcessed(env.Stdout, conn.output, v, res.Created)
		},
	}
	process.Flags().StringVar(&cfgFile, "config", "", "processing config (JSON file)")
	process.Flags().BoolVar(&logs, "logs", false, "print the job's log lines while following it")

	cmd.AddCommand(list, create, show, versions, export, card, process)
	return cmd
}

// printProcessed shows a processed version: its identity, then what
// redaction and dedup did.
func printProcessed(w io.Writer, output string, v api.VersionDetail, created bool) error {
	var rep ingest.ProcessReport
	if v.Version != nil && len(v.Report) > 0 {
		_ = json.Unmarshal(v.Report, &rep)
	}
	if output == "json" {
		return writeJobJSON(w, map[string]any{"version": v.Version, "created": created, "report": rep})
	}
	if v.Version == nil {
		return errors.New("the server returned no version")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) { fmt.Fprintf(tw, "%s:\t%s\n", k, val) }
	state := "new version"
	if !created {
		state = "unchanged (same lineage as an existing version)"
	}
	row("Version", fmt.Sprintf("%s — %s", v.Version.Version, state))
	row("URI", v.Version.URI)
	row("Lineage hash", v.Version.LineageHash)
	row("Items", fmt.Sprintf("%d kept of %d documents", v.Version.Items, max(rep.Documents, v.Version.Items)))
	red := fmt.Sprintf("%d spans in %d documents", rep.Redaction.Spans, len(rep.Redaction.Documents))
	if tc := rep.Redaction.TypeCounts(); tc != "" {
		red += " (" + tc + ")"
	}
	row("Redaction", red)
	row("Dedup", fmt.Sprintf("%d dropped in %d clusters (%d candidate pairs checked)", rep.Dedup.Dropped, len(rep.Dedup.Clusters), rep.Dedup.CandidatePairs))
	if len(rep.Filtered) > 0 {
		row("Filtered", fmt.Sprint(len(rep.Filtered)))
	}
	if rep.Boilerplate > 0 {
		row("Boilerplate", fmt.Sprintf("%d lines removed", rep.Boilerplate))
	}
	if v.Version.Items == 0 {
		row("Warning", "the version is empty: the quality filters or dedup dropped every document (see the card's filtered counts; an omitted check in a filters body is off)")
	}
	return tw.Flush()
}

// streamTo runs fn writing to the named file (created atomically: a failed
// export leaves no partial file), or to stdout when name is empty.
func streamTo(stdout io.Writer, name string, fn func(io.Writer) error) error {
	if name == "" {
		return fn(stdout)
	}
	tmp, err := os.CreateTemp(dirOf(name), ".whet-export-*")
	if err != nil {
		return err
	}
	if err := fn(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func dirOf(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[:i+1]
	}
	return "."
}

func firstNonBlank(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
