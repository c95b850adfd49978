package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob"
	_ "github.com/whet-dev/whet/internal/blob/local" // registers file://
	_ "github.com/whet-dev/whet/internal/blob/s3"    // registers s3://
	"github.com/whet-dev/whet/internal/config"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/store"
)

// platform is everything serve and worker build from the config: the
// composition root of whet's services.
type platform struct {
	cfg      *config.Config
	log      *slog.Logger
	db       *store.DB
	blob     blob.Store
	audit    *audit.Log
	jobs     *jobs.Queue
	datasets *dataset.Service
	ingest   *ingest.Ingester
	indexes  *rag.Service
	training *finetune.Service
}

// openPlatform opens the metadata database (applying migrations), the
// object store and the job queue, and registers every job kind.
func openPlatform(ctx context.Context, env *Env, cfg *config.Config, log *slog.Logger) (*platform, error) {
	if cfg.Data != "" {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := store.Open(ctx, cfg.DB, cfg.Data)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	bs, err := blob.Open(ctx, cfg.Blob, cfg.Data, blob.Credentials{AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey, SessionToken: cfg.S3SessionToken})
	if err != nil {
		db.Close()
		return nil, err
	}
	p := &platform{cfg: cfg, log: log, db: db, blob: bs, audit: audit.New(db, nil)}
	p.jobs = jobs.New(db, jobs.Options{Logger: log, Audit: p.audit, Blob: bs, LeaseTTL: cfg.LeaseTTL, ShutdownGrace: cfg.ShutdownTimeout})
	p.datasets = dataset.NewService(db, bs, p.audit, nil)
	if p.ingest, err = ingest.NewIngester(db, p.audit, p.datasets); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.SecretKey != "" {
		p.ingest.SecretKey = []byte(cfg.SecretKey)
	}
	p.ingest.RegisterJobs(p.jobs)
	indexDir := filepath.Join(cfg.Data, "indexes")
	p.indexes = &rag.Service{DB: db, Datasets: p.datasets, Audit: p.audit, Dir: indexDir, Lookup: env.Lookup}
	p.indexes.RegisterJobs(p.jobs)
	p.training = &finetune.Service{DB: db, Blob: bs, Datasets: p.datasets, Jobs: p.jobs, Audit: p.audit, Logger: log,
		Resolve: serverHubResolver(env, cfg)}
	p.training.RegisterJobs(p.jobs)
	log.Info("platform ready", "db", db.Dialect.String(), "blob", fmt.Sprint(bs), "job_kinds", p.jobs.Kinds())
	return p, nil
}

func (p *platform) close() { p.db.Close() }

// apiServer builds the API handler on the platform's services: whet serve
// and the quickstart serve the same routes.
func (p *platform) apiServer(as *auth.Service, log *slog.Logger) *api.Server {
	return api.New(api.Deps{DB: p.db, Auth: as, Audit: p.audit, Jobs: p.jobs, Blob: p.blob, Datasets: p.datasets, Ingest: p.ingest,
		Indexes: p.indexes, Training: p.training, Logger: log, MaxBodyBytes: p.cfg.MaxBodyBytes})
}

func authOptions(cfg *config.Config, log *slog.Logger) auth.Options {
	o := auth.Options{Issuer: cfg.Issuer, TokenTTL: cfg.TokenTTL, KeyCacheTTL: cfg.KeyCacheTTL, RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, Logger: log}
	if cfg.OIDCIssuer != "" {
		o.OIDC = &auth.OIDCConfig{Issuer: cfg.OIDCIssuer, JWKSURL: cfg.OIDCJWKSURL, Audience: cfg.OIDCAudience,
			UserClaim: cfg.OIDCUserClaim, OrgClaim: cfg.OIDCOrgClaim, RoleClaim: cfg.OIDCRoleClaim}
	}
	return o
}

func newServeCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server with in-process job workers",
		Long: "serve starts the HTTP API (OpenAPI at /openapi.json, health at /healthz and /readyz,\n" +
			"Prometheus metrics at /metrics) and in-process job workers. Embedded defaults keep\n" +
			"everything in --data; --db postgres://… and --blob s3://… switch to shared backends.\n" +
			"SIGTERM drains in-flight requests and hands running jobs' leases back.",
		Example: "  whet serve --data ./whet-data --addr 127.0.0.1:8080\n" +
			"  whet serve --db postgres://whet@db/whet --blob 's3://whet?endpoint=minio:9000&region=us-east-1'",
		Args: cobra.NoArgs,
	}
	cf := bindConfigFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load(cmd, env)
		if err != nil {
			return err
		}
		return runServe(cmd.Context(), env, cfg)
	}
	return cmd
}

func runServe(ctx context.Context, env *Env, cfg *config.Config) error {
	log := newLogger(env, cfg.LogLevel)
	p, err := openPlatform(ctx, env, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	as, err := auth.NewService(ctx, p.db, p.audit, authOptions(cfg, log))
	if err != nil {
		return err
	}
	defer as.Close()
	if err := bootstrap(ctx, env, cfg, as, log); err != nil {
		return err
	}
	srv := p.apiServer(as, log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "url", "http://"+ln.Addr().String())

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	if cfg.Workers > 0 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := p.jobs.Work(workCtx, cfg.Workers); err != nil {
				log.Error("workers stopped", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			p.ingest.RunScheduler(workCtx, p.jobs, log)
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests and handing back job leases", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	herr := hs.Shutdown(sctx)
	stopWork()
	wg.Wait()
	if herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", herr)
	}
	log.Info("stopped")
	return nil
}

// bootstrap creates organisation default on first start and prints the
// generated owner token once (also saved to DATA/admin.token, mode 0600).
func bootstrap(ctx context.Context, env *Env, cfg *config.Config, as *auth.Service, log *slog.Logger) error {
	res, err := as.Bootstrap(ctx, cfg.AdminToken)
	if err != nil {
		return err
	}
	if res.Token == "" {
		return nil
	}
	if cfg.Data != "" {
		path := filepath.Join(cfg.Data, "admin.token")
		if err := os.WriteFile(path, []byte(res.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("write admin token: %w", err)
		}
		log.Info("owner key created", "key_id", res.KeyID, "saved_to", path)
	}
	fmt.Fprintf(env.Stdout, "whet: created organisation %q with an owner key; this token is shown once:\n\n  %s\n\n", auth.DefaultOrgName, res.Token)
	return nil
}
