package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
)

// reqInfo is filled in as a request passes through the layers and read by
// the access log and metrics once it is done.
type reqInfo struct {
	id     string
	route  string
	actor  string
	org    string
	status int
}

type reqInfoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	ri, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return ri
}

// RequestID returns the request id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets SSE handlers stream through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// middleware wraps the mux with request ids, panic recovery, the access
// log and metrics. Authentication and rate limits run inside huma (see
// authMiddleware) where each operation says whether it is public.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: r.Header.Get("X-Request-Id")}
		if !validRequestID(ri.id) {
			ri.id = newRequestID()
		}
		w.Header().Set("X-Request-Id", ri.id)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("api: panic", "request_id", ri.id, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					writeProblem(sw, http.StatusInternalServerError, "internal error (request id "+ri.id+")")
				}
			}
			ri.status = sw.status
			if ri.status == 0 {
				ri.status = http.StatusOK
			}
			if ri.route == "" {
				ri.route = r.Pattern
			}
			if ri.route == "" {
				ri.route = "unmatched"
			}
			d := time.Since(start)
			s.metrics.observe(r.Method, ri.route, ri.status, d)
			level := slog.LevelInfo
			if ri.status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", ri.id), slog.String("method", r.Method), slog.String("route", ri.route),
				slog.Int("status", ri.status), slog.Float64("ms", math.Round(float64(d.Microseconds()))/1000),
				slog.String("actor", ri.actor), slog.String("org", ri.org), slog.String("remote", r.RemoteAddr))
		}()
		if r.Method == http.MethodGet && r.URL.Path == "/v1/projects" && s.pages != nil {
			ri.route = "GET /v1/projects"
			served, rec, commit := s.serveProjectPage(sw, r, ri)
			if served {
				return
			}
			if rec != nil {
				next.ServeHTTP(rec, r)
				commit()
				return
			}
		}
		if _, pattern := s.mux.Handler(r); pattern == "" {
			s.unmatched(sw, r)
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// unmatched answers a request no route matches (404, or 405 with Allow)
// with problem+json instead of the mux's plain text.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	cw := &captureWriter{h: http.Header{}}
	h.ServeHTTP(cw, r)
	if cw.code >= 300 && cw.code < 400 {
		// the mux redirects to a cleaned path; let it
		h.ServeHTTP(w, r)
		return
	}
	if cw.code == 0 {
		cw.code = http.StatusNotFound
	}
	if allow := cw.h.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	detail := "no such endpoint; see /openapi.json"
	if cw.code == http.StatusMethodNotAllowed {
		detail = "method not allowed on this endpoint"
	}
	writeProblem(w, cw.code, detail)
}

// captureWriter records the status and headers of the mux's own error
// answers and drops their plain-text bodies.
type captureWriter struct {
	h    http.Header
	code int
}

func (c *captureWriter) Header() http.Header { return c.h }

func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return len(b), nil
}

// writeProblem writes a minimal problem+json body outside huma.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)
}

func remoteAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, _ := netip.ParseAddr(host)
	return a
}

// authMiddleware authenticates every non-public operation, records the
// caller for logs, and applies the caller's rate limit.
func (s *Server) authMiddleware(api huma.API) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		ri := infoFrom(ctx.Context())
		if ri != nil && op != nil {
			ri.route = op.Method + " " + op.Path
		}
		if op != nil && op.Metadata["public"] == true {
			next(ctx)
			return
		}
		p, err := s.auth.Authenticate(ctx.Context(), ctx.Header("Authorization"), remoteAddr(ctx.RemoteAddr()))
		if err != nil {
			switch {
			case errors.Is(err, auth.ErrUnauthenticated):
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="whet"`)
				huma.WriteErr(api, ctx, http.StatusUnauthorized, "missing, malformed, expired, revoked or unknown credentials")
			case errors.Is(err, auth.ErrIPDenied):
				huma.WriteErr(api, ctx, http.StatusForbidden, "your address is not allowed to call this organisation")
			case errors.Is(err, auth.ErrForbidden):
				huma.WriteErr(api, ctx, http.StatusForbidden, "the token carries no usable role")
			default:
				s.log.Error("api: authenticate", "err", err, "request_id", RequestID(ctx.Context()))
				huma.WriteErr(api, ctx, http.StatusServiceUnavailable, "authentication is temporarily unavailable")
			}
			return
		}
		if ri != nil {
			ri.actor, ri.org = p.ActorID, p.OrgID
		}
		if ok, wait := s.auth.Allow(p); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			ctx.SetHeader("Retry-After", strconv.Itoa(max(1, secs)))
			huma.WriteErr(api, ctx, http.StatusTooManyRequests, "rate limit exceeded for this key; retry later")
			return
		}
		next(huma.WithValue(ctx, principalCtxKey{}, p))
	}
}

type principalCtxKey struct{}

// principal returns the authenticated caller of a non-public operation.
func principal(ctx context.Context) *auth.Principal {
	if p, ok := ctx.Value(principalCtxKey{}).(*auth.Principal); ok {
		return p
	}
	return auth.FromContext(ctx)
}
