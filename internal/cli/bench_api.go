package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
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
	Client   string  `json:"client"`
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
	var cpuProfile, client string
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Load-test authenticated GET and POST /v1/projects against an in-process server",
		Long: "bench api starts a whet API server on a loopback port (SQLite in a temporary directory,\n" +
			"or --db postgres://…), creates an owner key, then drives GET /v1/projects and\n" +
			"POST /v1/projects from --conns concurrent keep-alive connections for --duration each,\n" +
			"and reports requests per second and p50/p99 latency. Rate limits are off for the run.\n" +
			"The load generator shares the process (and the CPUs) with the server: --client raw\n" +
			"(default) writes pre-built HTTP/1.1 requests on keep-alive connections and reads each\n" +
			"response by Content-Length or chunked framing, as wrk does; --client http uses\n" +
			"net/http's client, which costs several times more CPU per request.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if client != "raw" && client != "http" {
				return fmt.Errorf("bench api: --client must be raw or http, not %q", client)
			}
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
			// The server logs as `whet serve` does by default (JSON, info:
			// one line per request), into io.Discard.
			srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(ln)
			defer hs.Close()
			base := "http://" + ln.Addr().String()
			httpClient := &http.Client{Transport: &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true}, Timeout: 30 * time.Second}
			c := api.NewClient(base, token)
			c.HTTP = httpClient
			run := fmt.Sprintf("%x", time.Now().UnixNano())
			for i := 0; i < seed; i++ {
				if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: fmt.Sprintf("seed-%s-%d", run, i)}); err != nil {
					return err
				}
			}
			backend := db.Dialect.String()
			var results []benchAPIResult
			var counter atomic.Int64
			host := ln.Addr().String()
			phases := map[string]benchRequest{
				"GET /v1/projects": func() (*http.Request, []byte, error) {
					if client == "http" {
						r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/projects?limit=20", nil)
						return r, nil, err
					}
					return nil, []byte("GET /v1/projects?limit=20 HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n\r\n"), nil
				},
				"POST /v1/projects": func() (*http.Request, []byte, error) {
					body, _ := json.Marshal(api.ProjectCreate{Name: fmt.Sprintf("bench-%s-%d", run, counter.Add(1))})
					if client == "http" {
						r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/projects", bytes.NewReader(body))
						if err == nil {
							r.Header.Set("Content-Type", "application/json")
						}
						return r, nil, err
					}
					return nil, fmt.Appendf(nil, "POST /v1/projects HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, token, len(body), body), nil
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
				var r benchAPIResult
				if client == "http" {
					r = loadPhase(ctx, httpClient, token, phases[op], conns, duration)
				} else {
					r = rawLoadPhase(ctx, host, phases[op], conns, duration)
				}
				r.Backend, r.Op, r.Client = backend, op, client
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
	cmd.Flags().StringVar(&client, "client", "raw", "load generator: raw (HTTP/1.1 on net.Conn) or http (net/http client)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the load phases (client and server) to this file")
	return cmd
}

// benchRequest builds the next request: a *http.Request for the net/http
// client or the raw bytes of an HTTP/1.1 request for the raw one.
type benchRequest func() (*http.Request, []byte, error)

// loadPhase runs newReq from conns goroutines for d and measures latency.
func loadPhase(ctx context.Context, client *http.Client, token string, newReq benchRequest, conns int, d time.Duration) benchAPIResult {
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
				req, _, err := newReq()
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
	return summarise(lat, errs.Load(), conns, time.Since(start))
}

// summarise merges per-connection latencies into a result.
func summarise(lat [][]time.Duration, errs int64, conns int, elapsed time.Duration) benchAPIResult {
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
	return benchAPIResult{Conns: conns, Seconds: elapsed.Seconds(), Requests: int64(len(all)), Errors: errs,
		RPS: float64(len(all)) / elapsed.Seconds(), P50ms: q(0.50), P99ms: q(0.99), MaxMs: q(1)}
}

// rawLoadPhase drives the server from conns keep-alive connections, each
// writing the bytes newReq builds and reading the response by its framing.
func rawLoadPhase(ctx context.Context, addr string, newReq benchRequest, conns int, d time.Duration) benchAPIResult {
	var wg sync.WaitGroup
	var errs atomic.Int64
	lat := make([][]time.Duration, conns)
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<16)
			var rc *rawConn
			defer func() {
				if rc != nil {
					rc.c.Close()
				}
			}()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if rc == nil {
					c, err := net.DialTimeout("tcp", addr, 5*time.Second)
					if err != nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					rc = &rawConn{c: c, br: bufio.NewReaderSize(c, 16<<10)}
				}
				_, req, err := newReq()
				if err != nil {
					errs.Add(1)
					continue
				}
				t0 := time.Now()
				rc.c.SetDeadline(t0.Add(30 * time.Second))
				status, keep, err := rc.roundTrip(req)
				if err != nil {
					errs.Add(1)
					rc.c.Close()
					rc = nil
					continue
				}
				local = append(local, time.Since(t0))
				if status >= 300 {
					errs.Add(1)
				}
				if !keep {
					rc.c.Close()
					rc = nil
				}
			}
			lat[i] = local
		}(i)
	}
	wg.Wait()
	return summarise(lat, errs.Load(), conns, time.Since(start))
}

// rawConn is one keep-alive HTTP/1.1 connection of the raw load generator.
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

var errBadResponse = errors.New("bench api: malformed HTTP response")

// roundTrip writes req and reads one response, discarding its body. It
// reports the status and whether the connection may be reused.
func (rc *rawConn) roundTrip(req []byte) (status int, keepAlive bool, err error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, false, err
	}
	return readRawResponse(rc.br)
}

// readRawResponse reads one HTTP/1.1 response from br: status line,
// headers, and a body framed by Content-Length or chunked encoding.
func readRawResponse(br *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errBadResponse
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errBadResponse
	}
	keepAlive = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, errBadResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, errBadResponse
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keepAlive = false
			}
		}
	}
	switch {
	case chunked:
		for {
			line, err = br.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
			n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
			if err != nil || n < 0 {
				return 0, false, errBadResponse
			}
			if n == 0 {
				for { // trailers, then the blank line
					line, err = br.ReadSlice('\n')
					if err != nil {
						return 0, false, err
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						return status, keepAlive, nil
					}
				}
			}
			if _, err := br.Discard(int(n) + 2); err != nil {
				return 0, false, err
			}
		}
	case length >= 0:
		if _, err := br.Discard(int(length)); err != nil {
			return 0, false, err
		}
	case status == http.StatusNoContent || status == http.StatusNotModified || status < 200:
	default:
		return status, false, errBadResponse // body until close: not used by whet
	}
	return status, keepAlive, nil
}
