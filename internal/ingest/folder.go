package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// folderCursor remembers each file's size and modification time, so a sync
// reads only files that changed.
type folderCursor struct {
	Files map[string]string `json:"files"` // rel path → "size:mtime-ns"
}

type folderConnector struct{ cfg FolderConfig }

func init() {
	RegisterConnector("folder", func(config json.RawMessage, _ Secrets) (Connector, error) {
		var cfg FolderConfig
		if err := strictJSON(config, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return &folderConnector{cfg: cfg}, nil
	})
}

// Sync lists the folder (a full listing), skipping files whose size and
// modification time match the cursor.
func (c *folderConnector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var prev folderCursor
	if len(cursor) > 0 {
		_ = json.Unmarshal(cursor, &prev)
	}
	root, err := filepath.Abs(c.cfg.Path)
	if err != nil {
		return nil, false, err
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
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") && c.cfg.selects(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("walk %s: %w", c.cfg.Path, err)
	}
	sort.Strings(files)
	next := folderCursor{Files: map[string]string{}}
	for _, rel := range files {
		full := filepath.Join(root, filepath.FromSlash(rel))
		st, err := os.Stat(full)
		if err != nil {
			continue // vanished while listing: the next sync tombstones it
		}
		stamp := fmt.Sprintf("%d:%d", st.Size(), st.ModTime().UnixNano())
		next.Files[rel] = stamp
		it := Item{Key: rel, URI: rel, Size: st.Size(), ModTime: st.ModTime(), Unchanged: prev.Files[rel] == stamp,
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(full) }}
		if err := emit(it); err != nil {
			return nil, false, err
		}
	}
	b, _ := json.Marshal(next)
	return b, true, nil
}

// SyncFolder ingests the selected files of a folder in path order (a
// one-off sync with no cursor): the CLI's `whet ingest folder` and the
// quickstart use it. Files that vanished since the last sync are tombstoned
// when src.ID is set; unchanged files are recognised by their fingerprint and
// add nothing.
func (in *Ingester) SyncFolder(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, cfg FolderConfig, progress func(done, total int)) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &folderConnector{cfg: cfg}
	total := 0
	_, _, _ = c.Sync(ctx, nil, func(Item) error { total++; return nil })
	res, err := in.SyncSource(ctx, orgID, ds, src, c, nil, func(done int, _ string) {
		if progress != nil {
			progress(done, total)
		}
	})
	if res == nil {
		return nil, err
	}
	return &res.Summary, err
}
