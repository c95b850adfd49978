package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub speaks the part of the Hugging Face Hub protocol whet uses: model
// info JSON, resolve URLs (LFS files redirect to a CDN on another origin
// with X-Linked-Etag / X-Linked-Size), ETags, Range on the CDN, gated and
// missing repositories with X-Error-Code.
type fakeHub struct {
	t     *testing.T
	hub   *httptest.Server
	cdn   *httptest.Server
	token string // bearer token that opens gated repositories

	mu       sync.Mutex
	repos    map[string]*fakeRepo
	blobs    map[string][]byte // sha256 → content
	noBlobs  bool              // model info without ?blobs=true details
	down     bool              // answer 503 to everything
	tamper   map[string]bool   // sha256 → serve a corrupted body
	cutAfter map[string]int64  // sha256 → drop the connection after n bytes, once
	stall    map[string]int64  // sha256 → stop sending after n bytes until the client gives up, once
	// what was asked
	bodies      int      // responses that carried a file body
	cdnAuth     int      // CDN requests that carried an Authorization header
	ranges      []string // Range headers the CDN saw
	infoCalls   int
	headCalls   int
	lastHubAuth string
}

type fakeRepo struct {
	gated   bool
	refs    map[string]string            // branch or tag → commit
	commits map[string]map[string][]byte // commit → file → content
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{t: t, repos: map[string]*fakeRepo{}, blobs: map[string][]byte{},
		tamper: map[string]bool{}, cutAfter: map[string]int64{}, stall: map[string]int64{}}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	t.Cleanup(func() { h.hub.Close(); h.cdn.Close() })
	return h
}

func isLFS(name string) bool {
	return strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin")
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// commit adds a commit holding files to repo and points refs at it.
func (h *fakeHub) commit(repo string, files map[string][]byte, refs ...string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repo]
	if r == nil {
		r = &fakeRepo{refs: map[string]string{}, commits: map[string]map[string][]byte{}}
		h.repos[repo] = r
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	hs := sha1.New()
	fmt.Fprint(hs, repo, len(r.commits))
	for _, n := range names {
		fmt.Fprint(hs, n, sha256Hex(files[n]))
		if isLFS(n) {
			h.blobs[sha256Hex(files[n])] = files[n]
		}
	}
	c := hex.EncodeToString(hs.Sum(nil))
	r.commits[c] = files
	for _, ref := range refs {
		r.refs[ref] = c
	}
	return c
}

func (h *fakeHub) countBodies() int { h.mu.Lock(); defer h.mu.Unlock(); return h.bodies }

// lookup finds the repository and the commit rev names, or writes the hub's
// error response.
func (h *fakeHub) lookup(w http.ResponseWriter, r *http.Request, repo, rev string) (map[string][]byte, string, bool) {
	fr := h.repos[repo]
	if fr == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		status := http.StatusNotFound
		if r.Header.Get("Authorization") == "" {
			status = http.StatusUnauthorized // the hub does not tell missing from private
		}
		http.Error(w, "Repository not found", status)
		return nil, "", false
	}
	if fr.gated && r.Header.Get("Authorization") != "Bearer "+h.token {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.Header().Set("X-Error-Message", "Access to model "+repo+" is restricted.")
		status := http.StatusUnauthorized
		if r.Header.Get("Authorization") != "" {
			status = http.StatusForbidden
		}
		http.Error(w, "gated", status)
		return nil, "", false
	}
	c := rev
	if rc, ok := fr.refs[rev]; ok {
		c = rc
	}
	files, ok := fr.commits[c]
	if !ok {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id: "+rev, http.StatusNotFound)
		return nil, "", false
	}
	return files, c, true
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastHubAuth = r.Header.Get("Authorization")
	if h.down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	p := r.URL.EscapedPath()
	if strings.Contains(p, "/renamed/tiny/") || strings.HasSuffix(p, "/renamed/tiny") {
		// A renamed repository answers with a relative redirect.
		w.Header().Set("Location", strings.Replace(p, "/renamed/tiny", "/org/tiny", 1)+"?"+r.URL.RawQuery)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	unesc := func(s string) string { u, _ := url.PathUnescape(s); return u }
	switch {
	case len(seg) >= 4 && seg[0] == "api" && seg[1] == "models":
		h.infoCalls++
		repo := seg[2] + "/" + seg[3]
		rev := "main"
		if len(seg) == 6 && seg[4] == "revision" {
			rev = unesc(seg[5])
		} else if len(seg) != 4 {
			http.NotFound(w, r)
			return
		}
		files, c, ok := h.lookup(w, r, repo, rev)
		if !ok {
			return
		}
		type lfs struct {
			SHA256 string `json:"sha256"`
			Size   int    `json:"size"`
		}
		type sib struct {
			RFilename string `json:"rfilename"`
			Size      *int   `json:"size,omitempty"`
			BlobID    string `json:"blobId,omitempty"`
			LFS       *lfs   `json:"lfs,omitempty"`
		}
		var sibs []sib
		for name, b := range files {
			s := sib{RFilename: name}
			if strings.EqualFold(r.URL.Query().Get("blobs"), "true") && !h.noBlobs {
				n := len(b)
				s.Size, s.BlobID = &n, gitBlobID(b)
				if isLFS(name) {
					s.LFS = &lfs{SHA256: sha256Hex(b), Size: n}
				}
			}
			sibs = append(sibs, s)
		}
		sort.Slice(sibs, func(i, j int) bool { return sibs[i].RFilename < sibs[j].RFilename })
		json.NewEncoder(w).Encode(map[string]any{"id": repo, "modelId": repo, "sha": c, "private": false, "siblings": sibs})
	case len(seg) >= 5 && seg[2] == "resolve":
		repo := seg[0] + "/" + seg[1]
		files, c, ok := h.lookup(w, r, repo, unesc(seg[3]))
		if !ok {
			return
		}
		name := unesc(strings.Join(seg[4:], "/"))
		b, ok := files[name]
		if !ok {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.Error(w, "Entry not found", http.StatusNotFound)
			return
		}
		if r.Method == http.MethodHead {
			h.headCalls++
		}
		w.Header().Set("X-Repo-Commit", c)
		if isLFS(name) {
			sum := sha256Hex(b)
			w.Header().Set("ETag", `"`+sum+`"`)
			w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
			w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
			w.Header().Set("Location", h.cdn.URL+"/blobs/"+sum+"?sig=x")
			w.WriteHeader(http.StatusFound)
			return
		}
		w.Header().Set("ETag", `"`+gitBlobID(b)+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			h.bodies++
			w.Write(b)
		}
	default:
		http.NotFound(w, r)
	}
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if r.Header.Get("Authorization") != "" {
		h.cdnAuth++
	}
	sum := strings.TrimPrefix(r.URL.Path, "/blobs/")
	b, ok := h.blobs[sum]
	if h.tamper[sum] {
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0xff
	}
	cut, doCut := h.cutAfter[sum]
	delete(h.cutAfter, sum)
	stall, doStall := h.stall[sum]
	delete(h.stall, sum)
	if r.Method == http.MethodGet {
		h.bodies++
		h.ranges = append(h.ranges, r.Header.Get("Range"))
	}
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if doCut {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	if doStall {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:stall])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
