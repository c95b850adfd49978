package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Problem is an RFC 9457 error answered by the server.
type Problem struct {
	Type   string          `json:"type,omitempty"`
	Title  string          `json:"title"`
	Status int             `json:"status"`
	Detail string          `json:"detail,omitempty"`
	Errors []ProblemDetail `json:"errors,omitempty"`
	// RetryAfter is set from the Retry-After header of a 429.
	RetryAfter time.Duration `json:"-"`
}

// ProblemDetail names one bad field.
type ProblemDetail struct {
	Location string `json:"location,omitempty"`
	Message  string `json:"message"`
}

// Error implements error: status, title, detail and each bad field.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.Status, p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for _, e := range p.Errors {
		fmt.Fprintf(&b, "; %s: %s", e.Location, e.Message)
	}
	return b.String()
}

// Client is the typed Go client of the whet API, used by the CLI and
// end-to-end tests.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string // API key or access token
	HTTP    *http.Client
}

// NewClient returns a client for baseURL authenticating with token.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Do sends a JSON request and decodes a JSON response into out (nil:
// discard). A non-2xx answer is returned as *Problem.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("api client: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("api client: decode %s %s: %w", method, path, err)
	}
	return nil
}

// Send adds the bearer token, sends req and turns a non-2xx answer into a
// *Problem. On success the caller owns resp.Body (for streams such as SSE).
func (c *Client) Send(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("api client: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	p := &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	json.Unmarshal(b, p)
	p.Status = resp.StatusCode
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	return nil, p
}

func pageQuery(path string, limit int, cursor string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// ListProjects returns one page of projects.
func (c *Client) ListProjects(ctx context.Context, limit int, cursor string) (Page[Project], error) {
	var out Page[Project]
	return out, c.Do(ctx, http.MethodGet, pageQuery("/v1/projects", limit, cursor, nil), nil, &out)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, in ProjectCreate) (Project, error) {
	var out Project
	return out, c.Do(ctx, http.MethodPost, "/v1/projects", in, &out)
}

// GetProject returns one project.
func (c *Client) GetProject(ctx context.Context, id string) (Project, error) {
	var out Project
	return out, c.Do(ctx, http.MethodGet, "/v1/projects/"+url.PathEscape(id), nil, &out)
}

// UpdateProject patches a project.
func (c *Client) UpdateProject(ctx context.Context, id string, in ProjectUpdate) (Project, error) {
	var out Project
	return out, c.Do(ctx, http.MethodPatch, "/v1/projects/"+url.PathEscape(id), in, &out)
}

// DeleteProject deletes a project.
func (c *Client) DeleteProject(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/projects/"+url.PathEscape(id), nil, nil)
}

// CreateAPIKey creates a key; the returned token is shown once.
func (c *Client) CreateAPIKey(ctx context.Context, in APIKeyCreate) (APIKeySecret, error) {
	var out APIKeySecret
	return out, c.Do(ctx, http.MethodPost, "/v1/api-keys", in, &out)
}

// ListAPIKeys returns one page of keys.
func (c *Client) ListAPIKeys(ctx context.Context, limit int, cursor string) (Page[APIKey], error) {
	var out Page[APIKey]
	return out, c.Do(ctx, http.MethodGet, pageQuery("/v1/api-keys", limit, cursor, nil), nil, &out)
}

// RotateAPIKey gives a key a new secret.
func (c *Client) RotateAPIKey(ctx context.Context, id string) (APIKeySecret, error) {
	var out APIKeySecret
	return out, c.Do(ctx, http.MethodPost, "/v1/api-keys/"+url.PathEscape(id)+"/rotate", nil, &out)
}

// RevokeAPIKey revokes a key.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(id), nil, nil)
}

// ListUsers returns one page of users.
func (c *Client) ListUsers(ctx context.Context, limit int, cursor string) (Page[User], error) {
	var out Page[User]
	return out, c.Do(ctx, http.MethodGet, pageQuery("/v1/users", limit, cursor, nil), nil, &out)
}

// CreateUser adds a user.
func (c *Client) CreateUser(ctx context.Context, in UserCreate) (User, error) {
	var out User
	return out, c.Do(ctx, http.MethodPost, "/v1/users", in, &out)
}

// UpdateUser patches a user.
func (c *Client) UpdateUser(ctx context.Context, id string, in UserUpdate) (User, error) {
	var out User
	return out, c.Do(ctx, http.MethodPatch, "/v1/users/"+url.PathEscape(id), in, &out)
}

// AuditQuery filters ListAuditLogs.
type AuditQuery struct {
	Actor, Action, TargetType, TargetID string
	Since, Until                        time.Time
}

// ListAuditLogs returns one page of audit records, newest first.
func (c *Client) ListAuditLogs(ctx context.Context, q AuditQuery, limit int, cursor string) (Page[AuditRecord], error) {
	v := url.Values{"actor": {q.Actor}, "action": {q.Action}, "target_type": {q.TargetType}, "target_id": {q.TargetID}}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	var out Page[AuditRecord]
	return out, c.Do(ctx, http.MethodGet, pageQuery("/v1/audit/logs", limit, cursor, v), nil, &out)
}

// IssueToken runs the client-credentials grant with a key id and secret.
func (c *Client) IssueToken(ctx context.Context, clientID, clientSecret, scope string) (TokenResponse, error) {
	var out TokenResponse
	return out, c.Do(ctx, http.MethodPost, "/v1/auth/token", TokenRequest{GrantType: "client_credentials", ClientID: clientID, ClientSecret: clientSecret, Scope: scope}, &out)
}

// Organization returns the caller's organisation.
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	var out Organization
	return out, c.Do(ctx, http.MethodGet, "/v1/organization", nil, &out)
}

// UpdateOrganization sets the IP lists.
func (c *Client) UpdateOrganization(ctx context.Context, in OrganizationUpdate) (Organization, error) {
	var out Organization
	return out, c.Do(ctx, http.MethodPatch, "/v1/organization", in, &out)
}
