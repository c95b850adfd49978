package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// puller resolves one reference.
type puller struct {
	ref      Ref
	o        Options
	cache    cache
	client   *http.Client
	endpoint *url.URL
}

func (p *puller) initClient() error {
	u, err := url.Parse(p.o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("hub: endpoint %q is not an http(s) URL", clip(p.o.Endpoint))
	}
	p.endpoint = u
	c := http.Client{Transport: defaultTransport}
	if p.o.HTTPClient != nil {
		c = *p.o.HTTPClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	return nil
}

// defaultTransport is http.DefaultTransport with a limit on how long a
// server may take to start answering, so a stalled hub fails (and falls back
// to the cache) instead of hanging.
var defaultTransport = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	return t
}()

// modelInfo is the part of GET /api/models/{repo}/revision/{rev} whet reads.
type modelInfo struct {
	ID       string `json:"id"`
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
		Size      *int64 `json:"size"`
		LFS       *struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"lfs"`
	} `json:"siblings"`
}

// info asks the endpoint which commit the revision is at and which files it
// holds (with LFS digests and sizes where the endpoint gives them).
func (p *puller) info(ctx context.Context) (commit string, files []remoteFile, err error) {
	u := p.o.Endpoint + "/api/models/" + p.ref.Repo + "/revision/" + url.PathEscape(p.ref.rev()) + "?blobs=True" // as huggingface_hub sends it
	resp, _, err := p.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, p.statusErr(resp, "repository or revision "+p.ref.String())
	}
	var mi modelInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&mi); err != nil {
		return "", nil, fmt.Errorf("hub: %s: model info: %w", p.ref, err)
	}
	mi.SHA = strings.ToLower(mi.SHA)
	if !isCommit(mi.SHA) {
		return "", nil, fmt.Errorf("hub: %s: model info has no commit sha", p.ref)
	}
	for _, s := range mi.Siblings {
		f := remoteFile{Name: s.RFilename, Size: -1}
		if s.Size != nil && *s.Size >= 0 {
			f.Size = *s.Size
		}
		if s.LFS != nil {
			if sha := strings.ToLower(s.LFS.SHA256); len(sha) == 64 && isHex(sha) {
				f.SHA256 = sha
			}
			if s.LFS.Size > 0 {
				f.Size = s.LFS.Size
			}
		}
		if validFileName(f.Name) == nil {
			files = append(files, f)
		}
	}
	return mi.SHA, files, nil
}

// fileURL is the resolve URL of name at commit.
func (p *puller) fileURL(commit, name string) string {
	parts := strings.Split(name, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return p.o.Endpoint + "/" + p.ref.Repo + "/resolve/" + url.PathEscape(commit) + "/" + strings.Join(parts, "/")
}

// fileMeta is what the hub's headers say about a file.
type fileMeta struct {
	commit  string // X-Repo-Commit
	sha256  string // LFS files: X-Linked-Etag (or ETag)
	gitSHA1 string // small files: ETag, the git blob id
	size    int64  // X-Linked-Size, else Content-Length of the hub's own 200; -1 unknown
}

func etagValue(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	return strings.ToLower(strings.Trim(v, `"`))
}

func (m *fileMeta) absorb(h http.Header, fromHub bool, status int) {
	if c := strings.ToLower(h.Get("X-Repo-Commit")); m.commit == "" && isCommit(c) {
		m.commit = c
	}
	if m.sha256 == "" && m.gitSHA1 == "" {
		if v := etagValue(h.Get("X-Linked-Etag")); len(v) == 64 && isHex(v) {
			m.sha256 = v
		} else if fromHub {
			switch v := etagValue(h.Get("ETag")); {
			case len(v) == 64 && isHex(v):
				m.sha256 = v
			case len(v) == 40 && isHex(v):
				m.gitSHA1 = v
			}
		}
	}
	if m.size < 0 {
		if n, err := strconv.ParseInt(h.Get("X-Linked-Size"), 10, 64); err == nil && n >= 0 {
			m.size = n
		} else if fromHub && status == http.StatusOK {
			if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
				m.size = n
			}
		}
	}
}

// do sends a request, following redirects by hand: the token goes to the
// endpoint's origin only, and the hub's headers are collected on the way.
// A HEAD stops at a redirect that already carries the file's digest (the
// CDN is not asked).
func (p *puller) do(ctx context.Context, method, rawURL string, hdr http.Header) (*http.Response, fileMeta, error) {
	meta := fileMeta{size: -1}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, meta, fmt.Errorf("hub: bad URL: %w", err)
	}
	for hop := 0; ; hop++ {
		if hop > 10 {
			return nil, meta, fmt.Errorf("hub: %s: too many redirects", p.ref)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, meta, fmt.Errorf("hub: %w", err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", "whet")
		req.Header.Set("Accept-Encoding", "identity")
		fromHub := sameOrigin(u, p.endpoint)
		if p.o.Token != "" && fromHub {
			req.Header.Set("Authorization", "Bearer "+p.o.Token)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, meta, ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, meta, fmt.Errorf("%w: %s %s://%s: %v", ErrUnreachable, method, u.Scheme, u.Host, err)
		}
		meta.absorb(resp.Header, fromHub, resp.StatusCode)
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return resp, meta, nil
		}
		if method == http.MethodHead && (meta.sha256 != "" || meta.gitSHA1 != "") {
			return resp, meta, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		next, err := u.Parse(loc)
		if err != nil {
			return nil, meta, fmt.Errorf("hub: %s: bad redirect: %w", p.ref, err)
		}
		u = next
	}
}

func sameOrigin(a, b *url.URL) bool {
	return b != nil && strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// statusErr turns a failed response into an error naming what was asked
// for; the hub's X-Error-Code tells gated repos from missing ones.
func (p *puller) statusErr(resp *http.Response, what string) error {
	code := resp.Header.Get("X-Error-Code")
	detail := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if msg := resp.Header.Get("X-Error-Message"); msg != "" {
		detail += ": " + clip(strings.Map(printable, msg))
	}
	switch {
	case code == "RepoNotFound":
		return fmt.Errorf("%w: repository %s (if it is private, set HF token) (%s)", ErrNotFound, Scheme+p.ref.Repo, detail)
	case code == "RevisionNotFound":
		return fmt.Errorf("%w: revision %q of %s (%s)", ErrNotFound, p.ref.rev(), Scheme+p.ref.Repo, detail)
	case code == "EntryNotFound":
		return fmt.Errorf("%w: %s (%s)", ErrNotFound, what, detail)
	case code == "GatedRepo", resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		hint := ""
		if p.o.Token != "" {
			hint = "; the token given has no access (accept the model's terms on the hub?)"
		}
		return fmt.Errorf("%w: %s (%s%s)", ErrGated, p.ref, detail, hint)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s (%s)", ErrNotFound, what, detail)
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s: %s", ErrUnreachable, what, detail)
	}
	return fmt.Errorf("hub: %s: %s", what, detail)
}

func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}
