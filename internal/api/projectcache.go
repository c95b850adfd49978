package api

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whet-dev/whet/internal/auth"
)

// ProjectPageTTL bounds how long an encoded GET /v1/projects page is served
// from memory. Writes through this server invalidate its pages at once;
// writes made through another process sharing the database (another
// `whet serve` replica) become visible here within this time.
const ProjectPageTTL = time.Second

// maxCachedPages bounds the page cache; when it is full it starts over.
const maxCachedPages = 4096

// maxCachedPageBytes bounds one cached body; larger pages are not cached.
const maxCachedPageBytes = 256 << 10

// projectPages caches the encoded answers of GET /v1/projects per
// organisation, project restriction of the caller, and raw query string.
// Entries are filled only from answers that went through huma (so the query
// was validated there) and carry the organisation's write generation at
// the time the page was read; a project write in this process bumps the
// generation after it commits, which orphans the older pages.
type projectPages struct {
	now func() time.Time

	mu    sync.RWMutex
	gen   map[string]uint64 // org id → write generation
	pages map[pageKey]*cachedPage

	hits atomic.Int64 // answers served from the cache, for tests
}

type pageKey struct {
	org, project, query string
}

type cachedPage struct {
	gen         uint64
	expires     time.Time
	contentType string
	length      string
	body        []byte
}

func newProjectPages(now func() time.Time) *projectPages {
	return &projectPages{now: now, gen: map[string]uint64{}, pages: map[pageKey]*cachedPage{}}
}

// generation returns org's current write generation.
func (c *projectPages) generation(org string) uint64 {
	c.mu.RLock()
	g := c.gen[org]
	c.mu.RUnlock()
	return g
}

// invalidate orphans every cached page of org; call it after the write
// committed.
func (c *projectPages) invalidate(org string) {
	c.mu.Lock()
	c.gen[org]++
	c.mu.Unlock()
}

func (c *projectPages) get(k pageKey) *cachedPage {
	c.mu.RLock()
	p := c.pages[k]
	g := c.gen[k.org]
	c.mu.RUnlock()
	if p == nil || p.gen != g || !c.now().Before(p.expires) {
		return nil
	}
	return p
}

func (c *projectPages) put(k pageKey, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[k.org] != p.gen {
		return // a write landed while the page was read
	}
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	c.pages[k] = p
}

// serveProjectPage answers GET /v1/projects from the page cache when it
// can and reports whether it did. It answers only callers that the full
// path would answer 200: a credential that authenticates, the data:read
// scope, a token left in the rate-limit bucket, and a query string that an
// earlier request passed through huma's validation. Anything else falls
// through to the full path, which produces the same errors as before. On
// a miss it returns a recorder to pass down the full path and a commit
// function that stores the recorded answer.
func (s *Server) serveProjectPage(w http.ResponseWriter, r *http.Request, ri *reqInfo) (served bool, rec *pageRecorder, commit func()) {
	if len(r.URL.RawQuery) > 600 {
		return false, nil, nil
	}
	p, err := s.auth.Authenticate(r.Context(), r.Header.Get("Authorization"), remoteAddr(r.RemoteAddr))
	if err != nil || !p.Can(auth.ScopeDataRead) {
		return false, nil, nil
	}
	k := pageKey{org: p.OrgID, project: p.ProjectID, query: r.URL.RawQuery}
	if pg := s.pages.get(k); pg != nil {
		if ok, _ := s.auth.Allow(p); !ok {
			return false, nil, nil // the full path answers 429
		}
		ri.actor, ri.org = p.ActorID, p.OrgID
		s.pages.hits.Add(1)
		h := w.Header()
		h["Content-Type"] = []string{pg.contentType}
		h["Content-Length"] = []string{pg.length}
		w.WriteHeader(http.StatusOK)
		w.Write(pg.body)
		return true, nil, nil
	}
	gen := s.pages.generation(k.org)
	rec = &pageRecorder{ResponseWriter: w}
	return false, rec, func() {
		if rec.status != http.StatusOK || rec.overflow || rec.buf.Len() == 0 {
			return
		}
		body := bytes.Clone(rec.buf.Bytes())
		s.pages.put(k, &cachedPage{gen: gen, expires: s.pages.now().Add(ProjectPageTTL),
			contentType: rec.contentType, length: strconv.Itoa(len(body)), body: body})
	}
}

// pageRecorder passes a response through and keeps a copy of a 200 body.
type pageRecorder struct {
	http.ResponseWriter
	status      int
	contentType string
	buf         bytes.Buffer
	overflow    bool
}

// WriteHeader records the status and content type.
func (p *pageRecorder) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
		p.contentType = p.Header().Get("Content-Type")
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write copies b while the body stays small.
func (p *pageRecorder) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if !p.overflow {
		if p.buf.Len()+len(b) > maxCachedPageBytes {
			p.overflow = true
			p.buf = bytes.Buffer{}
		} else {
			p.buf.Write(b)
		}
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (p *pageRecorder) Unwrap() http.ResponseWriter { return p.ResponseWriter }
