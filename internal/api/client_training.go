package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/whet-dev/whet/internal/finetune"
)

// CreateTrainingRun validates spec and queues a run in a project.
func (c *Client) CreateTrainingRun(ctx context.Context, projectID string, spec finetune.RunSpec) (TrainingRun, error) {
	var out TrainingRun
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/training/runs", spec, &out)
	return out, err
}

// CreateTrainingRunRaw sends a run body as given (JSON, possibly with a
// project_id field, as `whet train -f` reads it from a file).
func (c *Client) CreateTrainingRunRaw(ctx context.Context, projectID string, body []byte) (TrainingRun, error) {
	var out TrainingRun
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/training/runs", rawJSON(body), &out)
	return out, err
}

// PlanTrainingRun answers a dry run: examples, tokens, steps, estimated
// time and peak memory. body is a RunSpec or raw JSON bytes.
func (c *Client) PlanTrainingRun(ctx context.Context, projectID string, body any) (TrainingPlan, error) {
	if b, ok := body.([]byte); ok {
		body = rawJSON(b)
	}
	var out TrainingPlan
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/training/runs?dry_run=true", body, &out)
	return out, err
}

// rawJSON marshals as itself.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// ListTrainingRuns returns one page of a project's runs (without metrics
// history), newest first.
func (c *Client) ListTrainingRuns(ctx context.Context, projectID string, limit int, cursor string) (Page[TrainingRun], error) {
	var out Page[TrainingRun]
	err := c.Do(ctx, http.MethodGet, pageQuery("/v1/projects/"+url.PathEscape(projectID)+"/training/runs", limit, cursor, nil), nil, &out)
	return out, err
}

// GetTrainingRun returns a run with its status, metrics history and
// artifacts.
func (c *Client) GetTrainingRun(ctx context.Context, runID string) (TrainingRun, error) {
	var out TrainingRun
	err := c.Do(ctx, http.MethodGet, "/v1/training/runs/"+url.PathEscape(runID), nil, &out)
	return out, err
}

// CancelTrainingRun cancels a run.
func (c *Client) CancelTrainingRun(ctx context.Context, runID string) (TrainingRun, error) {
	var out TrainingRun
	err := c.Do(ctx, http.MethodPost, "/v1/training/runs/"+url.PathEscape(runID)+"/cancel", nil, &out)
	return out, err
}

// WaitTrainingRun polls a run until it reaches a terminal status (or ctx
// ends) and returns it; onUpdate (may be nil) sees every poll. It does not
// fail on a failed or cancelled run: check Status.
func (c *Client) WaitTrainingRun(ctx context.Context, runID string, onUpdate func(TrainingRun)) (TrainingRun, error) {
	delay := 50 * time.Millisecond
	for {
		r, err := c.GetTrainingRun(ctx, runID)
		if err != nil {
			return r, err
		}
		if onUpdate != nil {
			onUpdate(r)
		}
		switch r.Status {
		case "succeeded", "failed", "cancelled":
			return r, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

// CreateModel registers a model name in a project.
func (c *Client) CreateModel(ctx context.Context, projectID string, in ModelCreate) (RegisteredModel, error) {
	var out RegisteredModel
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/models", in, &out)
	return out, err
}

// ListModels returns a project's registered models.
func (c *Client) ListModels(ctx context.Context, projectID string) (Page[RegisteredModel], error) {
	var out Page[RegisteredModel]
	err := c.Do(ctx, http.MethodGet, "/v1/projects/"+url.PathEscape(projectID)+"/models", nil, &out)
	return out, err
}

// GetModel returns a registered model.
func (c *Client) GetModel(ctx context.Context, modelID string) (RegisteredModel, error) {
	var out RegisteredModel
	err := c.Do(ctx, http.MethodGet, "/v1/models/"+url.PathEscape(modelID), nil, &out)
	return out, err
}

// ListModelVersions returns a model's versions, newest first.
func (c *Client) ListModelVersions(ctx context.Context, modelID string) (Page[ModelVersion], error) {
	var out Page[ModelVersion]
	err := c.Do(ctx, http.MethodGet, "/v1/models/"+url.PathEscape(modelID)+"/versions", nil, &out)
	return out, err
}

// GetModelVersion returns version ref ("latest" or a number) of a model.
func (c *Client) GetModelVersion(ctx context.Context, modelID, ref string) (ModelVersion, error) {
	var out ModelVersion
	err := c.Do(ctx, http.MethodGet, "/v1/models/"+url.PathEscape(modelID)+"/versions/"+url.PathEscape(ref), nil, &out)
	return out, err
}

// DownloadModelFile writes one file of a version to w.
func (c *Client) DownloadModelFile(ctx context.Context, modelID string, version int, name string, w io.Writer) error {
	return c.stream(ctx, fmt.Sprintf("/v1/models/%s/versions/%d/files/%s", url.PathEscape(modelID), version, url.PathEscape(name)), w)
}

// PullModelVersion downloads a version's adapter folder (adapter files
// plus the base model's tokenizer files) into dir and returns the file
// names written.
func (c *Client) PullModelVersion(ctx context.Context, modelID, ref, dir string) (ModelVersion, []string, error) {
	v, err := c.GetModelVersion(ctx, modelID, ref)
	if err != nil {
		return v, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return v, nil, err
	}
	var names []string
	for n := range v.AdapterFiles {
		names = append(names, n)
	}
	for n := range v.TokenizerFiles {
		if _, dup := v.AdapterFiles[n]; !dup {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if n != filepath.Base(n) || n == "." || n == ".." {
			return v, nil, fmt.Errorf("api client: model version lists a bad file name %q", n)
		}
		f, err := os.Create(filepath.Join(dir, n))
		if err != nil {
			return v, nil, err
		}
		err = c.DownloadModelFile(ctx, v.ModelID, v.Version, n, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return v, nil, fmt.Errorf("api client: pull %s: %w", n, err)
		}
	}
	return v, names, nil
}
