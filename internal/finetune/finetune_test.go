package finetune_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/finetune/finetunetest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func TestParseSpec(t *testing.T) {
	const ok = `{"base_model":"m","method":"sft","train":{"dataset_id":"ds_1","epochs":3,"batch_size":64,"lr":2e-4,"max_seq_len":4096},
		"peft":{"type":"qlora","r":16,"alpha":32,"target_modules":["q_proj","v_proj","k_proj","o_proj"],"bnb_4bit":true},
		"eval":{"suite":["domain_em_f1","hallucination"],"thresholds":{"em":0.75}},"callbacks":{"early_stopping":{"patience":2}}}`
	spec, _, err := finetune.ParseSpec([]byte(ok))
	if err != nil {
		t.Fatalf("PRD body rejected: %v", err)
	}
	if spec.PEFT.R != 16 || spec.Train.BatchSize != 64 || spec.Callbacks.EarlyStopping.Patience != 2 {
		t.Fatalf("decoded %+v", spec)
	}
	seq, _, err := finetune.ParseSpec([]byte(`{"base_model":"m","method":"distill","train":{"dataset_id":"d","teacher_model":"t","distill_mode":"sequence","max_new_tokens":16}}`))
	if err != nil || seq.Train.DistillMode != "sequence" || seq.Train.MaxNewTokens != 16 {
		t.Fatalf("sequence distillation body: %+v, %v", seq.Train, err)
	}
	for _, tc := range []struct{ name, body, field, msg string }{
		{"unknown field", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","learning_rate":1}}`, "/train/learning_rate", "unknown"},
		{"unknown top-level field", `{"base_model":"m","method":"sft","train":{"dataset_id":"d"},"gpu":true}`, "/gpu", "unknown"},
		{"bad lr", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","lr":-1}}`, "/train/lr", ""},
		{"lr as string", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","lr":"fast"}}`, "/train/lr", ""},
		{"bad method", `{"base_model":"m","method":"ppo","train":{"dataset_id":"d"}}`, "/method", ""},
		{"missing dataset", `{"base_model":"m","method":"sft","train":{}}`, "/train/dataset_id", "required"},
		{"bad target module", `{"base_model":"m","method":"sft","peft":{"target_modules":["qkv"]},"train":{"dataset_id":"d"}}`, "/peft/target_modules/0", ""},
		{"gpus", `{"base_model":"m","method":"sft","train":{"dataset_id":"d"},"infra":{"gpus":8,"gpu_type":"A100_80GB","strategy":"fsdp"}}`, "/infra/gpus", "cluster training backend is not configured"},
		{"strategy", `{"base_model":"m","method":"sft","train":{"dataset_id":"d"},"infra":{"strategy":"deepspeed"}}`, "/infra/strategy", "not configured"},
		{"gpu type", `{"base_model":"m","method":"sft","train":{"dataset_id":"d"},"infra":{"gpu_type":"H100"}}`, "/infra/gpu_type", "not configured"},
		{"distill without teacher", `{"base_model":"m","method":"distill","train":{"dataset_id":"d"}}`, "/train/teacher_model", ""},
		{"rpo_alpha on sft", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","rpo_alpha":1}}`, "/train/rpo_alpha", ""},
		{"negative rpo_alpha", `{"base_model":"m","method":"dpo","train":{"dataset_id":"d","rpo_alpha":-1}}`, "/train/rpo_alpha", ""},
		{"distill_mode on sft", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","distill_mode":"sequence"}}`, "/train/distill_mode", "method distill"},
		{"bad distill_mode", `{"base_model":"m","method":"distill","train":{"dataset_id":"d","teacher_model":"t","distill_mode":"tokens"}}`, "/train/distill_mode", ""},
		{"negative max_new_tokens", `{"base_model":"m","method":"distill","train":{"dataset_id":"d","teacher_model":"t","distill_mode":"sequence","max_new_tokens":-1}}`, "/train/max_new_tokens", ""},
		{"max_new_tokens in logits mode", `{"base_model":"m","method":"distill","train":{"dataset_id":"d","teacher_model":"t","max_new_tokens":16}}`, "/train/max_new_tokens", "distill_mode sequence"},
		{"max_new_tokens on sft", `{"base_model":"m","method":"sft","train":{"dataset_id":"d","max_new_tokens":16}}`, "/train/max_new_tokens", "distill_mode sequence"},
		{"8-bit lora", `{"base_model":"m","method":"sft","peft":{"bnb_8bit":true},"train":{"dataset_id":"d"}}`, "/peft/bnb_8bit", ""},
		{"not json", `{"base_model":`, "/", "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := finetune.ParseSpec([]byte(tc.body))
			var ve *finetune.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err %v, want a ValidationError", err)
			}
			for _, f := range ve.Errors {
				if f.Field == tc.field && strings.Contains(f.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("errors %+v, want %s (%q)", ve.Errors, tc.field, tc.msg)
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"base_model":"m","method":"sft","train":{"dataset_id":"d","lr":0.001}}`))
	f.Add([]byte(`{"base_model":"m","method":"dpo","train":{"dataset_id":"d"},"infra":{"gpus":1}}`))
	f.Add([]byte(`{"base_model":"hf://a/b","method":"distill","train":{"dataset_id":"d","teacher_model":"t","replay":{"dataset_id":"x","ratio":0.5}}}`))
	f.Add([]byte(`{"base_model":"m","method":"distill","train":{"dataset_id":"d","teacher_model":"t","distill_mode":"sequence","max_new_tokens":8}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, _, err := finetune.ParseSpec(b)
		if err != nil {
			var ve *finetune.ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error %v is not a ValidationError with fields", err)
			}
			return
		}
		if spec.BaseModel == "" || spec.Train.DatasetID == "" {
			t.Fatalf("accepted a spec without base model or dataset: %s", b)
		}
	})
}

type fixture struct {
	db      *store.DB
	svc     *finetune.Service
	orgID   string
	project string
	ds      *dataset.Dataset
	base    string
	blobDir string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	al := audit.New(db, nil)
	blobDir := t.TempDir()
	bs, err := local.Open(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, orgID: "org_test", project: "prj_test", blobDir: blobDir}
	now := store.FormatTime(time.Now())
	if _, err := db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`), f.orgID, "test", now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`), f.project, f.orgID, "p", now, now); err != nil {
		t.Fatal(err)
	}
	dsvc := dataset.NewService(db, bs, al, nil)
	f.ds, err = dsvc.Create(ctx, f.orgID, "usr_test", f.project, "reverse", dataset.KindInstruction, "")
	if err != nil {
		t.Fatal(err)
	}
	finetunetest.AddVersion(t, dsvc, f.orgID, f.ds, finetunetest.ReverseRecords(16), nil)
	f.base = filepath.Join(t.TempDir(), "base")
	finetunetest.TinyModel(t, f.base, 7)
	f.svc = &finetune.Service{DB: db, Blob: bs, Datasets: dsvc, Audit: al}
	return f
}

// queue returns a job queue on the fixture's database with the run kind
// registered; each call is another worker.
func (f *fixture) queue(name string) *jobs.Queue {
	q := jobs.New(f.db, jobs.Options{WorkerID: name, Heartbeat: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		LeaseTTL: 2 * time.Second, ShutdownGrace: 5 * time.Second})
	f.svc.Jobs = q
	f.svc.RegisterJobs(q)
	return q
}

func (f *fixture) spec() finetune.RunSpec {
	seed := uint64(3)
	return finetune.RunSpec{BaseModel: f.base, Method: "sft", Name: "rev",
		PEFT:  finetune.PEFTSpec{R: 4, TargetModules: []string{"q_proj", "v_proj", "down_proj"}},
		Train: finetune.TrainSpec{DatasetID: f.ds.ID, Epochs: 2, BatchSize: 4, LR: 0.02, CheckpointEvery: 4, Seed: &seed}}
}

// referenceRun runs f.spec() to its end on a worker of this process: the
// uninterrupted run the resume tests compare against.
func (f *fixture) referenceRun(t *testing.T) *finetune.Run {
	t.Helper()
	q0 := f.queue("w0")
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q0.Work(wctx, 1); close(done) }()
	defer func() { stop(); <-done }()
	ref, err := f.svc.Create(context.Background(), f.orgID, "usr_test", f.project, f.spec())
	if err != nil {
		t.Fatal(err)
	}
	return waitRun(t, f.svc, f.orgID, ref.RunID)
}

// checkResumed asserts that got, resumed from its step-4 checkpoint, ran
// the same 8 steps as the uninterrupted run want, to the same losses.
func checkResumed(t *testing.T, got, want *finetune.Run) {
	t.Helper()
	if got.Metrics.ResumedFrom != 4 {
		t.Errorf("resumed from step %d, want 4", got.Metrics.ResumedFrom)
	}
	if got.Metrics.Step != want.Metrics.Step || want.Metrics.Step <= 6 {
		t.Fatalf("steps %d vs %d uninterrupted, want equal and past the stop at step 6", got.Metrics.Step, want.Metrics.Step)
	}
	if got.Metrics.FinalLoss != want.Metrics.FinalLoss {
		t.Fatalf("final loss after resume %.9g, uninterrupted %.9g", got.Metrics.FinalLoss, want.Metrics.FinalLoss)
	}
	if len(got.Metrics.History) != len(want.Metrics.History) {
		t.Fatalf("history has %d points, uninterrupted %d", len(got.Metrics.History), len(want.Metrics.History))
	}
	for i, p := range got.Metrics.History {
		if p.Step != i+1 || p.Loss != want.Metrics.History[i].Loss {
			t.Fatalf("history point %d: step %d loss %g, uninterrupted %g", i, p.Step, p.Loss, want.Metrics.History[i].Loss)
		}
	}
}

// stopAndResume submits spec, lets a first worker stop during step 6
// (its context cancelled: a shutdown), and a second worker finish the
// run. It returns the run as the first worker left it and as it ended.
func (f *fixture) stopAndResume(t *testing.T, spec finetune.RunSpec) (mid, got *finetune.Run) {
	t.Helper()
	ctx := context.Background()
	q1 := f.queue("w1")
	w1ctx, kill := context.WithCancel(ctx)
	var once sync.Once
	f.svc.SetStepHook(func(hctx context.Context, step int) {
		if step == 6 {
			once.Do(func() {
				kill()
				<-hctx.Done()
			})
		}
	})
	done1 := make(chan struct{})
	go func() { q1.Work(w1ctx, 1); close(done1) }()
	run, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, spec)
	if err != nil {
		t.Fatal(err)
	}
	<-done1
	f.svc.SetStepHook(nil)
	if mid, err = f.svc.Get(ctx, f.orgID, run.RunID); err != nil {
		t.Fatal(err)
	}
	q2 := f.queue("w2")
	w2ctx, stop2 := context.WithCancel(ctx)
	done2 := make(chan struct{})
	go func() { q2.Work(w2ctx, 1); close(done2) }()
	got = waitRun(t, f.svc, f.orgID, run.RunID)
	stop2()
	<-done2
	return mid, got
}

func waitRun(t *testing.T, svc *finetune.Service, orgID, id string) *finetune.Run {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // generous: -race on a loaded 2-core CI machine
	for {
		r, err := svc.Get(context.Background(), orgID, id)
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case "succeeded":
			return r
		case "failed", "cancelled":
			t.Fatalf("run %s %s: %s", id, r.Status, r.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s (%s)", id, r.Status, r.Stage)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// TestResumeAfterWorkerDies stops the worker running a job after its
// checkpoint at step 4 (the worker is shut down mid-step 6, as a dying
// worker would stop) and lets a second worker finish it: the second resumes
// from the checkpoint and the final loss equals an uninterrupted run's.
func TestResumeAfterWorkerDies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		// Uninterrupted reference run.
		want := f.referenceRun(t)

		// Interrupted run: worker 1 stops during step 6.
		mid, got := f.stopAndResume(t, f.spec())
		if mid.Status != "queued" || mid.Artifacts.CheckpointStep != 4 {
			t.Fatalf("after the first worker stopped: status %s, checkpoint at step %d", mid.Status, mid.Artifacts.CheckpointStep)
		}
		checkResumed(t, got, want)
		if want.Metrics.History[0].Loss <= want.Metrics.FinalLoss {
			t.Errorf("loss did not fall: %g → %g", want.Metrics.History[0].Loss, want.Metrics.FinalLoss)
		}
		// Each run registered exactly one version of the model "rev".
		m, err := f.svc.ListModels(ctx, f.orgID, f.project)
		if err != nil || len(m) != 1 || m[0].Name != "rev" || m[0].LatestVersion != 2 {
			t.Fatalf("models %+v, %v", m, err)
		}
		v, err := f.svc.GetVersionByID(ctx, f.orgID, got.ModelVersionID)
		if err != nil || v.RunID != got.RunID || v.Dataset.LineageHash == "" || !strings.HasPrefix(v.Dataset.URI, "ds://") || v.AdapterFiles["adapter_model.safetensors"] == "" {
			t.Fatalf("version %+v, %v", v, err)
		}
	})
}

// TestContinualQLoRADistill chains runs on one registry: a continual run
// from a registered adapter (init_adapter) starts where the first ended; a
// QLoRA run on a registered version as its base (adapter merged, NF4) and
// a distillation run from a teacher folder complete and register.
func TestContinualQLoRADistill(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	q := f.queue("w")
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { q.Work(wctx, 1); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	runSpec := func(mod func(*finetune.RunSpec)) *finetune.Run {
		t.Helper()
		s := f.spec()
		s.Train.Epochs = 1
		mod(&s)
		r, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, s)
		if err != nil {
			t.Fatal(err)
		}
		return waitRun(t, f.svc, f.orgID, r.RunID)
	}
	first := runSpec(func(s *finetune.RunSpec) { s.Train.Epochs, s.Train.LR = 5, 0.02 })
	cont := runSpec(func(s *finetune.RunSpec) { s.Train.InitAdapter, s.Train.LR = first.ModelVersionID, 0.02 })
	if c0, f0 := cont.Metrics.History[0].Loss, first.Metrics.History[0].Loss; c0 >= f0-0.1 {
		t.Errorf("continual run starts at loss %.4f, the first run started at %.4f and ended at %.4f", c0, f0, first.Metrics.FinalLoss)
	}
	ql := runSpec(func(s *finetune.RunSpec) {
		s.BaseModel = first.ModelVersionID
		s.PEFT.Type = "qlora"
		s.Name = "on-registered"
	})
	v, err := f.svc.GetVersionByID(ctx, f.orgID, ql.ModelVersionID)
	if err != nil || v.BaseModel != first.ModelVersionID || ql.Config.PEFT.BNB4Bit != true {
		t.Fatalf("qlora version %+v (%v), config %+v", v, err, ql.Config.PEFT)
	}
	dist := runSpec(func(s *finetune.RunSpec) {
		s.Method = "distill"
		s.Train.TeacherModel = f.base
		s.Name = "distilled"
	})
	if dist.Metrics.Step != 4 || dist.Config.Train.Temperature != 2 {
		t.Fatalf("distill run %+v", dist.Metrics)
	}
	if _, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, finetune.RunSpec{BaseModel: "hf://org/name", Method: "sft",
		Train: finetune.TrainSpec{DatasetID: f.ds.ID}}); err == nil || !strings.Contains(err.Error(), "resolver") {
		t.Fatalf("hf:// without a resolver: %v", err)
	}
	// With a resolver (the server wires internal/hub) hf:// names a folder.
	f.svc.Resolve = func(ctx context.Context, ref string) (string, error) {
		if ref == "hf://org/tiny" {
			return f.base, nil
		}
		return "", errors.New("no such repo")
	}
	plan, err := f.svc.Plan(ctx, f.orgID, f.project, finetune.RunSpec{BaseModel: "hf://org/tiny", Method: "sft",
		Train: finetune.TrainSpec{DatasetID: f.ds.ID}})
	if err != nil || plan.Examples != 16 || plan.Steps != 4 || plan.Architecture == "" {
		t.Fatalf("plan on hf://org/tiny: %+v %v", plan, err)
	}
	if _, err := f.svc.Plan(ctx, f.orgID, f.project, finetune.RunSpec{BaseModel: "hf://org/missing", Method: "sft",
		Train: finetune.TrainSpec{DatasetID: f.ds.ID}}); err == nil || !strings.Contains(err.Error(), "no such repo") {
		t.Fatalf("plan on a missing hf:// repo: %v", err)
	}
}

// TestResumeAfterLeaseLost simulates a worker killed mid-run: worker 1
// stalls in step 6 without heartbeating progress past its checkpoint at
// step 4, and worker 2, whose clock runs an hour ahead, finds the lease
// expired and reclaims the job. Worker 1 loses its lease (its writes are
// refused) and worker 2 resumes from the checkpoint to the uninterrupted
// run's final loss, registering exactly one version.
func TestResumeAfterLeaseLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		want := f.referenceRun(t)

		reclaim := make(chan struct{})
		var once sync.Once
		f.svc.SetStepHook(func(hctx context.Context, step int) {
			if step == 6 {
				once.Do(func() {
					close(reclaim)
					<-hctx.Done() // stalled until the lease is lost
				})
			}
		})
		q1 := f.queue("w1")
		w1ctx, stop1 := context.WithCancel(ctx)
		done1 := make(chan struct{})
		go func() { q1.Work(w1ctx, 1); close(done1) }()
		t.Cleanup(func() { stop1(); <-done1 })
		run, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, f.spec())
		if err != nil {
			t.Fatal(err)
		}
		<-reclaim
		later := func() time.Time { return time.Now().Add(time.Hour) }
		q2 := jobs.New(f.db, jobs.Options{WorkerID: "w2", Clock: later, Heartbeat: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond,
			LeaseTTL: 2 * time.Second})
		f.svc.RegisterJobs(q2)
		w2ctx, stop2 := context.WithCancel(ctx)
		done2 := make(chan struct{})
		go func() { q2.Work(w2ctx, 1); close(done2) }()
		t.Cleanup(func() { stop2(); <-done2 })
		got := waitRun(t, f.svc, f.orgID, run.RunID)
		if got.Metrics.ResumedFrom != 4 || got.Metrics.FinalLoss != want.Metrics.FinalLoss || got.Metrics.Step != want.Metrics.Step {
			t.Fatalf("after reclaim: resumed from %d, %d steps, final loss %.9g; uninterrupted %d steps, %.9g",
				got.Metrics.ResumedFrom, got.Metrics.Step, got.Metrics.FinalLoss, want.Metrics.Step, want.Metrics.FinalLoss)
		}
		j, err := q2.Get(ctx, f.orgID, got.JobID)
		if err != nil || j.Attempts != 2 {
			t.Fatalf("job %+v %v", j, err)
		}
		vs, err := f.svc.ListVersions(ctx, f.orgID, mustModelID(t, f))
		if err != nil || len(vs) != 2 {
			t.Fatalf("versions %d (want one per run): %v", len(vs), err)
		}
	})
}

func mustModelID(t *testing.T, f *fixture) string {
	t.Helper()
	ms, err := f.svc.ListModels(context.Background(), f.orgID, f.project)
	if err != nil || len(ms) != 1 {
		t.Fatalf("models %+v %v", ms, err)
	}
	return ms[0].ID
}
