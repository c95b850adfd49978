package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// register adds an operation with the server's body size limit.
func register[I, O any](s *Server, api huma.API, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = s.maxBody
	}
	huma.Register(api, op, h)
}

// Empty is the output of operations that answer without a body.
type Empty struct{}

// idPath is a path parameter holding an object id.
type idPath struct {
	ID string `path:"id" maxLength:"64"`
}

// Status is the body of /healthz and /readyz.
type Status struct {
	Status string `json:"status"`
}

type statusOutput struct{ Body Status }

func (s *Server) registerHealth(api huma.API) {
	register(s, api, public(huma.Operation{OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Summary: "Liveness", Tags: []string{"health"}}),
		func(ctx context.Context, _ *struct{}) (*statusOutput, error) {
			return &statusOutput{Body: Status{Status: "ok"}}, nil
		})
	register(s, api, public(huma.Operation{OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Summary: "Readiness: the metadata database answers", Tags: []string{"health"}}),
		func(ctx context.Context, _ *struct{}) (*statusOutput, error) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := s.db.SQL.PingContext(ctx); err != nil {
				s.log.Warn("api: readyz: database ping failed", "err", err)
				return nil, huma.Error503ServiceUnavailable("metadata database not reachable")
			}
			return &statusOutput{Body: Status{Status: "ready"}}, nil
		})
	register(s, api, public(huma.Operation{OperationID: "metrics", Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics (text exposition format)", Tags: []string{"health"}}),
		func(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				r, w := unwrap(hctx)
				promHandler(s.metrics.reg).ServeHTTP(w, r)
			}}, nil
		})
}
