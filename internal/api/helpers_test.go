package api_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"testing"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
)

type env struct {
	db     *store.DB
	auth   *auth.Service
	srv    *api.Server
	http   *httptest.Server
	owner  *api.Client
	token  string
	orgID  string
	keyID  string
	secret string
}

func newEnv(t testing.TB, db *store.DB, opt auth.Options) *env {
	t.Helper()
	ctx := context.Background()
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, MaxBodyBytes: 64 << 10})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	id, secret, _ := auth.ParseToken(res.Token)
	return &env{db: db, auth: as, srv: srv, http: hs, owner: api.NewClient(hs.URL, res.Token), token: res.Token, orgID: res.Org.ID, keyID: id, secret: secret}
}

// snapshot summarises everything the API can change, to prove a request
// changed nothing.
func snapshot(t testing.TB, db *store.DB) string {
	t.Helper()
	var out string
	for _, q := range []string{
		`SELECT count(*) FROM organizations`, `SELECT count(*) FROM users`, `SELECT count(*) FROM projects`,
		`SELECT count(*) FROM api_keys`, `SELECT count(*) FROM role_bindings`, `SELECT count(*) FROM audit_logs`,
		`SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL`,
		`SELECT coalesce(max(updated_at), '') FROM projects`, `SELECT coalesce(max(updated_at), '') FROM organizations`,
		`SELECT hash FROM audit_head`, `SELECT coalesce(max(secret_hash), '') FROM api_keys`,
	} {
		var v sql.NullString
		if err := db.SQL.QueryRowContext(context.Background(), q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out += v.String + "|"
	}
	return out
}
