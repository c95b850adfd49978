package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/whet-dev/whet/internal/dataset"
)

// FolderConfig is a local-folder source: every regular file under Path whose
// slash-separated relative path matches an Include glob (all files when none)
// and no Exclude glob. Globs use path.Match syntax per element, plus "**" for
// any number of directories.
type FolderConfig struct {
	Path    string   `json:"path"`
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// Validate checks the folder exists and the globs parse.
func (c FolderConfig) Validate() error {
	if c.Path == "" {
		return fmt.Errorf("%w: folder source needs a path", ErrConfig)
	}
	for _, g := range append(append([]string(nil), c.Include...), c.Exclude...) {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return fmt.Errorf("%w: bad glob %q", ErrConfig, g)
		}
	}
	return nil
}

// matchGlob matches a slash path against a glob with "**" support.
func matchGlob(glob, p string) bool {
	gs, ps := strings.Split(glob, "/"), strings.Split(p, "/")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(gs) {
			return j == len(ps)
		}
		if gs[i] == "**" {
			for k := j; k <= len(ps); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		if j == len(ps) {
			return false
		}
		ok, _ := path.Match(gs[i], ps[j])
		return ok && match(i+1, j+1)
	}
	return match(0, 0)
}

func (c FolderConfig) selects(rel string) bool {
	if len(c.Include) > 0 {
		in := false
		for _, g := range c.Include {
			if matchGlob(g, rel) || (!strings.Contains(g, "/") && matchGlob(g, path.Base(rel))) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, g := range c.Exclude {
		if matchGlob(g, rel) || (!strings.Contains(g, "/") && matchGlob(g, path.Base(rel))) {
			return false
		}
	}
	return true
}

// SyncFolder ingests the selected files of a folder in path order, calling
// progress after each. Files that vanished since the last sync are
// tombstoned when src.ID is set. Unchanged files are recognised by their
// fingerprint and add nothing.
func (in *Ingester) SyncFolder(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, cfg FolderConfig, progress func(done, total int)) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || !cfg.selects(rel) {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", cfg.Path, err)
	}
	sort.Strings(files)
	sum := &Summary{}
	seen := make(map[string]bool, len(files))
	for i, rel := range files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		st, err := os.Stat(full)
		if err != nil {
			sum.Add(FileResult{Name: rel, Status: "error", Error: err.Error()})
			continue
		}
		f, err := os.Open(full)
		if err != nil {
			sum.Add(FileResult{Name: rel, Status: "error", Error: err.Error()})
			continue
		}
		for _, r := range in.IngestFile(ctx, orgID, ds, src, rel, st.Size(), st.ModTime(), f) {
			sum.Add(r)
			seen[r.Name] = true
		}
		f.Close()
		if progress != nil {
			progress(i+1, len(files))
		}
	}
	if src.ID != "" {
		if _, err := in.Datasets.Tombstone(ctx, ds.ID, src.ID, seen); err != nil {
			return sum, err
		}
	}
	return sum, nil
}
