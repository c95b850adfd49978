package cli

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/ingest"
)

// ingestFlags are the flags every `whet ingest` subcommand shares.
type ingestFlags struct {
	dataset, name, schedule, accessTag string
	logs                               bool
}

func (f *ingestFlags) bind(cmd *cobra.Command, register bool) {
	cmd.Flags().StringVar(&f.dataset, "dataset", "", "dataset ID to ingest into (required)")
	cmd.Flags().StringVar(&f.accessTag, "access-tag", "", "access-policy tag stamped on every document (default internal)")
	cmd.Flags().BoolVar(&f.logs, "logs", false, "print the job's log lines while following it")
	if register {
		cmd.Flags().StringVar(&f.name, "name", "", "name for the registered source")
		cmd.Flags().StringVar(&f.schedule, "schedule", "", "cron schedule (5 fields) for later syncs; empty: on demand")
	}
}

func (f *ingestFlags) check() error {
	if f.dataset == "" {
		return &exitError{code: 2, err: errors.New("--dataset is required")}
	}
	return nil
}

func newIngestCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Bring documents into a dataset: upload a folder, or register and sync an API, database or bucket",
		Long: "`whet ingest folder` uploads files from this machine. The url, postgres, mysql and s3\n" +
			"commands register a source on the server and sync it as a job; `whet ingest sync` re-runs a\n" +
			"registered source (only changes are read). Secrets are passed as references (env:NAME or\n" +
			"file:PATH, resolved by the worker) or as values the server stores encrypted. Every command\n" +
			"follows its job with a progress bar. See docs/INGEST.md.",
	}
	conn.bind(cmd, env)
	cmd.AddCommand(newIngestFolderCmd(env, conn), newIngestURLCmd(env, conn), newIngestSQLCmd(env, conn, "postgres"),
		newIngestSQLCmd(env, conn, "mysql"), newIngestS3Cmd(env, conn), newIngestSyncCmd(env, conn))
	return cmd
}

func newIngestFolderCmd(env *Env, conn *apiConn) *cobra.Command {
	var fl ingestFlags
	var include, exclude []string
	cmd := &cobra.Command{
		Use:   "folder DIR",
		Short: "Upload the selected files of a local folder as one streamed request, then follow the ingestion job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fl.check(); err != nil {
				return err
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			if st, err := os.Stat(args[0]); err != nil || !st.IsDir() {
				return &exitError{code: 2, err: fmt.Errorf("%s is not a folder", args[0])}
			}
			// The folder connector selects the files, so the globs mean
			// exactly what they mean for a registered folder source.
			cfg, _ := json.Marshal(ingest.FolderConfig{Path: args[0], Include: include, Exclude: exclude})
			fc, err := ingest.NewConnector("folder", cfg, nil)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			root, _ := filepath.Abs(args[0])
			var files []api.UploadFile
			var total int64
			_, _, err = fc.Sync(cmd.Context(), nil, func(it ingest.Item) error {
				files = append(files, api.UploadFile{Name: it.Key, Body: &lazyFile{path: filepath.Join(root, filepath.FromSlash(it.Key))}})
				total += it.Size
				return nil
			})
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return &exitError{code: 2, err: fmt.Errorf("no files in %s match the include/exclude globs", args[0])}
			}
			fmt.Fprintf(env.Stderr, "uploading %d files (%s) from %s\n", len(files), humanBytes(total), args[0])
			if clash := baseNameClash(files); clash != "" {
				// The server keys uploaded files by base name; an archive
				// keeps the relative paths, so same-named files in
				// different folders stay apart.
				fmt.Fprintf(env.Stderr, "%s occurs in several folders: sending the files as one streamed .tar.gz to keep their paths\n", clash)
				files = []api.UploadFile{{Name: filepath.Base(root) + ".tar.gz", Body: tarStream(root, files)}}
			}
			acc, err := c.Upload(cmd.Context(), fl.dataset, fl.accessTag, files)
			if err != nil {
				return fmt.Errorf("upload to dataset %s: %w", fl.dataset, err)
			}
			return followIngest(cmd.Context(), env, conn, c, acc.JobID, "", fl.logs)
		},
	}
	fl.bind(cmd, false)
	cmd.Flags().StringArrayVar(&include, "include", nil, "glob of files to take (repeatable; ** spans folders)")
	cmd.Flags().StringArrayVar(&exclude, "exclude", nil, "glob of files to skip (repeatable)")
	return cmd
}

// baseNameClash returns a base name two selected files share, or "".
func baseNameClash(files []api.UploadFile) string {
	seen := map[string]bool{}
	for _, f := range files {
		b := path.Base(f.Name)
		if seen[b] {
			return b
		}
		seen[b] = true
	}
	return ""
}

// tarStream writes the files as a gzipped tar, produced while it is read.
func tarStream(root string, files []api.UploadFile) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		gz := gzip.NewWriter(pw)
		tw := tar.NewWriter(gz)
		err := func() error {
			for _, f := range files {
				p := filepath.Join(root, filepath.FromSlash(f.Name))
				st, err := os.Stat(p)
				if err != nil {
					return err
				}
				if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
					return err
				}
				fh, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.CopyN(tw, fh, st.Size())
				fh.Close()
				if err != nil {
					return fmt.Errorf("%s changed while uploading: %w", f.Name, err)
				}
			}
			if err := tw.Close(); err != nil {
				return err
			}
			return gz.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr
}

// lazyFile opens its file on the first Read and closes it at EOF, so a
// streamed upload of many files holds one descriptor at a time.
type lazyFile struct {
	path string
	f    *os.File
	done bool
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.f == nil {
		f, err := os.Open(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	n, err := l.f.Read(p)
	if err == io.EOF {
		l.f.Close()
		l.done = true
	}
	return n, err
}

func newIngestURLCmd(env *Env, conn *apiConn) *cobra.Command {
	var fl ingestFlags
	var cfg ingest.HTTPConfig
	var pg ingest.HTTPPagination
	var startPage int
	var tokenRef string
	var headers []string
	cmd := &cobra.Command{
		Use:   "url URL",
		Short: "Register a JSON REST API as a source and sync it",
		Example: "  whet ingest url https://support.example.com/api/tickets --dataset ds_123 \\\n" +
			"    --items-path data --id-field id --text-field subject --text-field body \\\n" +
			"    --metadata-field author --updated-field updated_at --since-param updated_since \\\n" +
			"    --pagination cursor --cursor-param after --cursor-path meta.next --token env:SUPPORT_TOKEN",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fl.check(); err != nil {
				return err
			}
			cfg.URL = args[0]
			if pg.Type != "" {
				if cmd.Flags().Changed("start-page") {
					pg.StartPage = &startPage
				}
				cfg.Pagination = &pg
			}
			secrets := map[string]string{}
			if tokenRef != "" {
				cfg.AuthHeader = "token"
				secrets["token"] = tokenRef
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return &exitError{code: 2, err: fmt.Errorf("--header %q: want Name: value", h)}
				}
				if cfg.Headers == nil {
					cfg.Headers = map[string]string{}
				}
				cfg.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			return registerAndSync(cmd.Context(), env, conn, fl, "http", cfg, secrets)
		},
	}
	fl.bind(cmd, true)
	f := cmd.Flags()
	f.StringVar(&cfg.Method, "method", "GET", "HTTP method (GET or POST)")
	f.StringArrayVar(&headers, "header", nil, "extra request header \"Name: value\" (repeatable)")
	f.StringVar(&tokenRef, "token", "", "API token: env:NAME, file:PATH or a value stored encrypted; sent as Authorization: Bearer")
	f.StringVar(&cfg.AuthHeaderName, "auth-header-name", "", "send the token in this header instead of Authorization (bare)")
	f.StringVar(&cfg.ItemsPath, "items-path", "", "dotted path of the items array in each response (default: the body)")
	f.StringVar(&cfg.IDField, "id-field", "id", "item field holding its stable ID")
	f.StringArrayVar(&cfg.TextFields, "text-field", nil, "item field that becomes document text (repeatable, required)")
	f.StringArrayVar(&cfg.MetadataFields, "metadata-field", nil, "item field copied to metadata (repeatable)")
	f.StringVar(&cfg.URLField, "url-field", "", "item field holding its web URL (for citations)")
	f.StringVar(&cfg.UpdatedField, "updated-field", "", "item field with its last-update time: makes syncs incremental")
	f.StringVar(&cfg.SinceParam, "since-param", "", "query parameter that asks the API for items updated after the cursor")
	f.StringVar(&pg.Type, "pagination", "", "cursor, link or page")
	f.StringVar(&pg.CursorParam, "cursor-param", "", "query parameter carrying the next cursor")
	f.StringVar(&pg.CursorPath, "cursor-path", "", "dotted path of the next cursor in a response")
	f.StringVar(&pg.PageParam, "page-param", "", "query parameter carrying the page number")
	f.IntVar(&startPage, "start-page", 1, "first page number")
	f.StringVar(&pg.PageSizeParam, "page-size-param", "", "query parameter carrying the page size")
	f.IntVar(&pg.PageSize, "page-size", 0, "items per page")
	f.IntVar(&pg.MaxPages, "max-pages", 0, "stop after this many pages (default 10000)")
	return cmd
}

func newIngestSQLCmd(env *Env, conn *apiConn, flavor string) *cobra.Command {
	var fl ingestFlags
	var cfg ingest.SQLConfig
	example := "  whet ingest postgres env:CRM_DSN --dataset ds_123 \\\n" +
		"    --query 'SELECT id, subject, body, author, updated_at FROM tickets' \\\n" +
		"    --text-column subject --text-column body --incremental-column updated_at"
	if flavor == "mysql" {
		example = strings.ReplaceAll(strings.ReplaceAll(example, "postgres", "mysql"), "CRM_DSN", "SHOP_DSN")
	}
	cmd := &cobra.Command{
		Use:     flavor + " DSN",
		Short:   "Register a " + map[string]string{"postgres": "PostgreSQL", "mysql": "MySQL/MariaDB"}[flavor] + " query as a source and sync it",
		Long:    "The DSN is a secret: pass env:NAME or file:PATH to keep it on the worker, or the DSN itself,\nwhich the server stores encrypted (WHET_SECRET_KEY) and never returns.",
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fl.check(); err != nil {
				return err
			}
			if cfg.Query == "" {
				return &exitError{code: 2, err: errors.New("--query is required")}
			}
			cfg.DSNSecret = "dsn"
			return registerAndSync(cmd.Context(), env, conn, fl, flavor, cfg, map[string]string{"dsn": args[0]})
		},
	}
	fl.bind(cmd, true)
	f := cmd.Flags()
	f.StringVar(&cfg.Query, "query", "", "query selecting the id, text and metadata columns (required)")
	f.StringVar(&cfg.IDColumn, "id-column", "", "column holding the row ID (default id)")
	f.StringArrayVar(&cfg.TextColumns, "text-column", nil, "column that becomes document text (repeatable; default text)")
	f.StringVar(&cfg.IncrementalColumn, "incremental-column", "", "updated-at or growing id column: later syncs read only newer rows")
	f.IntVar(&cfg.BatchSize, "batch-size", 0, "rows per query (default 500)")
	return cmd
}

func newIngestS3Cmd(env *Env, conn *apiConn) *cobra.Command {
	var fl ingestFlags
	var cfg ingest.S3Config
	var insecure bool
	var accessRef, secretRef string
	cmd := &cobra.Command{
		Use:     "s3 s3://BUCKET/PREFIX",
		Short:   "Register an S3-compatible bucket prefix as a source and sync it",
		Example: "  whet ingest s3 s3://corp-docs/policies/ --dataset ds_123 --endpoint minio.local:9000 --path-style \\\n    --access-key env:S3_KEY --secret-key env:S3_SECRET --include '**/*.pdf'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fl.check(); err != nil {
				return err
			}
			u, err := url.Parse(args[0])
			if err != nil || u.Scheme != "s3" || u.Host == "" {
				return &exitError{code: 2, err: fmt.Errorf("%q: want s3://bucket/prefix", args[0])}
			}
			cfg.Bucket, cfg.Prefix = u.Host, strings.TrimPrefix(u.Path, "/")
			if insecure {
				no := false
				cfg.Secure = &no
			}
			secrets := map[string]string{}
			if (accessRef == "") != (secretRef == "") {
				return &exitError{code: 2, err: errors.New("--access-key and --secret-key go together")}
			}
			if accessRef != "" {
				cfg.AccessKeySecret, cfg.SecretKeySecret = "access_key", "secret_key"
				secrets["access_key"], secrets["secret_key"] = accessRef, secretRef
			}
			return registerAndSync(cmd.Context(), env, conn, fl, "s3", cfg, secrets)
		},
	}
	fl.bind(cmd, true)
	f := cmd.Flags()
	f.StringVar(&cfg.Endpoint, "endpoint", "", "S3 endpoint host[:port] (default s3.amazonaws.com)")
	f.StringVar(&cfg.Region, "region", "", "bucket region")
	f.BoolVar(&cfg.PathStyle, "path-style", false, "path-style bucket addressing (MinIO and most self-hosted stores)")
	f.BoolVar(&insecure, "insecure", false, "plain http to the endpoint")
	f.StringVar(&accessRef, "access-key", "", "access key: env:NAME, file:PATH or a value stored encrypted")
	f.StringVar(&secretRef, "secret-key", "", "secret key: env:NAME, file:PATH or a value stored encrypted")
	f.StringArrayVar(&cfg.Include, "include", nil, "glob of keys (relative to the prefix) to take (repeatable)")
	f.StringArrayVar(&cfg.Exclude, "exclude", nil, "glob of keys to skip (repeatable)")
	return cmd
}

func newIngestSyncCmd(env *Env, conn *apiConn) *cobra.Command {
	var logs bool
	cmd := &cobra.Command{
		Use:   "sync SOURCE_ID",
		Short: "Sync a registered source now (reads only what changed since its last sync)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			acc, err := c.SyncSource(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return followIngest(cmd.Context(), env, conn, c, acc.JobID, args[0], logs)
		},
	}
	cmd.Flags().BoolVar(&logs, "logs", false, "print the job's log lines while following it")
	return cmd
}

// registerAndSync registers a source of the given type and follows its
// first sync.
func registerAndSync(ctx context.Context, env *Env, conn *apiConn, fl ingestFlags, typ string, cfg any, secrets map[string]string) error {
	c, err := conn.client()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		secrets = nil
	}
	src, err := c.RegisterSource(ctx, fl.dataset, ingest.SourceSpec{Type: typ, Name: fl.name, Config: raw, Schedule: fl.schedule,
		AccessTag: fl.accessTag, Secrets: secrets})
	if err != nil {
		return fmt.Errorf("register %s source on dataset %s: %w", typ, fl.dataset, err)
	}
	fmt.Fprintf(env.Stderr, "registered %s source %s on dataset %s\n", typ, src.ID, fl.dataset)
	acc, err := c.SyncSource(ctx, src.ID)
	if err != nil {
		return err
	}
	return followIngest(ctx, env, conn, c, acc.JobID, src.ID, fl.logs)
}

// followIngest watches an ingestion job and prints what it did.
func followIngest(ctx context.Context, env *Env, conn *apiConn, c *api.Client, jobID, sourceID string, logs bool) error {
	j, err := watchJob(ctx, c, jobID, env.Stderr, logs)
	if err != nil {
		return err
	}
	var res ingest.SyncResult
	_ = json.Unmarshal(j.Result, &res)
	if conn.output == "json" {
		if err := writeJobJSON(env.Stdout, map[string]any{"job_id": j.ID, "status": j.Status, "source_id": sourceID, "result": j.Result, "error": j.Error}); err != nil {
			return err
		}
		return jobExit(j)
	}
	if j.Status == "succeeded" {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		if sourceID != "" {
			fmt.Fprintf(tw, "Source:\t%s\n", sourceID)
		}
		fmt.Fprintf(tw, "Job:\t%s\n", j.ID)
		fmt.Fprintf(tw, "Files:\t%d (%d added, %d revised, %d unchanged, %d duplicate, %d errors)\n",
			res.Files, res.Added, res.Revised, res.Unchanged, res.Duplicate, res.Errors)
		if res.Records > 0 {
			fmt.Fprintf(tw, "Records:\t%d\n", res.Records)
		}
		if res.Tombstoned > 0 {
			fmt.Fprintf(tw, "Tombstoned:\t%d\n", res.Tombstoned)
		}
		for _, r := range res.Results {
			if r.Status == "error" {
				fmt.Fprintf(tw, "  error:\t%s: %s\n", r.Name, r.Error)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return jobExit(j)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
