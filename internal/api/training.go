package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/jobs"
)

// TrainingRun is a training run: its config, job status, metrics history
// and artifacts.
type TrainingRun = finetune.Run

// TrainingPlan is the answer of a dry run.
type TrainingPlan = finetune.Plan

// RunPath is the {run_id} path parameter.
type RunPath struct {
	RunID string `path:"run_id" maxLength:"64"`
}

// trainingFor loads a run the caller may act on with scope (404 across
// organisations and outside a project key's project).
func (s *Server) trainingFor(ctx context.Context, id, scope string) (*auth.Principal, *finetune.Run, error) {
	p := principal(ctx)
	if p == nil {
		return nil, nil, huma.Error401Unauthorized("authentication required")
	}
	if s.training == nil || s.jobs == nil {
		return nil, nil, huma.Error503ServiceUnavailable("training is not configured on this server")
	}
	r, err := s.training.Get(ctx, p.OrgID, id)
	if err != nil {
		return nil, nil, s.problem(ctx, err)
	}
	if !p.SeesProject(r.ProjectID) {
		return nil, nil, huma.Error404NotFound("not found")
	}
	if !p.CanIn(r.ProjectID, scope) {
		return nil, nil, huma.Error403Forbidden("this operation needs the " + scope + " scope")
	}
	return p, r, nil
}

// trainingProblem maps spec validation errors to 422 with one error per
// field; locations are "body" + a JSON pointer (body/train/lr).
func (s *Server) trainingProblem(ctx context.Context, err error) error {
	var ve *finetune.ValidationError
	if errors.As(err, &ve) {
		details := make([]error, len(ve.Errors))
		for i, f := range ve.Errors {
			details[i] = fieldError("body"+f.Field, f.Message)
		}
		return huma.Error422UnprocessableEntity("validation failed", details...)
	}
	if errors.Is(err, jobs.ErrFinished) {
		return huma.Error409Conflict("the run already finished")
	}
	return s.problem(ctx, err)
}

type createRunOutput struct {
	Status int
	Body   any
}

func (s *Server) registerTraining(api huma.API) {
	tags := []string{"training"}
	specSchema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[finetune.RunSpec](), true, "RunSpec")
	register(s, api, huma.Operation{OperationID: "create-training-run", Method: http.MethodPost, Path: "/v1/projects/{project_id}/training/runs", Tags: tags,
		Summary: "Start a training run (train:run); ?dry_run=true returns the plan instead",
		Description: "The body (PRD §11.2) is validated against a JSON Schema: unknown fields and bad values answer 422 naming the field " +
			"(location body/<JSON pointer>). infra asking for GPUs, nodes or a distributed strategy answers 422: this server trains on its CPUs. " +
			"201 returns the run (run_id, status queued, job_id); follow it with GET /v1/training/runs/{run_id} or the job's log stream.",
		DefaultStatus: http.StatusCreated,
		// The body is validated by finetune.ParseSpec against its JSON
		// Schema (errors name JSON pointers); the schema here documents it.
		SkipValidateBody: true,
		RequestBody:      &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: specSchema}}},
		Responses: map[string]*huma.Response{
			"200": {Description: "The plan of a dry run.", Content: map[string]*huma.MediaType{"application/json": {
				Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[finetune.Plan](), true, "Plan")}}},
			"201": {Description: "The queued run.", Content: map[string]*huma.MediaType{"application/json": {
				Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[finetune.Run](), true, "Run")}}},
		}},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			DryRun    bool   `query:"dry_run" doc:"Resolve, tokenise and estimate; enqueue nothing."`
			RawBody   []byte
		}) (*createRunOutput, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeTrainRun) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if _, err := s.getProject(ctx, p.OrgID, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err)
			}
			if s.training == nil || s.jobs == nil {
				return nil, huma.Error503ServiceUnavailable("training is not configured on this server")
			}
			spec, bodyProject, err := finetune.ParseSpec(in.RawBody)
			if err != nil {
				return nil, s.trainingProblem(ctx, err)
			}
			if bodyProject != "" && bodyProject != in.ProjectID {
				return nil, huma.Error422UnprocessableEntity("validation failed", fieldError("body/project_id", "differs from the project in the path"))
			}
			if in.DryRun {
				plan, err := s.training.Plan(ctx, p.OrgID, in.ProjectID, spec)
				if err != nil {
					return nil, s.trainingProblem(ctx, err)
				}
				return &createRunOutput{Status: http.StatusOK, Body: plan}, nil
			}
			r, err := s.training.Create(ctx, p.OrgID, p.ActorID, in.ProjectID, spec)
			if err != nil {
				return nil, s.trainingProblem(ctx, err)
			}
			return &createRunOutput{Status: http.StatusCreated, Body: r}, nil
		})
	// The raw body is documented as the RunSpec JSON it must be.
	if pi := api.OpenAPI().Paths["/v1/projects/{project_id}/training/runs"]; pi != nil && pi.Post != nil {
		pi.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: specSchema}}}
	}
	register(s, api, huma.Operation{OperationID: "list-training-runs", Method: http.MethodGet, Path: "/v1/projects/{project_id}/training/runs", Tags: tags,
		Summary: "List a project's training runs, newest first, without metrics history (data:read)"},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			PageParams
		}) (*struct{ Body Page[*finetune.Run] }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataRead) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if s.training == nil {
				return nil, huma.Error503ServiceUnavailable("training is not configured on this server")
			}
			if _, err := s.getProject(ctx, p.OrgID, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err) // another organisation's project: 404
			}
			list, next, err := s.training.List(ctx, p.OrgID, in.ProjectID, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			if list == nil {
				list = []*finetune.Run{}
			}
			return &struct{ Body Page[*finetune.Run] }{Body: Page[*finetune.Run]{Items: list, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-training-run", Method: http.MethodGet, Path: "/v1/training/runs/{run_id}", Tags: tags,
		Summary: "A training run: status, config, metrics history, artifacts, job id (data:read)"},
		func(ctx context.Context, in *RunPath) (*struct{ Body *finetune.Run }, error) {
			_, r, err := s.trainingFor(ctx, in.RunID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *finetune.Run }{Body: r}, nil
		})
	register(s, api, huma.Operation{OperationID: "cancel-training-run", Method: http.MethodPost, Path: "/v1/training/runs/{run_id}/cancel", Tags: tags,
		Summary: "Cancel a training run: a queued run at once, a running one at its next step (train:run)"},
		func(ctx context.Context, in *RunPath) (*struct{ Body *finetune.Run }, error) {
			p, r, err := s.trainingFor(ctx, in.RunID, auth.ScopeTrainRun)
			if err != nil {
				return nil, err
			}
			r, err = s.training.Cancel(ctx, p.OrgID, p.ActorID, r.RunID)
			if err != nil {
				return nil, s.trainingProblem(ctx, err)
			}
			return &struct{ Body *finetune.Run }{Body: r}, nil
		})
	register(s, api, huma.Operation{OperationID: "training-run-logs", Method: http.MethodGet, Path: "/v1/training/runs/{run_id}/logs", Tags: tags,
		Summary:     "Stream a run's log as Server-Sent Events (data:read)",
		Description: "The run's job log stream: the same events as GET /v1/jobs/{id}/logs (log, job, end).",
		Responses: map[string]*huma.Response{"200": {Description: "An event stream.", Content: map[string]*huma.MediaType{
			"text/event-stream": {Schema: &huma.Schema{Type: "string"}}}}}},
		func(ctx context.Context, in *struct {
			RunPath
			LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"Resume after this log seq."`
			After       int64  `query:"after" minimum:"0"`
			Follow      bool   `query:"follow" default:"true"`
		}) (*huma.StreamResponse, error) {
			p, r, err := s.trainingFor(ctx, in.RunID, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			j, err := s.jobs.Get(ctx, p.OrgID, r.JobID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			after := in.After
			if in.LastEventID != "" {
				n, err := strconv.ParseInt(in.LastEventID, 10, 64)
				if err != nil || n < 0 {
					return nil, huma.Error400BadRequest("bad Last-Event-ID", fieldError("header.Last-Event-ID", "must be a log seq (a non-negative integer)"))
				}
				after = max(after, n)
			}
			follow, orgID := in.Follow, p.OrgID
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				_, w := unwrap(hctx)
				s.streamJobLogs(hctx.Context(), w, orgID, j, after, follow)
			}}, nil
		})
}
