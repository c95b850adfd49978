package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pull asks the endpoint for the revision's commit and files and fetches
// what the cache lacks.
func (p *puller) pull(ctx context.Context) (*Snapshot, error) {
	commit, listing, err := p.info(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]string{}
	if m, err := p.cache.readManifest(p.ref.Repo, commit); err == nil {
		known = m.Files
	}
	s := p.snapshot(commit)
	got := map[string]string{}
	err = p.walk(commit, listing, func(f remoteFile) (string, error) {
		sha := f.SHA256
		if sha == "" {
			sha = known[f.Name]
		}
		sha, n, err := p.ensure(ctx, commit, f, sha)
		s.Downloaded += n
		if err != nil {
			return "", err
		}
		got[f.Name] = sha
		return sha, nil
	}, s)
	if err != nil {
		return nil, err
	}
	if err := p.cache.record(ctx, p.ref.Repo, p.ref.rev(), commit, listing, got); err != nil {
		return nil, fmt.Errorf("hub: %s: record: %w", p.ref, err)
	}
	return s, nil
}

// fromCache serves the reference from the cache alone.
func (p *puller) fromCache() (*Snapshot, error) {
	commit := p.ref.rev()
	if !isCommit(commit) {
		c, err := p.cache.readRef(p.ref.Repo, commit)
		if err != nil {
			return nil, fmt.Errorf("%w: %s was never resolved online", ErrNotCached, p.ref)
		}
		commit = c
	}
	m, err := p.cache.readManifest(p.ref.Repo, commit)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (commit %s) was never resolved online", ErrNotCached, p.ref, commit)
	}
	s := p.snapshot(commit)
	s.Offline = true
	err = p.walk(commit, m.Siblings, func(f remoteFile) (string, error) {
		sha := f.SHA256
		if sha == "" {
			sha = m.Files[f.Name]
		}
		if sha == "" || !p.cache.present(s.Dir, f.Name, sha, f.Size) {
			return "", fmt.Errorf("%w: %s lacks %s", ErrNotCached, p.ref, f.Name)
		}
		return sha, nil
	}, s)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *puller) snapshot(commit string) *Snapshot {
	return &Snapshot{Ref: p.ref.String(), Repo: p.ref.Repo, Revision: p.ref.rev(), Commit: commit,
		Dir: p.cache.snapDir(p.ref.Repo, commit)}
}

// walk visits the selected files of a listing (the index's shards after the
// index itself) and lists them in s.Files.
func (p *puller) walk(commit string, listing []remoteFile, visit func(remoteFile) (string, error), s *Snapshot) error {
	sel, err := selectFiles(p.ref, listing, p.o.AllowPatterns)
	if err != nil {
		return err
	}
	files := sel.files
	shas := map[string]string{}
	for i := 0; i < len(files); i++ {
		f := files[i]
		sha, err := visit(f)
		if err != nil {
			return err
		}
		shas[f.Name] = sha
		if sel.shards && f.Name == indexFile {
			shards, err := shardFiles(p.ref, s.Dir, listing)
			if err != nil {
				return err
			}
			for _, sh := range shards {
				if !slices.ContainsFunc(files, func(f remoteFile) bool { return f.Name == sh.Name }) {
					files = append(files, sh)
				}
			}
		}
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(s.Dir, filepath.FromSlash(f.Name)))
		if err != nil {
			return fmt.Errorf("hub: %s: %w", p.ref, err)
		}
		s.Files = append(s.Files, File{Name: f.Name, Size: fi.Size(), SHA256: shas[f.Name]})
	}
	return nil
}

// ensure puts f into the commit's snapshot and returns its sha256 and the
// number of bytes downloaded for it. sha, when known, is its digest.
func (p *puller) ensure(ctx context.Context, commit string, f remoteFile, sha string) (string, int64, error) {
	snap := p.cache.snapDir(p.ref.Repo, commit)
	if sha != "" {
		if p.cache.present(snap, f.Name, sha, f.Size) {
			return sha, 0, nil
		}
		if p.cache.hasBlob(sha, f.Size) {
			return sha, 0, p.cache.place(snap, f.Name, sha)
		}
	}
	meta := fileMeta{sha256: f.SHA256, size: f.Size}
	if f.SHA256 == "" {
		// Ask for the digest first: the blob may be cached under another
		// commit or repository.
		resp, m, err := p.do(ctx, http.MethodHead, p.fileURL(commit, f.Name), nil)
		if err != nil {
			return "", 0, err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return "", 0, p.statusErr(resp, fmt.Sprintf("file %s of %s", f.Name, p.ref))
		}
		meta.sha256, meta.gitSHA1 = m.sha256, m.gitSHA1
		if meta.size < 0 {
			meta.size = m.size
		}
		if meta.sha256 != "" && p.cache.hasBlob(meta.sha256, meta.size) {
			return meta.sha256, 0, p.cache.place(snap, f.Name, meta.sha256)
		}
	}
	return p.download(ctx, commit, f.Name, meta)
}

// download fetches one file into the blob store, resuming a partial
// download left by an earlier attempt, and verifies it.
// It places the file in the commit's snapshot before it lets go of the lock,
// so a resolver that waited for it finds it there.
func (p *puller) download(ctx context.Context, commit, name string, meta fileMeta) (string, int64, error) {
	snap := p.cache.snapDir(p.ref.Repo, commit)
	key := meta.sha256
	if key == "" {
		sum := sha256.Sum256([]byte(p.ref.Repo + "\x00" + commit + "\x00" + name))
		key = "f" + hex.EncodeToString(sum[:])
	}
	if err := os.MkdirAll(p.cache.tmpDir(), 0o755); err != nil {
		return "", 0, err
	}
	unlock, err := lockFile(ctx, filepath.Join(p.cache.tmpDir(), key+".lock"))
	if err != nil {
		return "", 0, fmt.Errorf("hub: lock: %w", err)
	}
	defer unlock()
	if meta.sha256 != "" && p.cache.hasBlob(meta.sha256, meta.size) {
		// Another resolver fetched it while we waited.
		return meta.sha256, 0, p.cache.place(snap, name, meta.sha256)
	}
	if meta.sha256 == "" && meta.gitSHA1 != "" {
		// A small file another resolver placed while we waited.
		if sha, err := verify(filepath.Join(snap, filepath.FromSlash(name)), meta); err == nil && p.cache.hasBlob(sha, -1) {
			return sha, 0, nil
		}
	}
	part := filepath.Join(p.cache.tmpDir(), key+".part")
	what := fmt.Sprintf("file %s of %s", name, p.ref)
	var fetched int64
	for attempt := 0; ; attempt++ {
		if attempt == 3 {
			return "", fetched, fmt.Errorf("hub: %s: could not resume the download (the server does not honour range requests)", what)
		}
		var off int64
		if fi, err := os.Stat(part); err == nil {
			off = fi.Size()
		}
		var hdr http.Header
		if off > 0 {
			hdr = http.Header{"Range": {"bytes=" + strconv.FormatInt(off, 10) + "-"}}
		}
		rctx, cancel := context.WithCancelCause(ctx)
		resp, m, err := p.do(rctx, http.MethodGet, p.fileURL(commit, name), hdr)
		if err != nil {
			cancel(nil)
			return "", fetched, err
		}
		if meta.sha256 == "" && meta.gitSHA1 == "" {
			meta.sha256, meta.gitSHA1 = m.sha256, m.gitSHA1
		}
		if meta.size < 0 {
			meta.size = m.size
		}
		switch resp.StatusCode {
		case http.StatusOK:
			off = 0
		case http.StatusPartialContent:
			if start, total, ok := contentRange(resp.Header.Get("Content-Range")); !ok || start != off {
				resp.Body.Close()
				cancel(nil)
				os.Remove(part)
				continue
			} else if meta.size < 0 {
				meta.size = total
			}
		case http.StatusRequestedRangeNotSatisfiable:
			resp.Body.Close()
			cancel(nil)
			os.Remove(part)
			continue
		default:
			err := p.statusErr(resp, what)
			resp.Body.Close()
			cancel(nil)
			return "", fetched, err
		}
		if meta.size < 0 && resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 {
			meta.size = resp.ContentLength
		}
		// A connection that stops delivering bytes is cut after stallTimeout
		// (the partial file stays for the next attempt to resume).
		watchdog := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
		body := &stallReader{r: resp.Body, t: watchdog}
		n, err := p.receive(part, off, body, name, meta.size)
		watchdog.Stop()
		resp.Body.Close()
		stalled := errors.Is(context.Cause(rctx), errStalled)
		cancel(nil)
		fetched += n
		if err != nil {
			if ctx.Err() != nil {
				return "", fetched, ctx.Err()
			}
			if stalled {
				err = errStalled
			}
			return "", fetched, fmt.Errorf("hub: download %s (resumable): %w", what, err)
		}
		break
	}
	sha, err := verify(part, meta)
	if err != nil {
		os.Remove(part)
		return "", fetched, fmt.Errorf("%s: %w", what, err)
	}
	dst := p.cache.blobPath(sha)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fetched, err
	}
	os.Chmod(part, 0o444)
	if err := os.Rename(part, dst); err != nil {
		return "", fetched, fmt.Errorf("hub: %s: %w", what, err)
	}
	return sha, fetched, p.cache.place(snap, name, sha)
}

// stallTimeout is how long a download may go without receiving a byte.
var stallTimeout = time.Minute

var errStalled = errors.New("no data received for a while (stalled connection)")

// stallReader re-arms the stall watchdog on every read that brings data.
type stallReader struct {
	r io.Reader
	t *time.Timer
}

func (s *stallReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if n > 0 {
		s.t.Reset(stallTimeout)
	}
	return n, err
}

// receive appends body to part at off (truncating first when off is 0).
func (p *puller) receive(part string, off int64, body io.Reader, name string, total int64) (int64, error) {
	flags := os.O_CREATE | os.O_WRONLY
	if off == 0 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return 0, err
	}
	w := &progressWriter{w: f, name: name, done: off, total: total, fn: p.o.Progress}
	w.report()
	n, err := io.CopyBuffer(w, body, make([]byte, 256<<10))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

type progressWriter struct {
	w           io.Writer
	name        string
	done, total int64
	fn          func(string, int64, int64)
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.done += int64(n)
	w.report()
	return n, err
}

func (w *progressWriter) report() {
	if w.fn != nil {
		w.fn(w.name, w.done, w.total)
	}
}

// verify hashes the complete download and checks it against the hub's
// size and digests; it returns the sha256.
func verify(part string, meta fileMeta) (string, error) {
	f, err := os.Open(part)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if meta.size >= 0 && fi.Size() != meta.size {
		return "", fmt.Errorf("%w: %d bytes, want %d", ErrIntegrity, fi.Size(), meta.size)
	}
	h := sha256.New()
	var w io.Writer = h
	var g hash.Hash
	if meta.sha256 == "" && meta.gitSHA1 != "" {
		g = sha1.New()
		fmt.Fprintf(g, "blob %d\x00", fi.Size())
		w = io.MultiWriter(h, g)
	}
	if _, err := io.Copy(w, f); err != nil {
		return "", err
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if meta.sha256 != "" && sha != meta.sha256 {
		return "", fmt.Errorf("%w: sha256 %s, want %s", ErrIntegrity, sha, meta.sha256)
	}
	if g != nil {
		if got := hex.EncodeToString(g.Sum(nil)); got != meta.gitSHA1 {
			return "", fmt.Errorf("%w: git blob id %s, want %s", ErrIntegrity, got, meta.gitSHA1)
		}
	}
	return sha, nil
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*": -1).
func contentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}
