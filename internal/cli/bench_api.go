package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
)

// benchAPIResult is one phase of `whet bench api`.
type benchAPIResult struct {
	Backend  string  `json:"backend"`
	Op       string  `json:"op"`
	Conns    int     `json:"conns"`
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

func newBenchAPICmd(env *Env) *cobra.Command {
	var duration time.Duration
	var conns, seed int
	var dbURL, ops string
	var asJSON bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Load-test authenticated GET and POST /v1/projects against an in-process server",
		Long: "bench api starts a whet API server on a loopback port (SQLite in a temporary directory,\n" +
			"or --db postgres://…), creates an owner key, then drives GET /v1/projects and\n" +
			"POST /v1/projects from --conns concurrent keep-alive connections for --duration each,\n" +
			"and reports requests per second and p50/p99 latency. Rate limits are off for the run.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var db *store.DB
			var err error
			if dbURL == "" {
				dir, err := os.MkdirTemp("", "whet-bench-api-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				db, err = store.Open(ctx, "", dir)
				if err != nil {
					return err
				}
			} else if db, err = store.Open(ctx, dbURL, ""); err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				return err
			}
			al := audit.New(db, nil)
			as, err := auth.NewService(ctx, db, al, auth.Options{})
			if err != nil {
				return err
			}
			defer as.Close()
			res, err := as.Bootstrap(ctx, "")
			if err != nil {
				return err
			}
			owner := &auth.Principal{OrgID: res.Org.ID, ActorID: "bench", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()}
			_, token, err := as.CreateKey(ctx, owner, auth.NewAPIKey{Name: "bench " + time.Now().UTC().Format(time.RFC3339), Role: auth.RoleOwner})
			if err != nil {
				return err
			}
			srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Logger: slog.New(slog.DiscardHandler)})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(ln)
			defer hs.Close()
			base := "http://" + ln.Addr().String()
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true}, Timeout: 30 * time.Second}
			c := api.NewClient(base, token)
			c.HTTP = client
			run := fmt.Sprintf("%x", time.Now().UnixNano())
			for i := 0; i < seed; i++ {
				if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: fmt.Sprintf("seed-%s-%d", run, i)}); err != nil {
					return err
				}
			}
			backend := db.Dialect.String()
			var results []benchAPIResult
			var counter atomic.Int64
			phases := map[string]func() (*http.Request, error){
				"GET /v1/projects": func() (*http.Request, error) {
					return http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/projects?limit=20", nil)
				},
				"POST /v1/projects": func() (*http.Request, error) {
					body, _ := json.Marshal(api.ProjectCreate{Name: fmt.Sprintf("bench-%s-%d", run, counter.Add(1))})
					r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/projects", bytes.NewReader(body))
					if err == nil {
						r.Header.Set("Content-Type", "application/json")
					}
					return r, err
				},
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			for _, op := range []string{"GET /v1/projects", "POST /v1/projects"} {
				if (ops == "get" && op[0] != 'G') || (ops == "post" && op[0] != 'P') {
					continue
				}
				r := loadPhase(ctx, client, token, phases[op], conns, duration)
				r.Backend, r.Op = backend, op
				results = append(results, r)
				if !asJSON {
					fmt.Fprintf(env.Stdout, "%-8s %-18s conns=%d  %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%d requests, %d errors, %.1fs)\n",
						r.Backend, r.Op, r.Conns, r.RPS, r.P50ms, r.P99ms, r.MaxMs, r.Requests, r.Errors, r.Seconds)
				}
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 20*time.Second, "how long each phase runs")
	cmd.Flags().IntVar(&conns, "conns", 64, "concurrent connections")
	cmd.Flags().IntVar(&seed, "seed-projects", 20, "projects created before the read phase")
	cmd.Flags().StringVar(&dbURL, "db", "", "metadata database (default: SQLite in a temporary directory)")
	cmd.Flags().StringVar(&ops, "ops", "both", "get, post or both")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print results as JSON")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the load phases (client and server) to this file")
	return cmd
}

// loadPhase runs newReq from conns goroutines for d and measures latency.
func loadPhase(ctx context.Context, client *http.Client, token string, newReq func() (*http.Request, error), conns int, d time.Duration) benchAPIResult {
	var wg sync.WaitGroup
	var errs atomic.Int64
	lat := make([][]time.Duration, conns)
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, err := newReq()
				if err != nil {
					errs.Add(1)
					continue
				}
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode >= 300 {
					errs.Add(1)
				}
			}
			lat[i] = local
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	return benchAPIResult{Conns: conns, Seconds: elapsed.Seconds(), Requests: int64(len(all)), Errors: errs.Load(),
		RPS: float64(len(all)) / elapsed.Seconds(), P50ms: q(0.50), P99ms: q(0.99), MaxMs: q(1)}
}
