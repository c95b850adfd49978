package cli

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"github.com/whet-dev/whet/internal/store/storetest"
)

// TestTrainRemoteAndModels submits a YAML run with `whet train -f` (dry
// run, detached, followed), then lists and pulls the registered version
// with `whet models`.
func TestTrainRemoteAndModels(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
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
	tsvc := &finetune.Service{DB: db, Blob: bs, Datasets: dsvc, Jobs: q, Audit: al}
	tsvc.RegisterJobs(q)
	hs := httptest.NewServer(api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Blob: bs, Datasets: dsvc, Training: tsvc}))
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { q.Work(wctx, 1); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	owner := api.NewClient(hs.URL, res.Token)
	prj, err := owner.CreateProject(ctx, api.ProjectCreate{Name: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dsvc.Create(ctx, res.Org.ID, "test", prj.ID, "reverse", dataset.KindInstruction, "")
	if err != nil {
		t.Fatal(err)
	}
	finetunetest.AddVersion(t, dsvc, res.Org.ID, ds, finetunetest.ReverseRecords(8), nil)
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	finetunetest.TinyModel(t, base, 5)
	runFile := filepath.Join(dir, "run.yaml")
	yamlBody := fmt.Sprintf("project_id: %s\nbase_model: %s\nmethod: sft\nname: cli-model\npeft:\n  r: 4\n  target_modules: [q_proj, v_proj]\n"+
		"train:\n  dataset_id: %s\n  epochs: 2\n  batch_size: 4\n  lr: 0.001\n", prj.ID, base, ds.ID)
	if err := os.WriteFile(runFile, []byte(yamlBody), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := []string{"WHET_URL=" + hs.URL, "WHET_TOKEN=" + res.Token}

	code, out, errOut := run(t, vars, "train", "-f", runFile, "--dry-run")
	if code != 0 || !strings.Contains(out, "steps") || !strings.Contains(out, "peak memory") {
		t.Fatalf("dry run: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, vars, "train", "-f", runFile)
	if code != 0 || !strings.Contains(out, "succeeded: 4 steps") {
		t.Fatalf("train -f: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, vars, "train", "-f", runFile, "--detach")
	if code != 0 || !strings.Contains(out, "queued") {
		t.Fatalf("train -f --detach: %d\n%s\n%s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(yamlBody, "lr: 0.001", "lr: -1", 1)), 0o644)
	if code, _, errOut := run(t, vars, "train", "-f", bad); code == 0 || !strings.Contains(errOut, "body/train/lr") {
		t.Fatalf("a bad body: %d %s", code, errOut)
	}
	code, out, errOut = run(t, vars, "models", "list", "--project", prj.ID)
	if code != 0 || !strings.Contains(out, "cli-model") {
		t.Fatalf("models list: %d\n%s\n%s", code, out, errOut)
	}
	models, err := owner.ListModels(ctx, prj.ID)
	if err != nil || len(models.Items) != 1 {
		t.Fatalf("models %+v %v", models, err)
	}
	id := models.Items[0].ID
	code, out, errOut = run(t, vars, "models", "versions", id)
	if code != 0 || !strings.Contains(out, "sft") {
		t.Fatalf("models versions: %d\n%s\n%s", code, out, errOut)
	}
	pulled := filepath.Join(dir, "pulled")
	if code, out, errOut := run(t, vars, "models", "pull", id+"@1", "--out", pulled); code != 0 {
		t.Fatalf("models pull: %d\n%s\n%s", code, out, errOut)
	}
	// The pulled folder serves: whet generate --adapter loads it.
	if code, _, errOut := run(t, nil, "generate", "--model", base, "--adapter", pulled, "--prompt", "reverse abc", "--max-tokens", "2", "--json"); code != 0 {
		t.Fatalf("generate with the pulled adapter: %s", errOut)
	}
}
