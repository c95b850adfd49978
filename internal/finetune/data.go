package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/train"
)

// data is a run's tokenised training and validation sets.
type data struct {
	Ref      DatasetRef
	Name     string // dataset name
	Examples []train.Example
	Pairs    []train.Pair
	Val      []train.Example
	ValPairs []train.Pair
	Tokens   int64 // tokens of one epoch of the training set
	// OutOfWindow counts the records a continual run's window left out.
	OutOfWindow int
}

func (d *data) n() int { return len(d.Examples) + len(d.Pairs) }

// versionRecords reads a dataset version's records from the blob store
// (exactly the version's content) with each item's split.
func (s *Service) versionRecords(ctx context.Context, orgID, datasetID, ref string) (*dataset.Dataset, *dataset.Version, []dataset.Item, []dataset.Record, error) {
	ds, err := s.Datasets.Get(ctx, orgID, datasetID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	v, err := s.Datasets.GetVersion(ctx, orgID, datasetID, ref)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, err := s.Datasets.Manifest(ctx, v)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	recs := make([]dataset.Record, len(m.Items))
	for i, it := range m.Items {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, nil, err
		}
		b, err := s.Datasets.ReadBlob(ctx, it.Digest)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("dataset item %s: %w", it.ID, err)
		}
		if err := json.Unmarshal(b, &recs[i]); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("dataset item %s: %w", it.ID, err)
		}
	}
	return ds, v, m.Items, recs, nil
}

func toTrainRecord(r dataset.Record) train.Record {
	out := train.Record{Instruction: r.Instruction, Input: r.Input, Output: r.Output, Prompt: r.Prompt, Chosen: r.Chosen, Rejected: r.Rejected}
	for _, m := range r.Messages {
		out.Messages = append(out.Messages, train.Message{Role: m.Role, Content: m.Content})
	}
	return out
}

// teachFunc answers prompts (token ids) with the teacher's responses, in
// order: the targets of sequence-level distillation.
type teachFunc func(ctx context.Context, prompts [][]int) ([][]int, error)

// prompted is a training record of sequence-level distillation: its prompt
// waits for the teacher's answer.
type prompted struct {
	item   string // dataset item id, for errors
	prompt []int
}

// answered turns the prompts of sets into SFT examples of the teacher's
// answers, asking teach once for all of them (one pass of batched decoding,
// one progress count).
func answered(ctx context.Context, teach teachFunc, fm train.Formatter, sets ...[]prompted) ([][]train.Example, error) {
	var all [][]int
	for _, set := range sets {
		for _, p := range set {
			all = append(all, p.prompt)
		}
	}
	out := make([][]train.Example, len(sets))
	if len(all) == 0 {
		return out, nil
	}
	answers, err := teach(ctx, all)
	if err != nil {
		return nil, err
	}
	if len(answers) != len(all) {
		return nil, fmt.Errorf("finetune: teacher answered %d of %d prompts", len(answers), len(all))
	}
	k := 0
	for i, set := range sets {
		for _, p := range set {
			ex, err := train.FromPromptResponse(p.prompt, answers[k], fm.MaxLen)
			if err != nil {
				return nil, fmt.Errorf("%w: item %s: teacher answer: %v", train.ErrData, p.item, err)
			}
			out[i] = append(out[i], ex)
			k++
		}
	}
	return out, nil
}

// loadData reads and tokenises the run's dataset version: items of the
// validation split go to the validation set, test items are left out, the
// rest train. A replay dataset (latest version) is mixed in for SFT. With
// teach (sequence-level distillation; nil otherwise) the training records
// of the main and mix datasets learn the teacher's answers to their
// prompts instead of their own answers; validation and replay records keep
// their own.
func (s *Service) loadData(ctx context.Context, orgID string, spec RunSpec, fm train.Formatter, teach teachFunc) (*data, error) {
	ds, v, items, recs, err := s.versionRecords(ctx, orgID, spec.Train.DatasetID, spec.Train.DatasetVersion)
	if err != nil {
		return nil, err
	}
	d := &data{Name: ds.Name, Ref: DatasetRef{ID: ds.ID, Version: v.Version, URI: v.URI, LineageHash: v.LineageHash, ManifestDigest: v.ManifestDigest}}
	keep, err := s.window(ctx, orgID, spec.Train)
	if err != nil {
		return nil, err
	}
	valSplit := valSplitOf(spec)
	pref := spec.Method == "dpo" || spec.Method == "ipo"
	var mainPrompts []prompted // with teach: the main dataset's training prompts
	for i, raw := range recs {
		if keep != nil && !keep(items[i], raw) {
			d.OutOfWindow++
			continue
		}
		r := toTrainRecord(raw)
		split := items[i].Split
		if split == "test" && valSplit != "test" {
			continue
		}
		val := split == valSplit
		if pref {
			p, err := fm.Preference(r)
			if err != nil {
				return nil, fmt.Errorf("%w: item %s: %v", train.ErrData, items[i].ID, err)
			}
			if val {
				d.ValPairs = append(d.ValPairs, p)
			} else {
				d.Pairs = append(d.Pairs, p)
				d.Tokens += int64(len(p.Chosen.Tokens) + len(p.Rejected.Tokens))
			}
			continue
		}
		if teach != nil && !val {
			p, err := fm.PromptTokens(r)
			if err != nil {
				return nil, fmt.Errorf("%w: item %s: %v", train.ErrData, items[i].ID, err)
			}
			mainPrompts = append(mainPrompts, prompted{item: items[i].ID, prompt: p})
			continue
		}
		ex, err := fm.SFT(r)
		if err != nil {
			return nil, fmt.Errorf("%w: item %s: %v", train.ErrData, items[i].ID, err)
		}
		if val {
			d.Val = append(d.Val, ex)
		} else {
			d.Examples = append(d.Examples, ex)
		}
	}
	// The mix datasets' training records (latest versions), read before
	// the teacher answers so that it answers all prompts in one pass.
	var mixSets [][]train.Example
	var mixPrompts [][]prompted
	if !pref {
		for _, mx := range spec.Train.Mix {
			_, _, mitems, mrecs, err := s.versionRecords(ctx, orgID, mx.DatasetID, "latest")
			if err != nil {
				return nil, fmt.Errorf("mix dataset %s: %w", mx.DatasetID, err)
			}
			var set []train.Example
			var ps []prompted
			for i, r := range mrecs {
				if mitems[i].Split == "validation" || mitems[i].Split == "test" {
					continue
				}
				if teach != nil {
					p, err := fm.PromptTokens(toTrainRecord(r))
					if err != nil {
						return nil, fmt.Errorf("%w: mix item %s: %v", train.ErrData, mitems[i].ID, err)
					}
					ps = append(ps, prompted{item: mitems[i].ID, prompt: p})
					continue
				}
				ex, err := fm.SFT(toTrainRecord(r))
				if err != nil {
					return nil, fmt.Errorf("%w: mix item %s: %v", train.ErrData, mitems[i].ID, err)
				}
				set = append(set, ex)
			}
			mixSets, mixPrompts = append(mixSets, set), append(mixPrompts, ps)
		}
	}
	if teach != nil {
		sets, err := answered(ctx, teach, fm, append([][]prompted{mainPrompts}, mixPrompts...)...)
		if err != nil {
			return nil, err
		}
		d.Examples = sets[0]
		copy(mixSets, sets[1:])
	}
	if rp := spec.Train.Replay; rp != nil && !pref {
		_, _, ritems, rrecs, err := s.versionRecords(ctx, orgID, rp.DatasetID, "latest")
		if err != nil {
			return nil, fmt.Errorf("replay dataset: %w", err)
		}
		var old []train.Example
		for i, r := range rrecs {
			if ritems[i].Split == "validation" || ritems[i].Split == "test" {
				continue
			}
			ex, err := fm.SFT(toTrainRecord(r))
			if err != nil {
				return nil, fmt.Errorf("%w: replay item %s: %v", train.ErrData, ritems[i].ID, err)
			}
			old = append(old, ex)
		}
		d.Examples = train.MixReplay(d.Examples, old, rp.Ratio, *spec.Train.Seed)
	}
	if len(mixSets) > 0 {
		sets, weights := append([][]train.Example{d.Examples}, mixSets...), []float64{1}
		for _, mx := range spec.Train.Mix {
			weights = append(weights, mx.Weight)
		}
		if d.Examples, err = train.MixWeighted(sets, weights, 0, *spec.Train.Seed); err != nil {
			return nil, err
		}
	}
	for _, ex := range d.Examples {
		d.Tokens += int64(len(ex.Tokens))
	}
	if d.n() == 0 {
		if d.OutOfWindow > 0 {
			return nil, fmt.Errorf("%w: none of the %d records of dataset version %s is in the window (new_since %q, updated_after %q)",
				train.ErrData, d.OutOfWindow, v.Version, spec.Train.NewSince, spec.Train.UpdatedAfter)
		}
		return nil, fmt.Errorf("%w: dataset version %s has no training records", train.ErrData, v.Version)
	}
	return d, nil
}

// window returns which records of the main dataset a continual run trains
// on — those whose content is not in the new_since version and whose
// metadata timestamp is within updated_after — or nil for all.
func (s *Service) window(ctx context.Context, orgID string, t TrainSpec) (func(dataset.Item, dataset.Record) bool, error) {
	if t.NewSince == "" && t.UpdatedAfter == "" {
		return nil, nil
	}
	var old map[string]bool
	if t.NewSince != "" {
		v, err := s.Datasets.GetVersion(ctx, orgID, t.DatasetID, t.NewSince)
		if err != nil {
			return nil, invalid("/train/new_since", "no such version of the dataset")
		}
		m, err := s.Datasets.Manifest(ctx, v)
		if err != nil {
			return nil, err
		}
		old = make(map[string]bool, len(m.Items))
		for _, it := range m.Items {
			old[it.Digest] = true
		}
	}
	var after time.Time
	if t.UpdatedAfter != "" {
		var err error
		if after, err = parseWindowTime(t.UpdatedAfter); err != nil {
			return nil, invalid("/train/updated_after", err.Error())
		}
	}
	return func(it dataset.Item, r dataset.Record) bool {
		if old[it.Digest] {
			return false
		}
		if !after.IsZero() {
			ts, ok := recordTime(r)
			return ok && !ts.Before(after)
		}
		return true
	}, nil
}

// parseWindowTime reads a date (midnight UTC) or an RFC 3339 time.
func parseWindowTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, strings.Replace(s, " ", "T", 1))
	if err != nil {
		return time.Time{}, fmt.Errorf("not a date (2026-01-31) or RFC 3339 time: %q", s)
	}
	return t, nil
}

// recordTime is a record's metadata timestamp: the first of updated_at,
// timestamp, created_at and date that parses.
func recordTime(r dataset.Record) (time.Time, bool) {
	for _, k := range []string{"updated_at", "timestamp", "created_at", "date"} {
		if v, ok := r.Metadata[k].(string); ok {
			if t, err := parseWindowTime(v); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// totalSteps mirrors train.Run's step count: micro-batches of all epochs
// grouped by the accumulation, capped by max_steps.
func totalSteps(n int, t TrainSpec) int {
	per := (n + t.BatchSize - 1) / t.BatchSize
	total := (per*t.Epochs + t.GradAccum - 1) / t.GradAccum
	if t.MaxSteps > 0 {
		total = min(total, t.MaxSteps)
	}
	return total
}

// valSplitOf is the split held out for validation.
func valSplitOf(spec RunSpec) string {
	if spec.Train.ValidationSplit != "" {
		return spec.Train.ValidationSplit
	}
	return "validation"
}
