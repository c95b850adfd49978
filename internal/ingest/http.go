package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Errors of the network connectors (http, s3, sharepoint, gdrive).
var (
	// ErrCredentials reports a source that rejected the configured
	// credentials (HTTP 401 or 403): the secret is wrong or expired.
	ErrCredentials = errors.New("ingest: credentials rejected")
	// ErrUnreachable reports a source that could not be reached at all.
	ErrUnreachable = errors.New("ingest: source unreachable")
)

// HTTPConfig is a JSON REST API source. Each page's items (the array at
// ItemsPath) become one document each: the text is TextFields joined by
// blank lines, the metadata the MetadataFields.
type HTTPConfig struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // GET (default) or POST
	Headers map[string]string `json:"headers,omitempty"`
	// AuthHeader names a secret sent with every request, by default as
	// "Authorization: Bearer <secret>".
	AuthHeader string `json:"auth_header,omitempty"`
	// AuthHeaderName and AuthScheme change where the secret goes:
	// {"auth_header_name":"X-API-Key","auth_scheme":""} sends it bare.
	AuthHeaderName string   `json:"auth_header_name,omitempty"`
	AuthScheme     *string  `json:"auth_scheme,omitempty"`
	ItemsPath      string   `json:"items_path,omitempty"` // dotted path to the array; empty: the body is the array
	IDField        string   `json:"id_field"`
	TextFields     []string `json:"text_fields"`
	MetadataFields []string `json:"metadata_fields,omitempty"`
	URLField       string   `json:"url_field,omitempty"`
	// UpdatedField makes syncs incremental: the cursor is the largest value
	// seen, sent as the SinceParam query parameter when that is set (and
	// otherwise used to skip older items of a full listing).
	UpdatedField string          `json:"updated_field,omitempty"`
	SinceParam   string          `json:"since_param,omitempty"`
	Pagination   *HTTPPagination `json:"pagination,omitempty"`
	MaxRetries   *int            `json:"max_retries,omitempty"` // on 429 and 5xx; default 5
}

// HTTPPagination says how to reach the next page.
//   - cursor: the next request sets CursorParam to the value at CursorPath
//     of the response; an empty or missing value ends the listing.
//   - link: the next page is the Link header's rel="next" URL.
//   - page: PageParam counts from StartPage (default 1); a page with fewer
//     than PageSize items (or none) ends the listing.
type HTTPPagination struct {
	Type          string `json:"type"`
	CursorParam   string `json:"cursor_param,omitempty"`
	CursorPath    string `json:"cursor_path,omitempty"`
	PageParam     string `json:"page_param,omitempty"`
	StartPage     *int   `json:"start_page,omitempty"`
	PageSizeParam string `json:"page_size_param,omitempty"`
	PageSize      int    `json:"page_size,omitempty"`
	MaxPages      int    `json:"max_pages,omitempty"` // default 10,000
}

// Validate checks the config is complete.
func (c *HTTPConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: http source needs an http(s) url, got %q", ErrConfig, c.URL)
	}
	switch strings.ToUpper(c.Method) {
	case "", "GET", "POST":
	default:
		return fmt.Errorf("%w: method %q (want GET or POST)", ErrConfig, c.Method)
	}
	if c.IDField == "" {
		return fmt.Errorf("%w: http source needs id_field", ErrConfig)
	}
	if len(c.TextFields) == 0 {
		return fmt.Errorf("%w: http source needs text_fields", ErrConfig)
	}
	if c.SinceParam != "" && c.UpdatedField == "" {
		return fmt.Errorf("%w: since_param needs updated_field", ErrConfig)
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > 20) {
		return fmt.Errorf("%w: max_retries %d (0..20)", ErrConfig, *c.MaxRetries)
	}
	if p := c.Pagination; p != nil {
		switch p.Type {
		case "cursor":
			if p.CursorParam == "" || p.CursorPath == "" {
				return fmt.Errorf("%w: cursor pagination needs cursor_param and cursor_path", ErrConfig)
			}
		case "link":
		case "page":
			if p.PageParam == "" {
				return fmt.Errorf("%w: page pagination needs page_param", ErrConfig)
			}
		default:
			return fmt.Errorf("%w: pagination type %q (want cursor, link or page)", ErrConfig, p.Type)
		}
		if p.PageSize < 0 || p.MaxPages < 0 {
			return fmt.Errorf("%w: negative page_size or max_pages", ErrConfig)
		}
	}
	return nil
}

// httpCursor is the stored cursor of an http source.
type httpCursor struct {
	Since string `json:"since,omitempty"`
}

type httpConnector struct {
	cfg  HTTPConfig
	rest *restClient
}

func init() {
	RegisterConnector("http", func(config json.RawMessage, secrets Secrets) (Connector, error) {
		var cfg HTTPConfig
		if err := strictJSON(config, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		rc := newRestClient()
		if cfg.MaxRetries != nil {
			rc.maxRetries = *cfg.MaxRetries
		}
		if cfg.AuthHeader != "" {
			if secrets == nil {
				return nil, fmt.Errorf("%w: secret %q is not set", ErrConfig, cfg.AuthHeader)
			}
			if _, err := secrets(cfg.AuthHeader); err != nil {
				return nil, err
			}
			name := cfg.AuthHeaderName
			if name == "" {
				name = "Authorization"
			}
			scheme := "Bearer"
			if cfg.AuthScheme != nil {
				scheme = *cfg.AuthScheme
			} else if !strings.EqualFold(name, "Authorization") {
				scheme = ""
			}
			secretName := cfg.AuthHeader
			rc.auth = func(req *http.Request) error {
				v, err := secrets(secretName)
				if err != nil {
					return err
				}
				if scheme != "" {
					v = scheme + " " + v
				}
				req.Header.Set(name, v)
				return nil
			}
		}
		return &httpConnector{cfg: cfg, rest: rc}, nil
	})
}

// Sync walks the pages of the API. With an updated_field and a stored
// cursor it asks only for newer items (since_param) and reports a partial
// listing; otherwise the listing is full, so items gone from the API are
// tombstoned.
func (c *httpConnector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var prev httpCursor
	if len(cursor) > 0 {
		_ = json.Unmarshal(cursor, &prev)
	}
	full := !(c.cfg.SinceParam != "" && prev.Since != "")
	maxSeen := prev.Since
	method := strings.ToUpper(c.cfg.Method)
	if method == "" {
		method = "GET"
	}
	pg := c.cfg.Pagination
	maxPages := 10000
	if pg != nil && pg.MaxPages > 0 {
		maxPages = pg.MaxPages
	}
	page := 1
	if pg != nil && pg.StartPage != nil {
		page = *pg.StartPage
	}
	next := c.cfg.URL
	for n := 0; n < maxPages && next != ""; n++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		u, err := url.Parse(next)
		if err != nil {
			return nil, false, fmt.Errorf("http source: bad page url %q: %w", next, err)
		}
		if n == 0 || pg == nil || pg.Type != "link" {
			q := u.Query()
			if c.cfg.SinceParam != "" && prev.Since != "" {
				q.Set(c.cfg.SinceParam, prev.Since)
			}
			if pg != nil && pg.Type == "page" {
				q.Set(pg.PageParam, strconv.Itoa(page))
			}
			if pg != nil && pg.PageSizeParam != "" && pg.PageSize > 0 {
				q.Set(pg.PageSizeParam, strconv.Itoa(pg.PageSize))
			}
			u.RawQuery = q.Encode()
		}
		resp, err := c.rest.do(ctx, method, u.String(), c.cfg.Headers)
		if err != nil {
			return nil, false, err
		}
		body, err := readBounded(resp.Body, 256<<20)
		resp.Body.Close()
		if err != nil {
			return nil, false, fmt.Errorf("http source: read %s: %w", redactURL(u), err)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, false, fmt.Errorf("http source: %s: response is not JSON: %w", redactURL(u), err)
		}
		arrV, ok := lookupPath(doc, c.cfg.ItemsPath)
		arr, isArr := arrV.([]any)
		if !ok || (!isArr && arrV != nil) {
			return nil, false, fmt.Errorf("%w: http source: items_path %q does not lead to an array in the response of %s", ErrConfig, c.cfg.ItemsPath, redactURL(u))
		}
		for _, raw := range arr {
			obj, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			it, updated, err := c.item(obj, u)
			if err != nil {
				return nil, false, err
			}
			if updated != "" && (maxSeen == "" || compareValues(updated, maxSeen) > 0) {
				maxSeen = updated
			}
			if full && prev.Since != "" && updated != "" && compareValues(updated, prev.Since) <= 0 {
				it.Unchanged = true
			}
			if err := emit(it); err != nil {
				return nil, false, err
			}
		}
		next = ""
		switch {
		case pg == nil:
		case pg.Type == "cursor":
			if v, ok := lookupPath(doc, pg.CursorPath); ok && v != nil {
				if s := valueString(v); s != "" {
					nu := *u
					q := nu.Query()
					q.Set(pg.CursorParam, s)
					nu.RawQuery = q.Encode()
					next = nu.String()
				}
			}
		case pg.Type == "link":
			if l := nextLink(resp.Header.Values("Link")); l != "" {
				ref, err := u.Parse(l)
				if err != nil {
					return nil, false, fmt.Errorf("http source: bad Link header %q: %w", l, err)
				}
				next = ref.String()
			}
		case pg.Type == "page":
			if len(arr) > 0 && (pg.PageSize == 0 || len(arr) >= pg.PageSize) {
				page++
				next = c.cfg.URL
			}
		}
	}
	b, _ := json.Marshal(httpCursor{Since: maxSeen})
	return b, full, nil
}

// item maps one API object to an Item holding a small Markdown document
// whose front matter carries the metadata.
func (c *httpConnector) item(obj map[string]any, page *url.URL) (Item, string, error) {
	idV, ok := lookupPath(obj, c.cfg.IDField)
	id := valueString(idV)
	if !ok || id == "" {
		return Item{}, "", fmt.Errorf("http source: an item has no %q field", c.cfg.IDField)
	}
	var parts []string
	for _, f := range c.cfg.TextFields {
		if v, ok := lookupPath(obj, f); ok {
			if s := strings.TrimSpace(valueString(v)); s != "" {
				parts = append(parts, s)
			}
		}
	}
	meta := map[string]string{"record": id}
	for _, f := range c.cfg.MetadataFields {
		if v, ok := lookupPath(obj, f); ok {
			meta[f] = valueString(v)
		}
	}
	uri := page.Scheme + "://" + page.Host + page.Path + "#" + id
	if c.cfg.URLField != "" {
		if v, ok := lookupPath(obj, c.cfg.URLField); ok && valueString(v) != "" {
			uri = valueString(v)
		}
	}
	meta["source_uri"] = uri
	var updated string
	var mod time.Time
	if c.cfg.UpdatedField != "" {
		if v, ok := lookupPath(obj, c.cfg.UpdatedField); ok {
			updated = valueString(v)
			if t, err := time.Parse(time.RFC3339, updated); err == nil {
				mod = t
			}
		}
	}
	return recordItem(id, uri, mod, strings.Join(parts, "\n\n"), meta), updated, nil
}

// recordItem builds an Item for a record (an API object or a table row): a
// Markdown document with the metadata as front matter, so the extractor
// keeps the text and copies the fields into the document's metadata. The key
// gets a ".md" suffix for format detection.
func recordItem(id, uri string, mod time.Time, text string, meta map[string]string) Item {
	var b strings.Builder
	b.WriteString("---\n")
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		k2 := strings.Map(func(r rune) rune {
			if r == ':' || r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return '_'
			}
			return r
		}, k)
		v := strings.Join(strings.Fields(meta[k]), " ")
		if k2 == "" || v == "" {
			continue
		}
		fmt.Fprintf(&b, "%s: \"%s\"\n", k2, v)
	}
	b.WriteString("---\n")
	b.WriteString(text)
	b.WriteString("\n")
	body := []byte(b.String())
	return Item{Key: id + ".md", URI: uri, Size: int64(len(body)), ModTime: mod, ContentType: "text/markdown",
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}
}

// lookupPath follows a dotted path ("data.items", "author.name", "rows.0")
// through decoded JSON. An empty path is the value itself.
func lookupPath(v any, p string) (any, bool) {
	if p == "" {
		return v, true
	}
	for _, k := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// valueString renders a decoded JSON value as text: strings as they are,
// numbers in their JSON spelling, arrays of scalars comma-joined, objects as
// compact JSON.
func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				return string(b)
			}
			parts = append(parts, valueString(e))
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// compareValues orders two cursor values: as times when both parse as
// RFC 3339, as numbers when both are numeric, else as strings.
func compareValues(a, b string) int {
	if ta, err := time.Parse(time.RFC3339Nano, a); err == nil {
		if tb, err := time.Parse(time.RFC3339Nano, b); err == nil {
			return ta.Compare(tb)
		}
	}
	if fa, err := strconv.ParseFloat(a, 64); err == nil {
		if fb, err := strconv.ParseFloat(b, 64); err == nil {
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(a, b)
}

// nextLink finds the rel="next" target of RFC 8288 Link headers.
func nextLink(headers []string) string {
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			segs := strings.Split(part, ";")
			target := strings.TrimSpace(segs[0])
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range segs[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") {
					for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
						if strings.EqualFold(r, "next") {
							return target[1 : len(target)-1]
						}
					}
				}
			}
		}
	}
	return ""
}

// redactURL drops credentials and the query from a URL for error messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}

// restClient sends requests with retries: 429 and 5xx answers are retried
// with exponential backoff (honouring Retry-After), 401/403 become
// ErrCredentials and transport failures ErrUnreachable.
type restClient struct {
	hc         *http.Client
	maxRetries int
	base       time.Duration // first backoff
	maxWait    time.Duration // longest single wait
	auth       func(*http.Request) error
	sleep      func(ctx context.Context, d time.Duration) error
}

func newRestClient() *restClient {
	return &restClient{hc: &http.Client{Timeout: 5 * time.Minute}, maxRetries: 5, base: 500 * time.Millisecond, maxWait: time.Minute, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends one request and returns a 2xx response (the caller closes its
// body).
func (rc *restClient) do(ctx context.Context, method, rawURL string, headers map[string]string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: bad url %q", ErrConfig, rawURL)
	}
	shown := redactURL(u)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
		if err != nil {
			return nil, fmt.Errorf("request %s: %w", shown, err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "whet-ingest")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		if rc.auth != nil {
			if err := rc.auth(req); err != nil {
				return nil, err
			}
		}
		resp, err := rc.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, shown, err)
		}
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			resp.Body.Close()
			return nil, fmt.Errorf("%w: %s answered %s (check or renew the source's secret)", ErrCredentials, shown, resp.Status)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			wait := retryAfter(resp.Header.Get("Retry-After"), time.Now())
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if attempt >= rc.maxRetries {
				return nil, fmt.Errorf("%s %s: %s after %d attempts", method, shown, resp.Status, attempt+1)
			}
			if wait < 0 {
				wait = rc.base << attempt
			}
			if wait > rc.maxWait {
				wait = rc.maxWait
			}
			if err := rc.sleep(ctx, wait); err != nil {
				return nil, err
			}
		default:
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, &statusError{Code: resp.StatusCode, Msg: fmt.Sprintf("%s %s: %s: %s", method, shown, resp.Status, strings.TrimSpace(string(msg)))}
		}
	}
}

// statusError is a non-retryable HTTP answer other than 401/403.
type statusError struct {
	Code int
	Msg  string
}

func (e *statusError) Error() string { return e.Msg }

// retryAfter parses a Retry-After header (seconds or an HTTP date); -1
// when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return -1
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil && s >= 0 {
		// Callers cap the wait; bounding here keeps huge values from
		// overflowing the Duration.
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return -1
}

// getJSON GETs a URL and decodes its JSON body into out.
func (rc *restClient) getJSON(ctx context.Context, rawURL string, out any) error {
	resp, err := rc.do(ctx, "GET", rawURL, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(out); err != nil {
		u, _ := url.Parse(rawURL)
		return fmt.Errorf("decode %s: %w", redactURL(u), err)
	}
	return nil
}
