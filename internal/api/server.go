package api

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/store"
)

// Version is reported in the OpenAPI document.
const Version = "0.1.0"

// DefaultMaxBodyBytes bounds request bodies when Deps.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Deps are what the server is built from; the composition root (cli serve)
// fills them in.
type Deps struct {
	DB    *store.DB
	Auth  *auth.Service
	Audit *audit.Log
	Jobs  *jobs.Queue // nil: job routes answer 503
	Blob  blob.Store  // may be nil until a route needs it
	// Datasets and Ingest serve the dataset routes (nil: they answer 503).
	Datasets *dataset.Service
	Ingest   *ingest.Ingester
	// Indexes serves the retrieval routes (nil: they answer 503).
	Indexes *rag.Service
	// Training serves training runs and the model registry (nil: 503).
	Training *finetune.Service
	Logger   *slog.Logger
	// MaxBodyBytes bounds every request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is whet's HTTP API.
type Server struct {
	db       *store.DB
	auth     *auth.Service
	audit    *audit.Log
	jobs     *jobs.Queue
	blob     blob.Store
	datasets *dataset.Service
	ingest   *ingest.Ingester
	indexes  *rag.Service
	training *finetune.Service
	log      *slog.Logger
	now      func() time.Time
	maxBody  int64

	mux     *http.ServeMux
	api     huma.API
	metrics *metrics
	handler http.Handler
	pages   *projectPages // GET /v1/projects answers, see projectcache.go
}

// New builds the server and registers every route.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{db: d.DB, auth: d.Auth, audit: d.Audit, jobs: d.Jobs, blob: d.Blob, datasets: d.Datasets, ingest: d.Ingest, indexes: d.Indexes, training: d.Training, log: d.Logger, now: d.Now, maxBody: d.MaxBodyBytes, mux: http.NewServeMux()}
	s.metrics = newMetrics(s.jobs)
	s.pages = newProjectPages(d.Now)
	if s.indexes != nil {
		s.metrics.reg.MustRegister(newIndexCollector(s.indexes))
	}

	cfg := huma.DefaultConfig("whet API", Version)
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaNamer)
	cfg.Info.Description = "whet turns an organisation's documents into a governed, fine-tuned, retrieval-grounded LLM endpoint."
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key (whet_<key id>_<secret>), a whet access token from POST /v1/auth/token, or a JWT from the configured OIDC issuer."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	s.api = humago.New(s.mux, cfg)
	s.api.UseMiddleware(s.authMiddleware(s.api))

	s.registerHealth(s.api)
	s.registerAuth(s.api)
	s.registerOrg(s.api)
	s.registerProjects(s.api)
	s.registerUsers(s.api)
	s.registerKeys(s.api)
	s.registerAudit(s.api)
	s.registerJobs(s.api)
	s.registerDatasets(s.api)
	s.registerIndexes(s.api)
	s.registerTraining(s.api)
	s.registerModels(s.api)

	s.handler = s.middleware(s.mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Registry returns the Prometheus registry served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

var apiPkgPath = reflect.TypeFor[Server]().PkgPath()

// schemaNamer names OpenAPI component schemas after their Go types; a type
// from another package gets that package's name as a prefix, so that
// dedup.Config and pii.Config don't collide.
func schemaNamer(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	bt := t
	for bt.Kind() == reflect.Pointer || bt.Kind() == reflect.Slice || bt.Kind() == reflect.Array || bt.Kind() == reflect.Map {
		bt = bt.Elem()
	}
	pkg := bt.PkgPath()
	if pkg == "" || pkg == apiPkgPath || bt.Name() == "" {
		return name
	}
	base := path.Base(pkg)
	prefix := strings.ToUpper(base[:1]) + base[1:]
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return prefix + name
}

// public marks an operation that needs no credentials.
func public(op huma.Operation) huma.Operation {
	op.Security = []map[string][]string{}
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata["public"] = true
	return op
}

// ctxTimeout bounds a store call made on behalf of a request.
func ctxTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 30*time.Second)
}
