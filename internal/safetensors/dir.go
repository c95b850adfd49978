package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is a set of safetensors files from one model folder with a single
// tensor lookup across all of them.
type Dir struct {
	files []*File
	owner map[string]*File
	names []string
}

// Single and sharded file names used by Hugging Face model folders.
const (
	SingleFile = "model.safetensors"
	IndexFile  = "model.safetensors.index.json"
)

// OpenDir opens dir/model.safetensors, or, when absent, every shard named in
// dir/model.safetensors.index.json. A tensor that the index maps to one shard
// but that shard lacks, or that appears in two shards, is an error.
func OpenDir(dir string) (*Dir, error) {
	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); err == nil {
		f, err := Open(single)
		if err != nil {
			return nil, err
		}
		return newDir([]*File{f})
	}
	raw, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %s: neither %s nor %s found: %w", dir, SingleFile, IndexFile, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: read index: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, IndexFile, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: %s: empty weight_map", ErrInvalid, IndexFile)
	}
	shardSet := map[string]bool{}
	for _, shard := range idx.WeightMap {
		if shard == "" || strings.ContainsAny(shard, `/\`) || shard == "." || shard == ".." {
			return nil, fmt.Errorf("%w: %s: bad shard name %q", ErrInvalid, IndexFile, shard)
		}
		shardSet[shard] = true
	}
	shards := make([]string, 0, len(shardSet))
	for s := range shardSet {
		shards = append(shards, s)
	}
	sort.Strings(shards)
	files := make([]*File, 0, len(shards))
	byShard := map[string]*File{}
	for _, s := range shards {
		f, err := Open(filepath.Join(dir, s))
		if err != nil {
			for _, g := range files {
				g.Close()
			}
			return nil, err
		}
		files = append(files, f)
		byShard[s] = f
	}
	d, err := newDir(files)
	if err != nil {
		return nil, err
	}
	for name, shard := range idx.WeightMap {
		if d.owner[name] != byShard[shard] {
			d.Close()
			return nil, fmt.Errorf("%w: %s maps %q to %s, which does not hold it", ErrInvalid, IndexFile, name, shard)
		}
	}
	return d, nil
}

func newDir(files []*File) (*Dir, error) {
	d := &Dir{files: files, owner: map[string]*File{}}
	for _, f := range files {
		for _, n := range f.names {
			if _, dup := d.owner[n]; dup {
				d.Close()
				return nil, fmt.Errorf("%w: tensor %q appears in two shards", ErrInvalid, n)
			}
			d.owner[n] = f
			d.names = append(d.names, n)
		}
	}
	sort.Strings(d.names)
	return d, nil
}

// Names returns every tensor name across all shards, sorted.
func (d *Dir) Names() []string { return append([]string(nil), d.names...) }

// Info returns the description of the named tensor.
func (d *Dir) Info(name string) (TensorInfo, bool) {
	f, ok := d.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Bytes returns the raw data of the named tensor (a view valid until Close).
func (d *Dir) Bytes(name string) ([]byte, error) {
	f, ok := d.owner[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return f.Bytes(name)
}

// Float32 returns a converted copy of the named float tensor and its shape.
func (d *Dir) Float32(name string) ([]float32, []int, error) {
	f, ok := d.owner[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return f.Float32(name)
}

// Metadata returns the merged __metadata__ of all shards.
func (d *Dir) Metadata() map[string]string {
	m := map[string]string{}
	for _, f := range d.files {
		for k, v := range f.metadata {
			m[k] = v
		}
	}
	return m
}

// Close releases every shard.
func (d *Dir) Close() error {
	var first error
	for _, f := range d.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	d.files = nil
	return first
}
