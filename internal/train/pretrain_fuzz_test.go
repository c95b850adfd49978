package train

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzPretrainResume feeds arbitrary bytes as a checkpoint file: Resume
// must refuse or accept them without panicking, and a refused file must
// leave the run at step 0. Seeds: a real checkpoint, truncated and with a
// flipped header byte.
func FuzzPretrainResume(f *testing.F) {
	docs := countingCorpus(6, 9)
	cfg := pretrainCfg()
	cfg.Steps, cfg.EvalFraction = 2, 0
	m := pretrainModel(f, "llama")
	pt, err := NewPretrainer(m, docs, cfg)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := pt.SaveCheckpoint(dir); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, pretrainCheckpoint))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	bad := append([]byte(nil), good...)
	bad[len(pretrainMagic)] ^= 0xff
	f.Add(bad)
	f.Add([]byte(pretrainMagic + "\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, pretrainCheckpoint), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fresh, err := NewPretrainer(pretrainModel(t, "llama"), docs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		before := append([]float32(nil), fresh.Params().Buf...)
		if err := fresh.Resume(d); err != nil {
			if fresh.Step() != 0 || !slices.Equal(before, fresh.Params().Buf) {
				t.Fatalf("a refused checkpoint changed the run (step %d)", fresh.Step())
			}
		}
	})
}
