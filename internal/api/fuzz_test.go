package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// FuzzRequestDecoding throws arbitrary bodies at every JSON-decoding
// endpoint: the server must never answer 5xx, and every error must be a
// problem+json body.
func FuzzRequestDecoding(f *testing.F) {
	for _, s := range []string{
		`{"name":"p"}`, `{"name":5}`, `{`, `[]`, `null`, `{"name":"a","x":1}`, `{"name":"\u0000"}`,
		`{"role":"viewer","name":"k","expires_at":"2999-01-01T00:00:00Z"}`, `{"email":"a@b.c","role":"sme"}`,
		`{"ip_allow":["10.0.0.0/8"],"ip_deny":["::1"]}`, `{"status":"disabled","project_roles":{"prj_x":"admin"}}`,
		`grant_type=client_credentials&client_id=a&client_secret=b`,
	} {
		for op := byte(0); op < 6; op++ {
			f.Add(op, []byte(s))
		}
	}
	e := newEnv(f, storetest.SQLite(f), auth.Options{})
	u, err := e.owner.CreateUser(f.Context(), api.UserCreate{Email: "fuzz@example.com", Role: "viewer"})
	if err != nil {
		f.Fatal(err)
	}
	p, err := e.owner.CreateProject(f.Context(), api.ProjectCreate{Name: "fuzz-target"})
	if err != nil {
		f.Fatal(err)
	}
	ops := []struct{ method, path, ctype string }{
		{"POST", "/v1/projects", "application/json"},
		{"PATCH", "/v1/projects/" + p.ID, "application/json"},
		{"POST", "/v1/api-keys", "application/json"},
		{"PATCH", "/v1/users/" + u.ID, "application/json"},
		{"PATCH", "/v1/organization", "application/json"},
		{"POST", "/v1/auth/token", "application/x-www-form-urlencoded"},
	}
	f.Fuzz(func(t *testing.T, op byte, body []byte) {
		o := ops[int(op)%len(ops)]
		if o.path == "/v1/organization" && bytes.Contains(body, []byte("ip_")) {
			// an accepted deny list could lock the fuzzer out of its own org
			o.path = "/v1/projects"
			o.method = "POST"
		}
		req := httptest.NewRequest(o.method, o.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", o.ctype)
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.RemoteAddr = "127.0.0.1:1234"
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", o.method, o.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var prob api.Problem
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") || json.Unmarshal(w.Body.Bytes(), &prob) != nil || prob.Status != w.Code {
				t.Fatalf("%s %s %q: %d not a problem: %s", o.method, o.path, body, w.Code, w.Body)
			}
		}
		if w.Code == http.StatusCreated && o.path == "/v1/api-keys" {
			var k api.APIKeySecret
			if json.Unmarshal(w.Body.Bytes(), &k) != nil || k.Token == "" {
				t.Fatalf("201 without a token: %s", w.Body)
			}
		}
	})
}
