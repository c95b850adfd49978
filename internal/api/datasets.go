package api

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/jobs"
)

// MaxUploadBytes bounds one upload request (files and archives together).
const MaxUploadBytes = 2 << 30

// DatasetCreate is the body of POST /v1/projects/{project_id}/datasets.
type DatasetCreate struct {
	Name        string `json:"name" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"Unique within the project; used in ds://project/name URIs."`
	Kind        string `json:"kind,omitempty" enum:"documents,instruction,preference,chat" default:"documents"`
	Description string `json:"description,omitempty" maxLength:"2000"`
}

// JobAccepted is the 202 answer of operations that queue long work.
type JobAccepted struct {
	JobID  string `json:"job_id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// DatasetPath is the {dataset_id} path parameter.
type DatasetPath struct {
	DatasetID string `path:"dataset_id" maxLength:"64"`
}

// VersionPath adds the {version} path parameter.
type VersionPath struct {
	DatasetPath
	Version string `path:"version" maxLength:"80" doc:"A semantic version (1.2.0), a lineage hash (sha256:…) or latest."`
}

// dataset loads a dataset the caller may act on with scope; another org's
// or another project's dataset answers 404.
func (s *Server) dataset(ctx context.Context, id, scope string) (*auth.Principal, *dataset.Dataset, error) {
	p := principal(ctx)
	if p == nil {
		return nil, nil, huma.Error401Unauthorized("authentication required")
	}
	if s.datasets == nil || s.ingest == nil || s.jobs == nil {
		return nil, nil, huma.Error503ServiceUnavailable("datasets are not configured on this server")
	}
	ds, err := s.datasets.Get(ctx, p.OrgID, id)
	if err != nil {
		return nil, nil, s.problem(ctx, err)
	}
	if !p.SeesProject(ds.ProjectID) {
		return nil, nil, huma.Error404NotFound("not found")
	}
	if !p.CanIn(ds.ProjectID, scope) {
		return nil, nil, huma.Error403Forbidden("this operation needs the " + scope + " scope")
	}
	return p, ds, nil
}

func (s *Server) registerDatasets(api huma.API) {
	tags := []string{"datasets"}
	register(s, api, huma.Operation{OperationID: "list-datasets", Method: http.MethodGet, Path: "/v1/projects/{project_id}/datasets", Tags: tags,
		Summary: "List a project's datasets (data:read)"},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			PageParams
		}) (*struct{ Body Page[*dataset.Dataset] }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataRead) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			items, next, err := s.datasets.List(ctx, p.OrgID, in.ProjectID, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			if items == nil {
				items = []*dataset.Dataset{}
			}
			return &struct{ Body Page[*dataset.Dataset] }{Body: Page[*dataset.Dataset]{Items: items, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "create-dataset", Method: http.MethodPost, Path: "/v1/projects/{project_id}/datasets", Tags: tags,
		Summary: "Create a dataset (data:write)", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			Body      DatasetCreate
		}) (*struct{ Body *dataset.Dataset }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataWrite) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			kind := dataset.Kind(in.Body.Kind)
			if kind == "" {
				kind = dataset.KindDocuments
			}
			ds, err := s.datasets.Create(ctx, p.OrgID, p.ActorID, in.ProjectID, in.Body.Name, kind, in.Body.Description)
			if errors.Is(err, dataset.ErrProject) {
				return nil, huma.Error404NotFound("not found")
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body *dataset.Dataset }{Body: ds}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-dataset", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}", Tags: tags,
		Summary: "Get a dataset (data:read)"},
		func(ctx context.Context, in *DatasetPath) (*struct{ Body *dataset.Dataset }, error) {
			_, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *dataset.Dataset }{Body: ds}, nil
		})
	s.registerDatasetIngest(api, tags)
	s.registerDatasetVersions(api, tags)
}

func (s *Server) accepted(j jobs.Job) *struct{ Body JobAccepted } {
	return &struct{ Body JobAccepted }{Body: JobAccepted{JobID: j.ID, Kind: j.Kind, Status: string(j.Status)}}
}

func (s *Server) registerDatasetIngest(api huma.API, tags []string) {
	register(s, api, huma.Operation{OperationID: "upload-documents", Method: http.MethodPost, Path: "/v1/datasets/{dataset_id}/documents/upload", Tags: tags,
		Summary:       "Upload files or .zip/.tar.gz archives (multipart, field \"files\"); ingested by a job (data:write)",
		DefaultStatus: http.StatusAccepted, MaxBodyBytes: MaxUploadBytes},
		func(ctx context.Context, in *struct {
			DatasetPath
			AccessTag string `query:"access_tag" maxLength:"64"`
			RawBody   multipart.Form
		}) (*struct{ Body JobAccepted }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			var files []ingest.UploadedFile
			for field, hs := range in.RawBody.File {
				for i, h := range hs {
					name := path.Base(strings.ReplaceAll(h.Filename, `\`, "/"))
					if name == "." || name == "/" || name == "" {
						return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body."+field, "a file has no name"))
					}
					f, err := h.Open()
					if err != nil {
						return nil, huma.Error400BadRequest("cannot read upload", fieldError("body."+field+"["+strconv.Itoa(i)+"]", err.Error()))
					}
					uf, err := s.ingest.PutUpload(ctx, name, f)
					f.Close()
					if err != nil {
						return nil, s.problem(ctx, err)
					}
					files = append(files, uf)
				}
			}
			if len(files) == 0 {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.files", "no files in the upload"))
			}
			j, err := s.ingest.EnqueueUpload(ctx, s.jobs, p.OrgID, ds.ProjectID, p.ActorID, ds.ID, files, in.AccessTag)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return s.accepted(j), nil
		})
	register(s, api, huma.Operation{OperationID: "import-records", Method: http.MethodPost, Path: "/v1/datasets/{dataset_id}/records/import", Tags: tags,
		Summary:      "Import JSONL records (instruction, preference, chat; ShareGPT and Alpaca converted) with per-line validation errors (data:write)",
		MaxBodyBytes: 256 << 20},
		func(ctx context.Context, in *struct {
			DatasetPath
			RawBody []byte `contentType:"application/x-ndjson"`
		}) (*struct{ Body ingest.FileResult }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			if ds.Kind == dataset.KindDocuments {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("path.dataset_id", "a documents dataset takes uploads, not records"))
			}
			res := s.ingest.IngestFile(ctx, p.OrgID, ds, ingest.Source{Type: "import"}, "import.jsonl", int64(len(in.RawBody)), s.now(), bytes.NewReader(in.RawBody))
			return &struct{ Body ingest.FileResult }{Body: res[0]}, nil
		})
	register(s, api, huma.Operation{OperationID: "create-source", Method: http.MethodPost, Path: "/v1/datasets/{dataset_id}/ingest/sources", Tags: tags,
		Summary: "Register an ingestion source with an optional cron schedule (data:write)", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			DatasetPath
			Body ingest.SourceSpec
		}) (*struct{ Body *ingest.SourceRecord }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			rec, err := s.ingest.RegisterSource(ctx, p.OrgID, p.ActorID, ds.ID, in.Body)
			if errors.Is(err, ingest.ErrConfig) {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body.config", err.Error()))
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body *ingest.SourceRecord }{Body: rec}, nil
		})
	register(s, api, huma.Operation{OperationID: "sync-source", Method: http.MethodPost, Path: "/v1/sources/{id}/sync", Tags: tags,
		Summary: "Sync a registered source now (data:write)", DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *idPath) (*struct{ Body JobAccepted }, error) {
			p := principal(ctx)
			src, err := s.ingest.GetSource(ctx, p.OrgID, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			_, ds, err := s.dataset(ctx, src.DatasetID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			j, err := s.jobs.Enqueue(ctx, jobs.EnqueueParams{OrgID: p.OrgID, ProjectID: ds.ProjectID, ActorID: p.ActorID, Kind: ingest.KindSync,
				Payload: ingest.SyncPayload{SourceID: src.ID}, UniqueKey: src.ID})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return s.accepted(j), nil
		})
	register(s, api, huma.Operation{OperationID: "process-dataset", Method: http.MethodPost, Path: "/v1/datasets/{dataset_id}/process", Tags: tags,
		Summary: "Redact, dedup, normalise and filter into a new version (data:write)", DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *struct {
			DatasetPath
			Body ingest.ProcessConfig
		}) (*struct{ Body JobAccepted }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataWrite)
			if err != nil {
				return nil, err
			}
			if err := s.ingest.ValidateProcess(in.Body); err != nil {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body", err.Error()))
			}
			j, err := s.jobs.Enqueue(ctx, jobs.EnqueueParams{OrgID: p.OrgID, ProjectID: ds.ProjectID, ActorID: p.ActorID, Kind: ingest.KindProcess,
				Payload: ingest.ProcessPayload{DatasetID: ds.ID, Config: in.Body}})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return s.accepted(j), nil
		})
}

func (s *Server) registerDatasetVersions(api huma.API, tags []string) {
	register(s, api, huma.Operation{OperationID: "list-dataset-versions", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}/versions", Tags: tags,
		Summary: "List a dataset's versions, newest first (data:read)"},
		func(ctx context.Context, in *DatasetPath) (*struct{ Body Page[*dataset.Version] }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			vs, err := s.datasets.ListVersions(ctx, p.OrgID, ds.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			if vs == nil {
				vs = []*dataset.Version{}
			}
			return &struct{ Body Page[*dataset.Version] }{Body: Page[*dataset.Version]{Items: vs}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-dataset-version", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}/versions/{version}", Tags: tags,
		Summary: "A version with its manifest and stats (data:read)"},
		func(ctx context.Context, in *VersionPath) (*struct{ Body VersionDetail }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			v, err := s.version(ctx, p.OrgID, ds.ID, in.Version)
			if err != nil {
				return nil, err
			}
			m, err := s.datasets.Manifest(ctx, v)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body VersionDetail }{Body: VersionDetail{Version: v, Manifest: m}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-dataset-lineage", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}/versions/{version}/lineage", Tags: tags,
		Summary: "Lineage graph: sources, processing and parent versions (data:read)"},
		func(ctx context.Context, in *VersionPath) (*struct{ Body *dataset.LineageGraph }, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			if _, err := s.version(ctx, p.OrgID, ds.ID, in.Version); err != nil {
				return nil, err
			}
			g, err := s.datasets.Lineage(ctx, p.OrgID, ds.ID, in.Version)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body *dataset.LineageGraph }{Body: g}, nil
		})
	register(s, api, huma.Operation{OperationID: "export-dataset-version", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}/versions/{version}/export", Tags: tags,
		Summary: "Stream the version as JSONL (data:read)"},
		func(ctx context.Context, in *VersionPath) (*huma.StreamResponse, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			if _, err := s.version(ctx, p.OrgID, ds.ID, in.Version); err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", "application/x-ndjson")
				if _, err := s.datasets.Export(hctx.Context(), p.OrgID, ds.ID, in.Version, hctx.BodyWriter()); err != nil {
					s.log.Warn("api: export interrupted", "dataset", ds.ID, "err", err)
				}
			}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-dataset-card", Method: http.MethodGet, Path: "/v1/datasets/{dataset_id}/versions/{version}/card", Tags: tags,
		Summary: "The generated dataset card (Markdown) (data:read)"},
		func(ctx context.Context, in *VersionPath) (*huma.StreamResponse, error) {
			p, ds, err := s.dataset(ctx, in.DatasetID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			v, err := s.version(ctx, p.OrgID, ds.ID, in.Version)
			if err != nil {
				return nil, err
			}
			m, err := s.datasets.Manifest(ctx, v)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			uri, _ := dataset.ParseURI(v.URI)
			card := dataset.Card(dataset.CardInput{URI: uri, Description: ds.Description, LineageHash: v.LineageHash,
				CreatedAt: v.CreatedAt.Format("2006-01-02T15:04:05Z"), Manifest: m, Stats: v.Stats})
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", "text/markdown; charset=utf-8")
				hctx.BodyWriter().Write([]byte(card))
			}}, nil
		})
}

// VersionDetail is a version with its manifest.
type VersionDetail struct {
	*dataset.Version
	Manifest *dataset.Manifest `json:"manifest"`
}

func (s *Server) version(ctx context.Context, orgID, datasetID, ref string) (*dataset.Version, error) {
	v, err := s.datasets.GetVersion(ctx, orgID, datasetID, ref)
	if errors.Is(err, dataset.ErrVersion) {
		return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("path.version", err.Error()))
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return v, nil
}
