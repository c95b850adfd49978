package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/rag"
)

// accessTags are the document access-policy tags each role may retrieve;
// nil means every tag. Documents are tagged at ingestion (source access_tag,
// default "internal").
var accessTags = map[auth.Role][]string{
	auth.RoleMLEngineer:   {"public", "internal", "confidential"},
	auth.RoleDataEngineer: {"public", "internal", "confidential"},
	auth.RoleSME:          {"public", "internal"},
	auth.RoleViewer:       {"public", "internal"},
}

// SearchRequest is the body of POST /v1/indexes/{index_id}/search (PRD §11.2).
type SearchRequest struct {
	Query   string         `json:"query" minLength:"1" maxLength:"8192"`
	K       int            `json:"k,omitempty" minimum:"1" maximum:"1000" default:"10"`
	Hybrid  *bool          `json:"hybrid,omitempty" doc:"BM25 + dense fusion (default true when the index has vectors); false = BM25 only."`
	Mode    string         `json:"mode,omitempty" enum:"bm25,dense,hybrid," doc:"Overrides hybrid."`
	Fusion  string         `json:"fusion,omitempty" enum:"rrf,weighted," doc:"Reciprocal-rank (default) or normalised weighted fusion."`
	Weights *SearchWeights `json:"weights,omitempty" doc:"BM25 and dense weights, for either fusion (default equal)."`
	Filters map[string]any `json:"filters,omitempty" doc:"Metadata equality, lists (any of), {gte,gt,lte,lt,eq,ne} ranges, and <field>_after / <field>_before dates."`
	Sources []string       `json:"sources,omitempty" maxItems:"100" doc:"Source whitelist: prefixes of the document source URI."`
	Rerank  *RerankRequest `json:"rerank,omitempty"`
	Version int            `json:"version,omitempty" minimum:"1" doc:"Search this kept index version (see the index's versions) instead of the pinned or current one."`
}

// SearchWeights weight the two retrievers: in weighted fusion they scale
// the min-max normalised scores, in RRF each list's 1/(60+rank).
type SearchWeights struct {
	BM25  float64 `json:"bm25" minimum:"0"`
	Dense float64 `json:"dense" minimum:"0"`
}

// RerankRequest asks for cross-encoder re-ranking.
type RerankRequest struct {
	TopN     int `json:"top_n,omitempty" minimum:"1" maximum:"1000" default:"50"`
	BudgetMS int `json:"budget_ms,omitempty" minimum:"1" maximum:"60000" default:"200"`
}

// SearchResponse holds the hits.
type SearchResponse struct {
	Hits      []rag.Hit `json:"hits" nullable:"false"`
	IndexID   string    `json:"index_id"`
	Version   int       `json:"version" doc:"The index version that answered."`
	Mode      string    `json:"mode"`
	ElapsedMS float64   `json:"elapsed_ms"`
	// Rerank is present when re-ranking was asked for and the index has a
	// cross-encoder.
	Rerank *rag.RerankReport `json:"rerank,omitempty" doc:"How many candidates the cross-encoder scored within budget_ms, and whether the budget cut it short."`
}

// IndexUpsert is the body of POST /v1/indexes/{index_id}/upsert.
type IndexUpsert struct {
	DatasetID string          `json:"dataset_id,omitempty" maxLength:"64"`
	Version   string          `json:"version,omitempty" maxLength:"80" doc:"Dataset version; latest when omitted."`
	Documents []rag.UpsertDoc `json:"documents,omitempty" maxItems:"10000"`
	Delete    []string        `json:"delete,omitempty" maxItems:"10000" doc:"Document ids to remove (with or instead of documents; committed as one index version)."`
}

// IndexPatch is the body of PATCH /v1/indexes/{index_id}.
type IndexPatch struct {
	PinnedVersion *int `json:"pinned_version" minimum:"0" doc:"Pin searches to this kept index version; 0 unpins (searches follow the current version)."`
}

// IndexPath is the {index_id} path parameter.
type IndexPath struct {
	IndexID string `path:"index_id" maxLength:"64"`
}

// indexFor loads an index the caller may act on with scope (404 across orgs
// and outside a project key's project).
func (s *Server) indexFor(ctx context.Context, id, scope string) (*auth.Principal, *rag.IndexInfo, error) {
	p := principal(ctx)
	if p == nil {
		return nil, nil, huma.Error401Unauthorized("authentication required")
	}
	if s.indexes == nil {
		return nil, nil, huma.Error503ServiceUnavailable("retrieval is not configured on this server")
	}
	info, err := s.indexes.Get(ctx, p.OrgID, id)
	if err != nil {
		return nil, nil, s.problem(ctx, err)
	}
	if !p.SeesProject(info.ProjectID) {
		return nil, nil, huma.Error404NotFound("not found")
	}
	if !p.CanIn(info.ProjectID, scope) {
		return nil, nil, huma.Error403Forbidden("this operation needs the " + scope + " scope")
	}
	return p, info, nil
}

func (s *Server) indexProblem(ctx context.Context, err error) error {
	var qe *rag.QueryError
	if errors.As(err, &qe) {
		return huma.Error422UnprocessableEntity("validation failed", fieldError("body."+qe.Field, qe.Message))
	}
	return s.problem(ctx, err)
}

func (s *Server) registerIndexes(api huma.API) {
	tags := []string{"retrieval"}
	register(s, api, huma.Operation{OperationID: "create-index", Method: http.MethodPost, Path: "/v1/projects/{project_id}/indexes", Tags: tags,
		Summary: "Create a retrieval index (data:write); without an embedding model it is BM25-only", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			Body      rag.IndexSpec
		}) (*struct{ Body *rag.IndexInfo }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataWrite) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if _, err := s.getProject(ctx, p.OrgID, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err)
			}
			if s.indexes == nil {
				return nil, huma.Error503ServiceUnavailable("retrieval is not configured on this server")
			}
			info, err := s.indexes.Create(ctx, p.OrgID, p.ActorID, in.ProjectID, in.Body)
			if err != nil {
				return nil, s.indexProblem(ctx, err)
			}
			return &struct{ Body *rag.IndexInfo }{Body: info}, nil
		})
	register(s, api, huma.Operation{OperationID: "list-indexes", Method: http.MethodGet, Path: "/v1/projects/{project_id}/indexes", Tags: tags,
		Summary: "List a project's indexes (data:read)"},
		func(ctx context.Context, in *projectPath) (*struct{ Body Page[*rag.IndexInfo] }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataRead) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if s.indexes == nil {
				return nil, huma.Error503ServiceUnavailable("retrieval is not configured on this server")
			}
			list, err := s.indexes.List(ctx, p.OrgID, in.ProjectID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Page[*rag.IndexInfo] }{Body: Page[*rag.IndexInfo]{Items: list}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-index", Method: http.MethodGet, Path: "/v1/indexes/{index_id}", Tags: tags,
		Summary: "An index with its statistics and versions (data:read)"},
		func(ctx context.Context, in *IndexPath) (*struct{ Body *rag.IndexInfo }, error) {
			p, info, err := s.indexFor(ctx, in.IndexID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			if f, err := s.indexes.Freshness(ctx, p.OrgID, info.ID); err == nil {
				info.Freshness = f
			}
			return &struct{ Body *rag.IndexInfo }{Body: info}, nil
		})
	register(s, api, huma.Operation{OperationID: "patch-index", Method: http.MethodPatch, Path: "/v1/indexes/{index_id}", Tags: tags,
		Summary: "Pin searches to a kept index version, or unpin with 0 (data:write)"},
		func(ctx context.Context, in *struct {
			IndexPath
			Body IndexPatch
		}) (*struct{ Body *rag.IndexInfo }, error) {
			p, info, err := s.indexFor(ctx, in.IndexID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			if in.Body.PinnedVersion == nil {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.pinned_version", "required"))
			}
			out, err := s.indexes.Pin(ctx, p.OrgID, p.ActorID, info.ID, *in.Body.PinnedVersion)
			if err != nil {
				var qe *rag.QueryError
				if errors.As(err, &qe) {
					return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.pinned_version", qe.Message))
				}
				return nil, s.problem(ctx, err)
			}
			if f, err := s.indexes.Freshness(ctx, p.OrgID, info.ID); err == nil {
				out.Freshness = f
			}
			return &struct{ Body *rag.IndexInfo }{Body: out}, nil
		})
	register(s, api, huma.Operation{OperationID: "upsert-index", Method: http.MethodPost, Path: "/v1/indexes/{index_id}/upsert", Tags: tags,
		Summary: "Index a dataset version (latest by default) or documents; runs as a job (data:write)", DefaultStatus: http.StatusAccepted,
		MaxBodyBytes: 64 << 20},
		func(ctx context.Context, in *struct {
			IndexPath
			Body IndexUpsert
		}) (*struct{ Body JobAccepted }, error) {
			p, info, err := s.indexFor(ctx, in.IndexID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			direct := len(in.Body.Documents) > 0 || len(in.Body.Delete) > 0
			if !direct && in.Body.DatasetID == "" && info.DatasetID == "" {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.dataset_id", "give a dataset_id, documents or delete"))
			}
			if direct && (in.Body.DatasetID != "" || in.Body.Version != "") {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.dataset_id", "documents and delete exclude dataset_id and version"))
			}
			if in.Body.DatasetID != "" && s.datasets != nil {
				if _, err := s.datasets.Get(ctx, p.OrgID, in.Body.DatasetID); err != nil {
					return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.dataset_id", "no such dataset"))
				}
			}
			if s.jobs == nil {
				return nil, huma.Error503ServiceUnavailable("job queue not configured")
			}
			j, err := s.jobs.Enqueue(ctx, jobs.EnqueueParams{OrgID: p.OrgID, ProjectID: info.ProjectID, ActorID: p.ActorID, Kind: rag.KindUpsert,
				Payload: rag.UpsertPayload{IndexID: info.ID, DatasetID: in.Body.DatasetID, Version: in.Body.Version, Documents: in.Body.Documents,
					Delete: in.Body.Delete}})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return s.accepted(j), nil
		})
	register(s, api, huma.Operation{OperationID: "search-index", Method: http.MethodPost, Path: "/v1/indexes/{index_id}/search", Tags: tags,
		Summary: "Hybrid search with citations (data:read); results are limited to the access tags the caller's role may read"},
		func(ctx context.Context, in *struct {
			IndexPath
			Body SearchRequest
		}) (*struct{ Body SearchResponse }, error) {
			p, info, err := s.indexFor(ctx, in.IndexID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			q := rag.Query{Text: in.Body.Query, K: in.Body.K, Mode: in.Body.Mode, Fusion: in.Body.Fusion, Filters: in.Body.Filters,
				Sources: in.Body.Sources, AccessTags: accessTags[p.Role]}
			if q.K == 0 {
				q.K = 10
			}
			if q.Mode == "" && in.Body.Hybrid != nil && !*in.Body.Hybrid {
				q.Mode = "bm25"
			}
			if q.Mode == "" && in.Body.Hybrid != nil && *in.Body.Hybrid {
				q.Mode = "hybrid"
			}
			if w := in.Body.Weights; w != nil {
				q.Weights = [2]float64{w.BM25, w.Dense}
			}
			if r := in.Body.Rerank; r != nil {
				q.Rerank = &rag.RerankOptions{TopN: r.TopN, Budget: time.Duration(r.BudgetMS) * time.Millisecond}
			}
			start := time.Now()
			res, _, err := s.indexes.Search(ctx, p.OrgID, info.ID, q, in.Body.Version)
			if err != nil {
				return nil, s.indexProblem(ctx, err)
			}
			hits := res.Hits
			if hits == nil {
				hits = []rag.Hit{}
			}
			mode := q.Mode
			if mode == "" {
				mode = "bm25"
				if info.Mode == "hybrid" {
					mode = "hybrid"
				}
			}
			return &struct{ Body SearchResponse }{Body: SearchResponse{Hits: hits, IndexID: info.ID, Version: res.Version, Mode: mode,
				ElapsedMS: float64(time.Since(start).Microseconds()) / 1000, Rerank: res.Rerank}}, nil
		})
}
