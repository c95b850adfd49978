package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/finetune/finetunetest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

type trainEnv struct {
	url     string
	owner   *api.Client
	orgID   string
	project string
	ds      *dataset.Dataset
	prefs   *dataset.Dataset
	base    string
	dsvc    *dataset.Service
	auth    *auth.Service
}

func newTrainEnv(t *testing.T, db *store.DB) *trainEnv {
	t.Helper()
	ctx := context.Background()
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dsvc := dataset.NewService(db, bs, al, nil)
	q := jobs.New(db, jobs.Options{Audit: al, Blob: bs, Heartbeat: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	tsvc := &finetune.Service{DB: db, Blob: bs, Datasets: dsvc, Jobs: q, Audit: al, MetricsEvery: 20 * time.Millisecond}
	tsvc.RegisterJobs(q)
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Blob: bs, Datasets: dsvc, Training: tsvc})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Work(wctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &trainEnv{url: hs.URL, owner: api.NewClient(hs.URL, res.Token), orgID: res.Org.ID, dsvc: dsvc, auth: as}
	p, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "tuning"})
	if err != nil {
		t.Fatal(err)
	}
	e.project = p.ID
	if e.ds, err = dsvc.Create(ctx, e.orgID, "test", p.ID, "reverse", dataset.KindInstruction, ""); err != nil {
		t.Fatal(err)
	}
	finetunetest.AddVersion(t, dsvc, e.orgID, e.ds, finetunetest.ReverseRecords(20), func(i int) string {
		if i%5 == 4 {
			return "validation"
		}
		return "train"
	})
	if e.prefs, err = dsvc.Create(ctx, e.orgID, "test", p.ID, "yesno", dataset.KindPreference, ""); err != nil {
		t.Fatal(err)
	}
	finetunetest.AddVersion(t, dsvc, e.orgID, e.prefs, finetunetest.PreferenceRecords(8), nil)
	e.base = filepath.Join(t.TempDir(), "base")
	finetunetest.TinyModel(t, e.base, 11)
	return e
}

func (e *trainEnv) body(extra string) string {
	return fmt.Sprintf(`{"base_model":%q,"method":"sft","peft":{"r":4,"target_modules":["q_proj","v_proj"]},
		"train":{"dataset_id":%q,"epochs":2,"batch_size":4,"lr":0.001,"checkpoint_every":2%s}}`, e.base, e.ds.ID, extra)
}

// succeed posts a run body and waits for the run, which must succeed.
func (e *trainEnv) succeed(t *testing.T, body string) api.TrainingRun {
	t.Helper()
	code, created := e.post(t, "", body)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, created)
	}
	r, err := e.owner.WaitTrainingRun(context.Background(), created["run_id"].(string), nil)
	if err != nil || r.Status != "succeeded" {
		t.Fatalf("run %+v %v", r, err)
	}
	return r
}

// post sends a raw run body and returns the status and decoded answer.
func (e *trainEnv) post(t *testing.T, query, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/projects/"+e.project+"/training/runs"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.owner.Send(req)
	if err != nil {
		var p *api.Problem
		if errors.As(err, &p) {
			b, _ := json.Marshal(p)
			var m map[string]any
			json.Unmarshal(b, &m)
			return p.Status, m
		}
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestTrainingRunsEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newTrainEnv(t, db)

		t.Run("validation", func(t *testing.T) {
			for _, tc := range []struct{ name, body, location string }{
				{"unknown field", e.body(`,"learning_rate":1`), "body/train/learning_rate"},
				{"bad lr", e.body(`,"lr":-1`), "body/train/lr"},
				{"bad method", strings.Replace(e.body(""), `"sft"`, `"ppo"`, 1), "body/method"},
				{"gpus", strings.Replace(e.body(""), `"method"`, `"infra":{"gpus":8,"strategy":"fsdp"},"method"`, 1), "body/infra/gpus"},
				{"fsdp", strings.Replace(e.body(""), `"method"`, `"infra":{"strategy":"fsdp"},"method"`, 1), "body/infra/strategy"},
				{"unknown dataset", strings.Replace(e.body(""), e.ds.ID, "ds_nope", 1), "body/train/dataset_id"},
				{"preference data for sft", strings.Replace(e.body(""), e.ds.ID, e.prefs.ID, 1), "body/train/dataset_id"},
				{"missing base model", strings.Replace(e.body(""), e.base, filepath.Join(e.base, "nope"), 1), "body/base_model"},
				{"hf without a resolver", strings.Replace(e.body(""), e.base, "hf://org/name", 1), "body/base_model"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code, p := e.post(t, "", tc.body)
					if code != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422: %v", code, p)
					}
					errs, _ := p["errors"].([]any)
					for _, x := range errs {
						if m, _ := x.(map[string]any); m["location"] == tc.location {
							if tc.name == "gpus" && !strings.Contains(fmt.Sprint(m["message"]), "not configured") {
								t.Errorf("gpus message %q does not say the backend is not configured", m["message"])
							}
							return
						}
					}
					t.Fatalf("errors %v, want location %s", errs, tc.location)
				})
			}
		})

		t.Run("dry run", func(t *testing.T) {
			plan, err := e.owner.PlanTrainingRun(ctx, e.project, []byte(e.body("")))
			if err != nil {
				t.Fatal(err)
			}
			// 16 train + 4 validation examples; 4 per batch, 2 epochs: 8 steps.
			if plan.Examples != 16 || plan.ValidationExamples != 4 || plan.Steps != 8 || plan.Tokens <= 0 {
				t.Fatalf("plan %+v", plan)
			}
			if plan.PeakMemoryBytes <= plan.Memory.Weights || plan.EstimatedSeconds <= 0 || !strings.Contains(plan.EstimateBasis, "FLOP") {
				t.Fatalf("plan estimates %+v", plan)
			}
			if plan.Config.PEFT.Alpha != 8 || plan.Config.Train.MaxSeqLen != 512 {
				t.Fatalf("resolved config %+v", plan.Config)
			}
			list, err := e.owner.ListTrainingRuns(ctx, e.project, 0, "")
			if err != nil || len(list.Items) != 0 {
				t.Fatalf("a dry run left runs: %+v %v", list, err)
			}
		})

		t.Run("run, metrics, registered version", func(t *testing.T) {
			code, created := e.post(t, "", e.body(""))
			if code != http.StatusCreated || created["status"] != "queued" || !strings.HasPrefix(fmt.Sprint(created["run_id"]), "run_") ||
				!strings.HasPrefix(fmt.Sprint(created["job_id"]), "job_") {
				t.Fatalf("create: %d %v", code, created)
			}
			id := created["run_id"].(string)
			r, err := e.owner.WaitTrainingRun(ctx, id, nil)
			if err != nil || r.Status != "succeeded" {
				t.Fatalf("run %+v: %v", r, err)
			}
			h := r.Metrics.History
			if len(h) != 8 || r.Metrics.Step != 8 || h[0].TokensPerS <= 0 || h[0].LR <= 0 || h[0].GradNorm <= 0 {
				t.Fatalf("metrics %+v", r.Metrics)
			}
			if r.Metrics.ValLoss == nil || *r.Metrics.ValLoss <= 0 || r.Metrics.ValExamples != 4 {
				t.Fatalf("validation loss %v on %d", r.Metrics.ValLoss, r.Metrics.ValExamples)
			}
			if r.Metrics.FinalLoss >= h[0].Loss {
				t.Errorf("loss did not fall: %g → %g", h[0].Loss, r.Metrics.FinalLoss)
			}
			if r.ModelID == "" || r.ModelVersion != 1 || r.Artifacts.CheckpointStep == 0 || r.Artifacts.AdapterFiles["adapter_model.safetensors"] == "" || r.ModelVersionID == "" {
				t.Fatalf("artifacts %+v, version %q", r.Artifacts, r.ModelVersionID)
			}
			// The job's result names the registered version, model and number.
			j, err := e.owner.GetJob(ctx, r.JobID)
			var res struct {
				ModelVersionID string `json:"model_version_id"`
				ModelID        string `json:"model_id"`
				Version        int    `json:"version"`
			}
			if err != nil || json.Unmarshal(j.Result, &res) != nil || res.ModelVersionID != r.ModelVersionID || res.ModelID != r.ModelID || res.Version != 1 {
				t.Fatalf("job result %s, %v", j.Result, err)
			}
			models, err := e.owner.ListModels(ctx, e.project)
			if err != nil || len(models.Items) != 1 || models.Items[0].Name != "reverse-sft" || models.Items[0].LatestVersion != 1 {
				t.Fatalf("models %+v %v", models, err)
			}
			vs, err := e.owner.ListModelVersions(ctx, models.Items[0].ID)
			if err != nil || len(vs.Items) != 1 || vs.Items[0].ID != r.ModelVersionID || vs.Items[0].RunID != id {
				t.Fatalf("versions %+v %v", vs, err)
			}
			v := vs.Items[0]
			dv, err := e.dsvc.GetVersion(ctx, e.orgID, e.ds.ID, "latest")
			if err != nil {
				t.Fatal(err)
			}
			if v.Dataset.LineageHash != dv.LineageHash || v.TemplateHash == "" || v.TokenizerFiles["tokenizer.json"] == "" {
				t.Fatalf("lineage %+v (dataset %s)", v, dv.LineageHash)
			}
			dir := t.TempDir()
			if _, names, err := e.owner.PullModelVersion(ctx, v.ModelID, "1", dir); err != nil || len(names) < 4 {
				t.Fatalf("pull: %v %v", names, err)
			}
			f, err := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			keys := f.Names()
			f.Close()
			sort.Strings(keys)
			if len(keys) != 8 || keys[0] != "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" {
				t.Fatalf("adapter keys %v", keys)
			}
			if _, err := llm.LoadAdapter(dir); err != nil {
				t.Fatalf("pulled adapter does not load: %v", err)
			}
			// The log stream of the run ends with the job's end event.
			resp, err := e.owner.Send(mustReq(t, e.url+"/v1/training/runs/"+id+"/logs?follow=false"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), "registered reverse-sft version 1") || !strings.Contains(string(b), "event: end") {
				t.Fatalf("log stream:\n%s", b)
			}
			recs, err := e.owner.ListAuditLogs(ctx, api.AuditQuery{Action: "model.version.register"}, 10, "")
			if err != nil || len(recs.Items) != 1 || recs.Items[0].TargetID != v.ID {
				t.Fatalf("audit %+v %v", recs, err)
			}
		})

		t.Run("dpo with a named model", func(t *testing.T) {
			if _, err := e.owner.CreateModel(ctx, e.project, api.ModelCreate{Name: "prefs"}); err != nil {
				t.Fatal(err)
			}
			seed := uint64(1)
			r, err := e.owner.CreateTrainingRun(ctx, e.project, finetune.RunSpec{BaseModel: e.base, Method: "dpo",
				Register: &finetune.RegisterTo{ModelName: "prefs"},
				Train:    finetune.TrainSpec{DatasetID: e.prefs.ID, BatchSize: 4, LR: 1e-3, Seed: &seed}})
			if err != nil {
				t.Fatal(err)
			}
			r, err = e.owner.WaitTrainingRun(ctx, r.RunID, nil)
			if err != nil || r.Status != "succeeded" || len(r.Metrics.History) != 2 || r.Metrics.History[0].Accuracy == nil {
				t.Fatalf("dpo run %+v %v", r, err)
			}
			mv, err := e.owner.GetModelVersion(ctx, mustModel(t, e, "prefs"), "latest")
			if err != nil || mv.Version != 1 || mv.Method != "dpo" {
				t.Fatalf("dpo version %+v %v", mv, err)
			}
		})

		t.Run("early stopping", func(t *testing.T) {
			// A far too large learning rate makes the validation loss worse
			// after the first epoch: patience 1 stops the run there.
			body := strings.Replace(e.body(`,"max_grad_norm":0`), `"epochs":2`, `"epochs":20`, 1)
			body = strings.Replace(body, `"lr":0.001`, `"lr":0.5`, 1)
			body = strings.Replace(body, `"method"`, `"callbacks":{"early_stopping":{"patience":1}},"method"`, 1)
			r := e.succeed(t, body)
			evals := 0
			for _, p := range r.Metrics.History {
				if p.ValLoss != nil {
					evals++
					if p.Step%4 != 0 {
						t.Errorf("validation pass at step %d, want once per epoch (4 steps)", p.Step)
					}
				}
			}
			if r.Metrics.Stopped != "early_stopping" || r.Metrics.Step >= 80 || evals < 2 || r.Metrics.BestStep == 0 || r.Metrics.ValLoss == nil {
				t.Fatalf("early stopping: stopped %q after %d steps, %d passes, best step %d", r.Metrics.Stopped, r.Metrics.Step, evals, r.Metrics.BestStep)
			}
			noVal := strings.Replace(body, e.ds.ID, e.prefs.ID, 1)
			noVal = strings.Replace(noVal, `"sft"`, `"dpo"`, 1)
			if code, p := e.post(t, "", noVal); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(p["errors"]), "body/callbacks/early_stopping") {
				t.Fatalf("early stopping without validation records: %d %v", code, p)
			}
		})

		t.Run("eval_every and min_delta", func(t *testing.T) {
			// A pass every 2 steps; a min_delta no pass can beat makes
			// every pass after the first "no better": patience 2 stops the
			// run at the third pass (step 6) and keeps the step-2 weights.
			body := strings.Replace(e.body(`,"eval_every":2`), `"epochs":2`, `"epochs":10`, 1)
			body = strings.Replace(body, `"method"`, `"callbacks":{"early_stopping":{"patience":2,"min_delta":100}},"method"`, 1)
			r := e.succeed(t, body)
			var at []int
			for _, p := range r.Metrics.History {
				if p.ValLoss != nil {
					at = append(at, p.Step)
				}
			}
			if r.Metrics.Stopped != "early_stopping" || r.Metrics.Step != 6 || r.Metrics.BestStep != 2 || !slices.Equal(at, []int{2, 4, 6}) {
				t.Fatalf("stopped %q after %d steps, best step %d, passes at %v; want early_stopping at 6, best 2, passes at 2 4 6",
					r.Metrics.Stopped, r.Metrics.Step, r.Metrics.BestStep, at)
			}
			noVal := strings.Replace(strings.Replace(e.body(`,"eval_every":2`), e.ds.ID, e.prefs.ID, 1), `"sft"`, `"dpo"`, 1)
			if code, p := e.post(t, "", noVal); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(p["errors"]), "body/train/eval_every") {
				t.Fatalf("eval_every without validation records: %d %v", code, p)
			}
			for _, bad := range []string{`,"eval_every":-1`, `,"eval_every":"2"`} {
				if code, p := e.post(t, "", e.body(bad)); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(p["errors"]), "eval_every") {
					t.Fatalf("%s: %d %v", bad, code, p)
				}
			}
			neg := strings.Replace(e.body(""), `"method"`, `"callbacks":{"early_stopping":{"patience":1,"min_delta":-1}},"method"`, 1)
			if code, p := e.post(t, "", neg); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(p["errors"]), "min_delta") {
				t.Fatalf("negative min_delta: %d %v", code, p)
			}
		})

		t.Run("mix", func(t *testing.T) {
			more, err := e.dsvc.Create(ctx, e.orgID, "test", e.project, "more", dataset.KindInstruction, "")
			if err != nil {
				t.Fatal(err)
			}
			finetunetest.AddVersion(t, e.dsvc, e.orgID, more, finetunetest.ReverseRecords(8), nil)
			plan, err := e.owner.PlanTrainingRun(ctx, e.project, []byte(e.body(`,"mix":[{"dataset_id":"`+more.ID+`","weight":1}]`)))
			if err != nil {
				t.Fatal(err)
			}
			if plan.Examples != 24 {
				t.Fatalf("mixed plan has %d examples, want 16 + 8", plan.Examples)
			}
			if code, p := e.post(t, "?dry_run=true", e.body(`,"mix":[{"dataset_id":"`+e.prefs.ID+`","weight":1}]`)); code != http.StatusUnprocessableEntity ||
				!strings.Contains(fmt.Sprint(p["errors"]), "body/train/mix/0/dataset_id") {
				t.Fatalf("mixing preference data into sft: %d %v", code, p)
			}
		})

		t.Run("cancel", func(t *testing.T) {
			long := strings.Replace(e.body(""), `"epochs":2`, `"epochs":1000`, 1)
			code, created := e.post(t, "", long)
			if code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, created)
			}
			id := created["run_id"].(string)
			if _, err := e.owner.CancelTrainingRun(ctx, id); err != nil {
				t.Fatal(err)
			}
			r, err := e.owner.WaitTrainingRun(ctx, id, nil)
			if err != nil || r.Status != "cancelled" || r.ModelVersionID != "" || r.CompletedAt == nil {
				t.Fatalf("cancelled run %+v %v", r, err)
			}
			var mirrored string
			if err := db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT status FROM training_runs WHERE id = ?`), id).Scan(&mirrored); err != nil || mirrored != "cancelled" {
				t.Fatalf("the run row says %q (%v), want cancelled", mirrored, err)
			}
			// Cancelling again answers the run and is not audited again.
			if again, err := e.owner.CancelTrainingRun(ctx, id); err != nil || again.Status != "cancelled" {
				t.Fatalf("second cancel: %+v %v", again, err)
			}
			recs, err := e.owner.ListAuditLogs(ctx, api.AuditQuery{Action: "training.run.cancel", TargetID: id}, 10, "")
			if err != nil || len(recs.Items) != 1 {
				t.Fatalf("cancel audit records %+v %v, want 1", recs, err)
			}
		})

		t.Run("scopes and tenants", func(t *testing.T) {
			k, err := e.owner.CreateAPIKey(ctx, api.APIKeyCreate{Name: "viewer", Role: "viewer"})
			if err != nil {
				t.Fatal(err)
			}
			viewer := api.NewClient(e.url, k.Token)
			var p *api.Problem
			if _, err := viewer.CreateTrainingRunRaw(ctx, e.project, []byte(e.body(""))); !errors.As(err, &p) || p.Status != http.StatusForbidden {
				t.Fatalf("viewer create: %v", err)
			}
			runs, err := viewer.ListTrainingRuns(ctx, e.project, 0, "")
			if err != nil || len(runs.Items) == 0 {
				t.Fatalf("viewer list: %+v %v", runs, err)
			}
			if _, err := viewer.CancelTrainingRun(ctx, runs.Items[0].RunID); !errors.As(err, &p) || p.Status != http.StatusForbidden {
				t.Fatalf("viewer cancel: %v", err)
			}
			for _, path := range []string{"/v1/training/runs/run_foreign", "/v1/models/mdl_foreign", "/v1/models/mdl_foreign/versions"} {
				if err := e.owner.Do(ctx, http.MethodGet, path, nil, nil); !errors.As(err, &p) || p.Status != http.StatusNotFound {
					t.Errorf("GET %s: %v", path, err)
				}
			}
			// Another organisation's owner sees none of it: 404, never 403.
			org2, err := e.auth.CreateOrg(ctx, "test", "other")
			if err != nil {
				t.Fatal(err)
			}
			p2 := &auth.Principal{OrgID: org2.ID, ActorID: "test", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()}
			_, tok2, err := e.auth.CreateKey(ctx, p2, auth.NewAPIKey{Name: "o2", Role: auth.RoleOwner})
			if err != nil {
				t.Fatal(err)
			}
			other := api.NewClient(e.url, tok2)
			run := runs.Items[0]
			mid := mustModel(t, e, "reverse-sft")
			for _, path := range []string{"/v1/training/runs/" + run.RunID, "/v1/training/runs/" + run.RunID + "/logs?follow=false",
				"/v1/models/" + mid, "/v1/models/" + mid + "/versions", "/v1/models/" + mid + "/versions/1",
				"/v1/models/" + mid + "/versions/1/files/adapter_config.json", "/v1/projects/" + e.project + "/training/runs",
				"/v1/projects/" + e.project + "/models"} {
				if err := other.Do(ctx, http.MethodGet, path, nil, nil); !errors.As(err, &p) || p.Status != http.StatusNotFound {
					t.Errorf("foreign GET %s: %v", path, err)
				}
			}
			if _, err := other.CancelTrainingRun(ctx, run.RunID); !errors.As(err, &p) || p.Status != http.StatusNotFound {
				t.Errorf("foreign cancel: %v", err)
			}
			if _, err := other.CreateTrainingRunRaw(ctx, e.project, []byte(e.body(""))); !errors.As(err, &p) || p.Status != http.StatusNotFound {
				t.Errorf("foreign create: %v", err)
			}
		})
	})
}

func mustReq(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func mustModel(t *testing.T, e *trainEnv, name string) string {
	t.Helper()
	list, err := e.owner.ListModels(context.Background(), e.project)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Items {
		if m.Name == name {
			return m.ID
		}
	}
	t.Fatalf("no model %q in %+v", name, list.Items)
	return ""
}
