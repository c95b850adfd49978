package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/finetune"
)

// RegisteredModel is a named line of model versions in a project.
type RegisteredModel = finetune.Model

// ModelVersion is one registered adapter with its lineage.
type ModelVersion = finetune.ModelVersion

// ModelCreate is the body of POST /v1/projects/{project_id}/models.
type ModelCreate = finetune.ModelCreate

// ModelPath is the {model_id} path parameter.
type ModelPath struct {
	ModelID string `path:"model_id" maxLength:"64"`
}

// ModelVersionPath adds {version}.
type ModelVersionPath struct {
	ModelID string `path:"model_id" maxLength:"64"`
	Version string `path:"version" maxLength:"20" doc:"A version number or latest."`
}

// modelFor loads a model the caller may read.
func (s *Server) modelFor(ctx context.Context, id string) (*auth.Principal, *finetune.Model, error) {
	p := principal(ctx)
	if p == nil {
		return nil, nil, huma.Error401Unauthorized("authentication required")
	}
	if s.training == nil {
		return nil, nil, huma.Error503ServiceUnavailable("the model registry is not configured on this server")
	}
	m, err := s.training.GetModel(ctx, p.OrgID, id)
	if err != nil {
		return nil, nil, s.problem(ctx, err)
	}
	if !p.SeesProject(m.ProjectID) {
		return nil, nil, huma.Error404NotFound("not found")
	}
	if !p.CanIn(m.ProjectID, auth.ScopeDataRead) {
		return nil, nil, huma.Error403Forbidden("this operation needs the " + auth.ScopeDataRead + " scope")
	}
	return p, m, nil
}

func (s *Server) registerModels(api huma.API) {
	tags := []string{"models"}
	register(s, api, huma.Operation{OperationID: "list-models", Method: http.MethodGet, Path: "/v1/projects/{project_id}/models", Tags: tags,
		Summary: "List a project's registered models (data:read)"},
		func(ctx context.Context, in *projectPath) (*struct{ Body Page[*finetune.Model] }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataRead) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if s.training == nil {
				return nil, huma.Error503ServiceUnavailable("the model registry is not configured on this server")
			}
			if _, err := s.getProject(ctx, p.OrgID, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err) // another organisation's project: 404
			}
			list, err := s.training.ListModels(ctx, p.OrgID, in.ProjectID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Page[*finetune.Model] }{Body: Page[*finetune.Model]{Items: list}}, nil
		})
	register(s, api, huma.Operation{OperationID: "create-model", Method: http.MethodPost, Path: "/v1/projects/{project_id}/models", Tags: tags,
		Summary: "Register a model name; training runs add versions to it (train:run)", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			Body      finetune.ModelCreate
		}) (*struct{ Body *finetune.Model }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeTrainRun) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if _, err := s.getProject(ctx, p.OrgID, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err)
			}
			if s.training == nil {
				return nil, huma.Error503ServiceUnavailable("the model registry is not configured on this server")
			}
			m, err := s.training.CreateModel(ctx, p.OrgID, p.ActorID, in.ProjectID, in.Body)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body *finetune.Model }{Body: m}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-model", Method: http.MethodGet, Path: "/v1/models/{model_id}", Tags: tags,
		Summary: "A registered model (data:read)"},
		func(ctx context.Context, in *ModelPath) (*struct{ Body *finetune.Model }, error) {
			_, m, err := s.modelFor(ctx, in.ModelID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *finetune.Model }{Body: m}, nil
		})
	register(s, api, huma.Operation{OperationID: "list-model-versions", Method: http.MethodGet, Path: "/v1/models/{model_id}/versions", Tags: tags,
		Summary: "A model's versions, newest first (data:read)"},
		func(ctx context.Context, in *ModelPath) (*struct{ Body Page[*finetune.ModelVersion] }, error) {
			p, m, err := s.modelFor(ctx, in.ModelID)
			if err != nil {
				return nil, err
			}
			vs, err := s.training.ListVersions(ctx, p.OrgID, m.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Page[*finetune.ModelVersion] }{Body: Page[*finetune.ModelVersion]{Items: vs}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-model-version", Method: http.MethodGet, Path: "/v1/models/{model_id}/versions/{version}", Tags: tags,
		Summary: "A model version: adapter and tokenizer files, template hash, dataset version, config, metrics, run (data:read)"},
		func(ctx context.Context, in *ModelVersionPath) (*struct{ Body *finetune.ModelVersion }, error) {
			p, m, err := s.modelFor(ctx, in.ModelID)
			if err != nil {
				return nil, err
			}
			v, err := s.training.GetVersion(ctx, p.OrgID, m.ID, in.Version)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body *finetune.ModelVersion }{Body: v}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-model-version-file", Method: http.MethodGet, Path: "/v1/models/{model_id}/versions/{version}/files/{name}", Tags: tags,
		Summary: "Download one file of a version's adapter folder (or its tokenizer files) (data:read)",
		Responses: map[string]*huma.Response{"200": {Description: "The file.", Content: map[string]*huma.MediaType{
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
		func(ctx context.Context, in *struct {
			ModelVersionPath
			Name string `path:"name" maxLength:"128"`
		}) (*huma.StreamResponse, error) {
			p, m, err := s.modelFor(ctx, in.ModelID)
			if err != nil {
				return nil, err
			}
			v, err := s.training.GetVersion(ctx, p.OrgID, m.ID, in.Version)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			rc, size, err := s.training.OpenFile(ctx, v, in.Name)
			if errors.Is(err, finetune.ErrFile) {
				return nil, huma.Error404NotFound("no such file in the version")
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				defer rc.Close()
				hctx.SetHeader("Content-Type", "application/octet-stream")
				hctx.SetHeader("Content-Length", strconv.FormatInt(size, 10))
				hctx.SetHeader("Content-Disposition", `attachment; filename="`+in.Name+`"`)
				if _, err := io.Copy(hctx.BodyWriter(), rc); err != nil {
					s.log.Warn("api: model file download interrupted", "model", m.ID, "file", in.Name, "err", err)
				}
			}}, nil
		})
}
