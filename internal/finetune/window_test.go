package finetune_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/finetune/finetunetest"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// TestContinualWindow plans continual runs on a newer dataset version:
// new_since trains on the records the earlier version lacks, updated_after
// on those whose metadata timestamp is in the window, and both together on
// the intersection; bad references answer a field error.
func TestContinualWindow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	v1, err := f.svc.Datasets.GetVersion(ctx, f.orgID, f.ds.ID, "latest")
	if err != nil {
		t.Fatal(err)
	}
	recs := finetunetest.ReverseRecords(28)
	// Records 16–27 are new in v2; 16–21 dated before June, 22–27 after;
	// record 0 (old content) gets a new date too, which makes it new content.
	for i := 16; i < 28; i++ {
		date := "2026-03-01T10:00:00Z"
		if i >= 22 {
			date = "2026-07-15"
		}
		recs[i].Metadata = map[string]any{"timestamp": date}
	}
	recs[0].Metadata = map[string]any{"updated_at": "2026-08-01T00:00:00+02:00"}
	finetunetest.AddVersion(t, f.svc.Datasets, f.orgID, f.ds, recs, nil)

	plan := func(mod func(*finetune.TrainSpec)) (*finetune.Plan, error) {
		s := f.spec()
		mod(&s.Train)
		return f.svc.Plan(ctx, f.orgID, f.project, s)
	}
	for _, c := range []struct {
		name      string
		mod       func(*finetune.TrainSpec)
		n, outOfW int
	}{
		{"all", func(*finetune.TrainSpec) {}, 28, 0},
		{"new since v1", func(t *finetune.TrainSpec) { t.NewSince = v1.Version }, 13, 15},
		{"new since v1 by lineage hash", func(t *finetune.TrainSpec) { t.NewSince = v1.LineageHash }, 13, 15},
		{"updated after June", func(t *finetune.TrainSpec) { t.UpdatedAfter = "2026-06-01" }, 7, 21},
		{"both", func(t *finetune.TrainSpec) { t.NewSince, t.UpdatedAfter = v1.Version, "2026-07-15T00:00:00Z" }, 7, 21},
		{"pinned v1, window", func(t *finetune.TrainSpec) { t.DatasetVersion, t.UpdatedAfter = v1.Version, "2026-01-01" }, 0, 16},
	} {
		p, err := plan(c.mod)
		if c.n == 0 {
			if err == nil || !strings.Contains(err.Error(), "none of the 16 records of dataset version 1.0.0 is in the window") {
				t.Errorf("%s: plan %+v, err %v; want no records in the window", c.name, p, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if p.Examples != c.n || p.OutOfWindow != c.outOfW {
			t.Errorf("%s: %d examples, %d out of window; want %d, %d", c.name, p.Examples, p.OutOfWindow, c.n, c.outOfW)
		}
	}
	for field, mod := range map[string]func(*finetune.TrainSpec){
		"/train/new_since":     func(t *finetune.TrainSpec) { t.NewSince = "9.9.9" },
		"/train/updated_after": func(t *finetune.TrainSpec) { t.UpdatedAfter = "last tuesday" },
	} {
		s := f.spec()
		mod(&s.Train)
		_, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, s)
		var ve *finetune.ValidationError
		if !errors.As(err, &ve) || ve.Errors[0].Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, _, err := finetune.ParseSpec([]byte(`{"base_model":"m","method":"sft","train":{"dataset_id":"d","updated_after":"01/02/2026"}}`)); err == nil {
		t.Error("schema accepted updated_after 01/02/2026")
	}
}
