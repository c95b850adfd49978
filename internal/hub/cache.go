package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// cache is the folder layout described in the package doc.
type cache struct{ root string }

func (c cache) blobPath(sha string) string {
	return filepath.Join(c.root, "blobs", "sha256", sha[:2], sha)
}

func (c cache) tmpDir() string { return filepath.Join(c.root, "tmp") }

func (c cache) repoDir(repo string) string {
	return filepath.Join(c.root, "repos", strings.ReplaceAll(repo, "/", "--"))
}

func (c cache) snapDir(repo, commit string) string {
	return filepath.Join(c.repoDir(repo), "snapshots", commit)
}

func (c cache) refPath(repo, rev string) string {
	return filepath.Join(c.repoDir(repo), "refs", url.PathEscape(rev))
}

func (c cache) manifestPath(repo, commit string) string {
	return filepath.Join(c.repoDir(repo), "manifests", commit+".json")
}

// remoteFile is one file of a commit as the endpoint lists it.
type remoteFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`             // -1: unknown
	SHA256 string `json:"sha256,omitempty"` // LFS files only
}

// manifest records what the cache knows about one commit.
type manifest struct {
	Repo     string            `json:"repo"`
	Commit   string            `json:"commit"`
	Siblings []remoteFile      `json:"siblings"`
	Files    map[string]string `json:"files"` // name → sha256 of the snapshot's copy
}

func (c cache) readRef(repo, rev string) (string, error) {
	b, err := os.ReadFile(c.refPath(repo, rev))
	if err != nil {
		return "", err
	}
	commit := strings.TrimSpace(string(b))
	if !isCommit(commit) {
		return "", fmt.Errorf("hub: corrupt ref %s", c.refPath(repo, rev))
	}
	return commit, nil
}

func (c cache) readManifest(repo, commit string) (*manifest, error) {
	b, err := os.ReadFile(c.manifestPath(repo, commit))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("hub: corrupt manifest %s: %w", c.manifestPath(repo, commit), err)
	}
	if m.Files == nil {
		m.Files = map[string]string{}
	}
	return &m, nil
}

// record stores the commit's file list, merges the digests of the files now
// in its snapshot into the manifest, and points rev at the commit, under the
// repository's lock so concurrent resolvers never lose each other's entries.
func (c cache) record(ctx context.Context, repo, rev, commit string, siblings []remoteFile, files map[string]string) error {
	dir := c.repoDir(repo)
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	m, err := c.readManifest(repo, commit)
	if err != nil {
		m = &manifest{Files: map[string]string{}}
	}
	m.Repo, m.Commit, m.Siblings = repo, commit, siblings
	for k, v := range files {
		m.Files[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(c.manifestPath(repo, commit), b); err != nil {
		return err
	}
	if rev != commit {
		return writeAtomic(c.refPath(repo, rev), []byte(commit+"\n"))
	}
	return nil
}

// hasBlob reports whether the blob is complete (size -1: not checked).
func (c cache) hasBlob(sha string, size int64) bool {
	fi, err := os.Stat(c.blobPath(sha))
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

// present reports whether the snapshot file name holds blob sha.
func (c cache) present(snap, name, sha string, size int64) bool {
	p := filepath.Join(snap, filepath.FromSlash(name))
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || (size >= 0 && fi.Size() != size) {
		return false
	}
	if target, err := os.Readlink(p); err == nil {
		return filepath.Base(target) == sha
	}
	// A hard link or a copy: compare with the blob when it is still there.
	if bi, err := os.Stat(c.blobPath(sha)); err == nil {
		return os.SameFile(fi, bi) || bi.Size() == fi.Size()
	}
	return true
}

// place makes snap/name refer to blob sha: a relative symbolic link, else a
// hard link, else a copy; made under a temporary name and renamed, so a
// reader sees either nothing or the whole file.
func (c cache) place(snap, name, sha string) error {
	dst := filepath.Join(snap, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	src := c.blobPath(sha)
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-"+randHex())
	rel, err := filepath.Rel(filepath.Dir(dst), src)
	if err != nil {
		rel = src
	}
	if err := os.Symlink(rel, tmp); err != nil {
		if err := os.Link(src, tmp); err != nil {
			if err := copyFile(src, tmp); err != nil {
				os.Remove(tmp)
				return fmt.Errorf("hub: place %s: %w", name, err)
			}
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("hub: place %s: %w", name, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeAtomic(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp-" + randHex()
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func randHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validFileName accepts relative slash-separated paths without empty, "."
// or ".." segments, backslashes or control characters, so a hostile
// listing cannot write outside the snapshot.
func validFileName(name string) error {
	if name == "" || len(name) > 1024 || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("bad file name %q", clip(name))
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") && strings.Contains(seg, ".tmp-") {
			return fmt.Errorf("bad file name %q", clip(name))
		}
		for _, r := range seg {
			if r < ' ' || r == 0x7f {
				return fmt.Errorf("bad file name %q", clip(name))
			}
		}
	}
	if !fs.ValidPath(name) {
		return fmt.Errorf("bad file name %q", clip(name))
	}
	return nil
}

func matchPattern(pattern, name string) (bool, error) {
	ok, err := path.Match(pattern, name)
	if err != nil {
		return false, err
	}
	if !ok && !strings.Contains(pattern, "/") && strings.Contains(name, "/") {
		// "*.bin" also matches files in subfolders, as the hub's allow_patterns do.
		ok, _ = path.Match(pattern, path.Base(name))
	}
	return ok, nil
}
