package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// TestHostileRequests sends malformed and hostile requests: every one must
// answer a 4xx problem+json and change nothing in the store.
func TestHostileRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, auth.Options{})
		own, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "mine"})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(role string) string {
			k, err := e.owner.CreateAPIKey(ctx, api.APIKeyCreate{Name: role, Role: role})
			if err != nil {
				t.Fatal(err)
			}
			return k.Token
		}
		viewer, admin := mk("viewer"), mk("admin")
		revokedKey, _ := e.owner.CreateAPIKey(ctx, api.APIKeyCreate{Name: "revoked", Role: "owner"})
		if err := e.owner.RevokeAPIKey(ctx, revokedKey.ID); err != nil {
			t.Fatal(err)
		}
		soon := time.Now().Add(time.Hour)
		expiredKey, _ := e.owner.CreateAPIKey(ctx, api.APIKeyCreate{Name: "expired", Role: "owner", ExpiresAt: &soon})
		db.SQL.ExecContext(ctx, db.Rebind(`UPDATE api_keys SET expires_at = ? WHERE id = ?`), store.FormatTime(time.Now().Add(-time.Hour)), expiredKey.ID)
		user, err := e.owner.CreateUser(ctx, api.UserCreate{Email: "u@example.com", Role: "viewer"})
		if err != nil {
			t.Fatal(err)
		}
		// another organisation with a project and a key
		org2, _ := e.auth.CreateOrg(ctx, "test", "other")
		p2 := &auth.Principal{OrgID: org2.ID, ActorID: "test", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()}
		foreignKey, foreignTok, _ := e.auth.CreateKey(ctx, p2, auth.NewAPIKey{Name: "o2", Role: auth.RoleOwner})
		foreignProject, err := api.NewClient(e.http.URL, foreignTok).CreateProject(ctx, api.ProjectCreate{Name: "theirs"})
		if err != nil {
			t.Fatal(err)
		}
		foreignUser, err := api.NewClient(e.http.URL, foreignTok).CreateUser(ctx, api.UserCreate{Email: "f@example.com", Role: "viewer"})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := e.owner.IssueToken(ctx, e.keyID, e.secret, "data:read")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tr.AccessToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "data:read", "admin:*", 1))) + "." + parts[2]
		noneAlg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		badSecret := e.token[:len(e.token)-4] + "zzzz"

		long := strings.Repeat("x", 101)
		big := `{"name":"big","description":"` + strings.Repeat("a", 70<<10) + `"}`
		pid := "/v1/projects/" + own.ID
		form := func(v url.Values) string { return v.Encode() }
		const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"
		cases := []struct {
			name, method, path, token, ctype, body string
			want                                   int
		}{
			{"bad json", "POST", "/v1/projects", e.token, jsonCT, `{`, 400},
			{"name wrong type", "POST", "/v1/projects", e.token, jsonCT, `{"name":5}`, 422},
			{"unknown field", "POST", "/v1/projects", e.token, jsonCT, `{"name":"x","evil":1}`, 422},
			{"missing name", "POST", "/v1/projects", e.token, jsonCT, `{}`, 422},
			{"empty name", "POST", "/v1/projects", e.token, jsonCT, `{"name":""}`, 422},
			{"blank name", "POST", "/v1/projects", e.token, jsonCT, `{"name":"   "}`, 422},
			{"name too long", "POST", "/v1/projects", e.token, jsonCT, `{"name":"` + long + `"}`, 422},
			{"control chars in name", "POST", "/v1/projects", e.token, jsonCT, `{"name":"a\u0000b"}`, 422},
			{"array body", "POST", "/v1/projects", e.token, jsonCT, `[]`, 422},
			{"null body", "POST", "/v1/projects", e.token, jsonCT, `null`, 422},
			{"oversized body", "POST", "/v1/projects", e.token, jsonCT, big, 413},
			{"trailing garbage", "POST", "/v1/projects", e.token, jsonCT, `{"name":"x"} {`, 400},
			{"sql injection name dup", "POST", "/v1/projects", e.token, jsonCT, `{"name":"mine"}`, 409},
			{"no credentials", "GET", "/v1/projects", "", "", "", 401},
			{"basic scheme", "GET", "/v1/projects", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "", "", 401},
			{"malformed api key", "GET", "/v1/projects", "whet_abc", "", "", 401},
			{"tampered secret", "GET", "/v1/projects", badSecret, "", "", 401},
			{"revoked key", "GET", "/v1/projects", revokedKey.Token, "", "", 401},
			{"expired key", "GET", "/v1/projects", expiredKey.Token, "", "", 401},
			{"tampered jwt", "POST", "/v1/projects", tampered, jsonCT, `{"name":"jwt"}`, 401},
			{"alg none jwt", "POST", "/v1/projects", noneAlg, jsonCT, `{"name":"jwt"}`, 401},
			{"garbage bearer", "GET", "/v1/projects", "a.b.c", "", "", 401},
			{"viewer creates project", "POST", "/v1/projects", viewer, jsonCT, `{"name":"v"}`, 403},
			{"viewer creates key", "POST", "/v1/api-keys", viewer, jsonCT, `{"name":"v","role":"viewer"}`, 403},
			{"viewer reads audit", "GET", "/v1/audit/logs", viewer, "", "", 403},
			{"viewer edits org", "PATCH", "/v1/organization", viewer, jsonCT, `{"ip_deny":["0.0.0.0/0"]}`, 403},
			{"narrowed jwt writes", "DELETE", pid, tr.AccessToken, "", "", 403},
			{"admin mints owner", "POST", "/v1/api-keys", admin, jsonCT, `{"name":"o","role":"owner"}`, 403},
			{"foreign project get", "GET", "/v1/projects/" + foreignProject.ID, e.token, "", "", 404},
			{"foreign project patch", "PATCH", "/v1/projects/" + foreignProject.ID, e.token, jsonCT, `{"name":"pwned"}`, 404},
			{"foreign project delete", "DELETE", "/v1/projects/" + foreignProject.ID, e.token, "", "", 404},
			{"foreign key revoke", "DELETE", "/v1/api-keys/" + foreignKey.ID, e.token, "", "", 404},
			{"foreign key rotate", "POST", "/v1/api-keys/" + foreignKey.ID + "/rotate", e.token, "", "", 404},
			{"foreign user patch", "PATCH", "/v1/users/" + foreignUser.ID, e.token, jsonCT, `{"status":"disabled"}`, 404},
			{"sql injection id", "GET", "/v1/projects/" + url.PathEscape("' OR 1=1 --"), e.token, "", "", 404},
			{"path traversal id", "DELETE", "/v1/projects/" + url.PathEscape("../../etc/passwd"), e.token, "", "", 404},
			{"overlong id", "GET", "/v1/projects/" + strings.Repeat("p", 70), e.token, "", "", 422},
			{"limit zero", "GET", "/v1/projects?limit=0", e.token, "", "", 422},
			{"limit not a number", "GET", "/v1/projects?limit=abc", e.token, "", "", 422},
			{"limit huge", "GET", "/v1/projects?limit=100000", e.token, "", "", 422},
			{"garbage cursor", "GET", "/v1/projects?cursor=garbage", e.token, "", "", 400},
			{"injection cursor", "GET", "/v1/projects?cursor=" + url.QueryEscape("' OR '1'='1"), e.token, "", "", 400},
			{"unknown role", "POST", "/v1/api-keys", e.token, jsonCT, `{"name":"k","role":"god"}`, 422},
			{"expiry in the past", "POST", "/v1/api-keys", e.token, jsonCT, `{"name":"k","role":"viewer","expires_at":"2001-01-01T00:00:00Z"}`, 422},
			{"expiry not a date", "POST", "/v1/api-keys", e.token, jsonCT, `{"name":"k","role":"viewer","expires_at":"tomorrow"}`, 422},
			{"key for foreign project", "POST", "/v1/api-keys", e.token, jsonCT, `{"name":"k","role":"viewer","project_id":"` + foreignProject.ID + `"}`, 422},
			{"bad email", "POST", "/v1/users", e.token, jsonCT, `{"email":"not-an-email","role":"viewer"}`, 422},
			{"duplicate user", "POST", "/v1/users", e.token, jsonCT, `{"email":"u@example.com","role":"viewer"}`, 409},
			{"bad status", "PATCH", "/v1/users/" + user.ID, e.token, jsonCT, `{"status":"zombie"}`, 422},
			{"empty user patch", "PATCH", "/v1/users/" + user.ID, e.token, jsonCT, `{}`, 422},
			{"binding to foreign project", "PATCH", "/v1/users/" + user.ID, e.token, jsonCT, `{"project_roles":{"` + foreignProject.ID + `":"admin"}}`, 422},
			{"empty project patch", "PATCH", pid, e.token, jsonCT, `{}`, 422},
			{"bad CIDR", "PATCH", "/v1/organization", e.token, jsonCT, `{"ip_allow":["300.1.1.1/8"]}`, 422},
			{"audit bad time", "GET", "/v1/audit/logs?since=yesterday", e.token, "", "", 422},
			{"audit bad cursor", "GET", "/v1/audit/logs?cursor=-5", e.token, "", "", 400},
			{"grant type password", "POST", "/v1/auth/token", "", formCT, form(url.Values{"grant_type": {"password"}, "client_id": {e.keyID}, "client_secret": {e.secret}}), 400},
			{"token wrong secret", "POST", "/v1/auth/token", "", formCT, form(url.Values{"grant_type": {"client_credentials"}, "client_id": {e.keyID}, "client_secret": {"WRONGWRONGWRONGWRONG"}}), 401},
			{"token revoked key", "POST", "/v1/auth/token", "", jsonCT, `{"grant_type":"client_credentials","client_id":"` + revokedKey.ID + `","client_secret":"` + revokedKey.Token[strings.LastIndex(revokedKey.Token, "_")+1:] + `"}`, 401},
			{"token scope widening", "POST", "/v1/auth/token", "", jsonCT, `{"grant_type":"client_credentials","client_id":"` + e.keyID + `","client_secret":"` + e.secret + `","scope":"root"}`, 400},
			{"token unknown param", "POST", "/v1/auth/token", "", formCT, form(url.Values{"grant_type": {"client_credentials"}, "client_id": {e.keyID}, "client_secret": {e.secret}, "x": {"1"}}), 400},
			{"token unknown json field", "POST", "/v1/auth/token", "", jsonCT, `{"grant_type":"client_credentials","client_id":"a","client_secret":"b","admin":true}`, 400},
			{"token xml", "POST", "/v1/auth/token", "", "application/xml", `<a/>`, 415},
			{"method not allowed", "PUT", "/v1/projects", e.token, jsonCT, `{"name":"x"}`, 405},
			{"unknown endpoint", "POST", "/v1/projectz", e.token, jsonCT, `{"name":"x"}`, 404},
			{"path traversal endpoint", "GET", "/v1/../../etc/passwd", e.token, "", "", 404},
		}
		if len(cases) < 40 {
			t.Fatalf("only %d hostile cases", len(cases))
		}
		before := snapshot(t, db)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req, _ := http.NewRequest(tc.method, e.http.URL+tc.path, body)
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				switch {
				case strings.HasPrefix(tc.token, "Basic "):
					req.Header.Set("Authorization", tc.token)
				case tc.token != "":
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
				}
				if resp.StatusCode >= 500 {
					t.Errorf("5xx for bad input: %s", b)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Errorf("content type %q: %s", ct, b)
				}
				var p api.Problem
				if err := json.Unmarshal(b, &p); err != nil || p.Status != resp.StatusCode || p.Title == "" {
					t.Errorf("not a problem body: %s", b)
				}
				if resp.StatusCode == 422 && len(p.Errors) == 0 {
					t.Errorf("422 names no field: %s", b)
				}
			})
		}
		if after := snapshot(t, db); after != before {
			t.Fatalf("hostile requests changed the store:\nbefore %s\nafter  %s", before, after)
		}
	})
}
