package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func status(err error) int {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}

func TestEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, auth.Options{})
		c := e.owner

		var ids []string
		for _, n := range []string{"alpha", "beta", "gamma"} {
			p, err := c.CreateProject(ctx, api.ProjectCreate{Name: n, Description: "d " + n})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: "alpha"}); status(err) != 409 {
			t.Fatalf("duplicate name: %v", err)
		}
		t.Run("pagination", func(t *testing.T) {
			seen := map[string]bool{}
			cursor := ""
			pages := 0
			for {
				pg, err := c.ListProjects(ctx, 2, cursor)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, p := range pg.Items {
					seen[p.ID] = true
				}
				if pg.NextCursor == "" {
					break
				}
				cursor = pg.NextCursor
			}
			if len(seen) != 3 || pages != 2 {
				t.Fatalf("saw %d projects in %d pages", len(seen), pages)
			}
		})
		t.Run("get patch delete", func(t *testing.T) {
			name := "alpha-2"
			p, err := c.UpdateProject(ctx, ids[0], api.ProjectUpdate{Name: &name})
			if err != nil || p.Name != name || p.Description != "d alpha" {
				t.Fatalf("patch = %+v, %v", p, err)
			}
			if err := c.DeleteProject(ctx, ids[2]); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetProject(ctx, ids[2]); status(err) != 404 {
				t.Fatalf("get deleted: %v", err)
			}
		})
		t.Run("tenant isolation", func(t *testing.T) {
			org2, err := e.auth.CreateOrg(ctx, "test", "other")
			if err != nil {
				t.Fatal(err)
			}
			p2 := &auth.Principal{OrgID: org2.ID, ActorID: "test", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()}
			_, tok2, err := e.auth.CreateKey(ctx, p2, auth.NewAPIKey{Name: "o2", Role: auth.RoleOwner})
			if err != nil {
				t.Fatal(err)
			}
			c2 := api.NewClient(e.http.URL, tok2)
			if _, err := c2.GetProject(ctx, ids[0]); status(err) != 404 {
				t.Fatalf("foreign get: %v", err)
			}
			if err := c2.DeleteProject(ctx, ids[0]); status(err) != 404 {
				t.Fatalf("foreign delete: %v", err)
			}
			if err := c2.RevokeAPIKey(ctx, e.keyID); status(err) != 404 {
				t.Fatalf("foreign revoke: %v", err)
			}
			pg, err := c2.ListProjects(ctx, 0, "")
			if err != nil || len(pg.Items) != 0 {
				t.Fatalf("foreign list = %+v, %v", pg, err)
			}
			logs, err := c2.ListAuditLogs(ctx, api.AuditQuery{}, 100, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range logs.Items {
				if r.OrgID != org2.ID {
					t.Fatalf("foreign audit record visible: %+v", r)
				}
			}
		})
		t.Run("keys", func(t *testing.T) {
			k, err := c.CreateAPIKey(ctx, api.APIKeyCreate{Name: "viewer", Role: "viewer", ProjectID: ids[1]})
			if err != nil || !strings.HasPrefix(k.Token, "whet_key_") {
				t.Fatalf("create key = %+v, %v", k, err)
			}
			vc := api.NewClient(e.http.URL, k.Token)
			pg, err := vc.ListProjects(ctx, 0, "")
			if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != ids[1] {
				t.Fatalf("project key list = %+v, %v", pg, err)
			}
			if _, err := vc.GetProject(ctx, ids[0]); status(err) != 404 {
				t.Fatalf("project key reading another project: %v", err)
			}
			if _, err := vc.CreateProject(ctx, api.ProjectCreate{Name: "nope"}); status(err) != 403 {
				t.Fatalf("viewer create: %v", err)
			}
			pa, err := c.CreateAPIKey(ctx, api.APIKeyCreate{Name: "project admin", Role: "admin", ProjectID: ids[1]})
			if err != nil {
				t.Fatal(err)
			}
			pac := api.NewClient(e.http.URL, pa.Token)
			if _, err := pac.ListUsers(ctx, 0, ""); status(err) != 403 {
				t.Fatalf("project admin listing users: %v", err)
			}
			if _, err := pac.UpdateOrganization(ctx, api.OrganizationUpdate{IPDeny: []string{"0.0.0.0/0"}}); status(err) != 403 {
				t.Fatalf("project admin editing the org: %v", err)
			}
			if _, err := pac.ListAuditLogs(ctx, api.AuditQuery{}, 10, ""); status(err) != 403 {
				t.Fatalf("project admin reading the audit log: %v", err)
			}
			name := "renamed by project admin"
			if _, err := pac.UpdateProject(ctx, ids[1], api.ProjectUpdate{Name: &name}); err != nil {
				t.Fatalf("project admin renaming its project: %v", err)
			}
			r, err := c.RotateAPIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := vc.ListProjects(ctx, 0, ""); status(err) != 401 {
				t.Fatalf("old token after rotate: %v", err)
			}
			vc.Token = r.Token
			if _, err := vc.ListProjects(ctx, 0, ""); err != nil {
				t.Fatalf("rotated token: %v", err)
			}
			if err := c.RevokeAPIKey(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := vc.ListProjects(ctx, 0, ""); status(err) != 401 {
				t.Fatalf("revoked token: %v", err)
			}
			e.auth.FlushLastUsed(ctx)
			keys, err := c.ListAPIKeys(ctx, 100, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, kk := range keys.Items {
				if kk.ID == e.keyID && kk.LastUsedAt == nil {
					t.Fatal("owner key has no last_used_at")
				}
			}
		})
		t.Run("users", func(t *testing.T) {
			u, err := c.CreateUser(ctx, api.UserCreate{Email: "eve@example.com", Role: "sme"})
			if err != nil || u.Status != "active" {
				t.Fatalf("create user = %+v, %v", u, err)
			}
			role, st := "viewer", "disabled"
			u, err = c.UpdateUser(ctx, u.ID, api.UserUpdate{Role: &role, Status: &st, ProjectRoles: map[string]string{ids[1]: "ml_engineer"}})
			if err != nil || u.Role != "viewer" || u.Status != "disabled" || u.ProjectRoles[ids[1]] != "ml_engineer" {
				t.Fatalf("update user = %+v, %v", u, err)
			}
		})
		t.Run("oauth token", func(t *testing.T) {
			tr, err := c.IssueToken(ctx, e.keyID, e.secret, "data:read")
			if err != nil || tr.TokenType != "Bearer" || tr.Scope != "data:read" {
				t.Fatalf("token = %+v, %v", tr, err)
			}
			jc := api.NewClient(e.http.URL, tr.AccessToken)
			if _, err := jc.ListProjects(ctx, 0, ""); err != nil {
				t.Fatalf("JWT read: %v", err)
			}
			if _, err := jc.CreateProject(ctx, api.ProjectCreate{Name: "narrowed"}); status(err) != 403 {
				t.Fatalf("narrowed JWT write: %v", err)
			}
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.keyID}, "client_secret": {e.secret}}
			resp, err := http.PostForm(e.http.URL+"/v1/auth/token", form)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 200 || body["access_token"] == nil {
				t.Fatalf("form grant: %d %v", resp.StatusCode, body)
			}
			resp, err = http.Get(e.http.URL + "/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			var set api.JWKSet
			json.NewDecoder(resp.Body).Decode(&set)
			resp.Body.Close()
			if len(set.Keys) == 0 || set.Keys[0].Crv != "Ed25519" {
				t.Fatalf("jwks = %+v", set)
			}
		})
		t.Run("audit", func(t *testing.T) {
			pg, err := c.ListAuditLogs(ctx, api.AuditQuery{Action: "project.create"}, 100, "")
			if err != nil || len(pg.Items) != 3 {
				t.Fatalf("project.create records = %d, %v", len(pg.Items), err)
			}
			res, err := audit.New(db, nil).Verify(ctx)
			if err != nil || !res.OK {
				t.Fatalf("verify: %v %v", res, err)
			}
		})
		t.Run("public endpoints", func(t *testing.T) {
			for path, want := range map[string]string{
				"/healthz":      `"ok"`,
				"/readyz":       `"ready"`,
				"/openapi.json": `"/v1/projects/{project_id}"`,
				"/metrics":      `whet_http_requests_total{method="POST",route="POST /v1/projects",status="201"}`,
			} {
				resp, err := http.Get(e.http.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
					t.Errorf("%s: %d, missing %s", path, resp.StatusCode, want)
				}
				if resp.Header.Get("X-Request-Id") == "" {
					t.Errorf("%s: no request id", path)
				}
			}
		})
	})
}

func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), auth.Options{})
	resp, err := http.Get(e.http.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	for path, methods := range map[string][]string{
		"/v1/projects": {"get", "post"}, "/v1/projects/{project_id}": {"get", "patch", "delete"},
		"/v1/users": {"get", "post"}, "/v1/users/{user_id}": {"patch"}, "/v1/api-keys": {"get", "post"},
		"/v1/api-keys/{id}/rotate": {"post"}, "/v1/api-keys/{id}": {"delete"}, "/v1/auth/token": {"post"},
		"/v1/audit/logs": {"get"}, "/.well-known/jwks.json": {"get"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("OpenAPI lacks %s %s", m, path)
			}
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), auth.Options{RateLimit: 0.5, RateBurst: 2})
	ctx := context.Background()
	var last error
	n := 0
	for i := 0; i < 5; i++ {
		if _, err := e.owner.ListProjects(ctx, 0, ""); err != nil {
			last = err
		} else {
			n++
		}
	}
	var p *api.Problem
	if n != 2 || !errors.As(last, &p) || p.Status != 429 || p.RetryAfter <= 0 {
		t.Fatalf("allowed %d, last error %v", n, last)
	}
	// the token grant draws from the same bucket
	_, err := e.owner.IssueToken(ctx, e.keyID, e.secret, "")
	if !errors.As(err, &p) || p.Status != 429 || p.RetryAfter <= 0 {
		t.Fatalf("token grant with an empty bucket: %v", err)
	}
}
