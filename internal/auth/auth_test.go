package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

var local = netip.MustParseAddr("127.0.0.1")

func newService(t *testing.T, db *store.DB, opt auth.Options) *auth.Service {
	t.Helper()
	s, err := auth.NewService(context.Background(), db, audit.New(db, nil), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func bootstrap(t *testing.T, s *auth.Service) (*auth.Principal, string) {
	t.Helper()
	res, err := s.Bootstrap(context.Background(), "")
	if err != nil || res.Token == "" {
		t.Fatalf("Bootstrap = %+v, %v", res, err)
	}
	p, err := s.Authenticate(context.Background(), "Bearer "+res.Token, local)
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Token
}

func TestParseToken(t *testing.T) {
	for _, tc := range []struct {
		tok, id string
		ok      bool
	}{
		{"whet_key_abc_ABCDEFGHJKLMNPQRS", "key_abc", true},
		{"whet_admin_0123456789abcdef", "admin", true},
		{"whet_key_abc_short", "", false},
		{"whet__ABCDEFGHJKLMNPQRS", "", false},
		{"whet_key_abc_", "", false},
		{"key_abc_ABCDEFGHJKLMNPQRS", "", false},
		{"whet_key'--_ABCDEFGHJKLMNPQRS", "", false},
		{"whet_key_abc_ABCDEFGHJKLMNPQ!S", "", false},
	} {
		t.Run(tc.tok, func(t *testing.T) {
			id, _, err := auth.ParseToken(tc.tok)
			if (err == nil) != tc.ok || id != tc.id {
				t.Fatalf("ParseToken = %q, %v; want %q ok=%v", id, err, tc.id, tc.ok)
			}
		})
	}
	id, secret, tok := auth.NewKey()
	gid, gsecret, err := auth.ParseToken(tok)
	if err != nil || gid != id || gsecret != secret {
		t.Fatalf("round trip: %q %q %v", gid, gsecret, err)
	}
}

func TestNarrowScopes(t *testing.T) {
	ml := auth.RoleMLEngineer.Scopes()
	for _, tc := range []struct {
		req  string
		want string
		ok   bool
	}{
		{"", strings.Join(ml, " "), true},
		{"train:run", "train:run", true},
		{"train:run data:read train:run", "train:run data:read", true},
		{"data:write", "", false},
		{"admin:*", "", false},
		{"bogus", "", false},
	} {
		got, ok := auth.NarrowScopes(ml, tc.req)
		if ok != tc.ok || strings.Join(got, " ") != tc.want {
			t.Errorf("NarrowScopes(%q) = %v %v", tc.req, got, ok)
		}
	}
	if got, ok := auth.NarrowScopes(auth.RoleOwner.Scopes(), "data:write"); !ok || len(got) != 1 {
		t.Errorf("owner narrowing to data:write = %v %v", got, ok)
	}
}

func TestKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, auth.Options{})
		owner, ownerTok := bootstrap(t, s)
		if owner.Role != auth.RoleOwner || !owner.Can(auth.ScopeAdmin) {
			t.Fatalf("bootstrap principal = %+v", owner)
		}
		// second bootstrap is a no-op
		if res, err := s.Bootstrap(ctx, ""); err != nil || res.Token != "" {
			t.Fatalf("second Bootstrap = %+v, %v", res, err)
		}
		k, tok, err := s.CreateKey(ctx, owner, auth.NewAPIKey{Name: "ci", Role: auth.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Authenticate(ctx, "Bearer "+tok, local)
		if err != nil || p.KeyID != k.ID || p.Can(auth.ScopeDataWrite) || !p.Can(auth.ScopeDataRead) {
			t.Fatalf("viewer principal = %+v, %v", p, err)
		}
		if _, _, err := s.CreateKey(ctx, p, auth.NewAPIKey{Name: "x", Role: auth.RoleViewer}); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("viewer creating a key: %v", err)
		}
		t.Run("tampered secret", func(t *testing.T) {
			bad := tok[:len(tok)-1] + string(rune('a'+(tok[len(tok)-1]-'a'+1)%26))
			if _, err := s.Authenticate(ctx, "Bearer "+bad, local); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("tampered: %v", err)
			}
		})
		t.Run("rotate", func(t *testing.T) {
			_, tok2, err := s.RotateKey(ctx, owner, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, "Bearer "+tok, local); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("old token after rotate: %v", err)
			}
			if _, err := s.Authenticate(ctx, "Bearer "+tok2, local); err != nil {
				t.Fatalf("new token: %v", err)
			}
			tok = tok2
		})
		t.Run("last used is batched", func(t *testing.T) {
			if err := s.FlushLastUsed(ctx); err != nil {
				t.Fatal(err)
			}
			var used *string
			db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT last_used_at FROM api_keys WHERE id = ?`), k.ID).Scan(&used)
			if used == nil {
				t.Fatal("last_used_at not written")
			}
		})
		t.Run("revoke", func(t *testing.T) {
			if err := s.RevokeKey(ctx, owner, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, "Bearer "+tok, local); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("revoked: %v", err)
			}
			if err := s.RevokeKey(ctx, owner, k.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("revoke twice: %v", err)
			}
		})
		t.Run("expired", func(t *testing.T) {
			exp := time.Now().Add(time.Hour)
			_, tok, err := s.CreateKey(ctx, owner, auth.NewAPIKey{Name: "short", Role: auth.RoleViewer, ExpiresAt: &exp})
			if err != nil {
				t.Fatal(err)
			}
			later := newService(t, db, auth.Options{Now: func() time.Time { return exp.Add(time.Second) }})
			if _, err := later.Authenticate(ctx, "Bearer "+tok, local); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("expired: %v", err)
			}
		})
		t.Run("foreign org", func(t *testing.T) {
			org2, err := s.CreateOrg(ctx, "test", "acme")
			if err != nil {
				t.Fatal(err)
			}
			p2 := &auth.Principal{OrgID: org2.ID, ActorID: "t", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()}
			if _, err := s.GetKey(ctx, org2.ID, owner.KeyID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("foreign get: %v", err)
			}
			if err := s.RevokeKey(ctx, p2, owner.KeyID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("foreign revoke: %v", err)
			}
			if _, err := s.Authenticate(ctx, "Bearer "+ownerTok, local); err != nil {
				t.Fatal("owner key hurt by foreign revoke")
			}
		})
		t.Run("admin token", func(t *testing.T) {
			const tok = "whet_boot_ABCDEFGHJKLMNPQRSTUV"
			if _, err := s.Bootstrap(ctx, tok); err != nil {
				t.Fatal(err)
			}
			p, err := s.Authenticate(ctx, "Bearer "+tok, local)
			if err != nil || p.Role != auth.RoleOwner || p.KeyID != "boot" {
				t.Fatalf("admin token principal = %+v, %v", p, err)
			}
			if _, err := s.Bootstrap(ctx, "whet_bad"); err == nil {
				t.Fatal("malformed admin token accepted")
			}
		})
		res, err := audit.New(db, nil).Verify(ctx)
		if err != nil || !res.OK {
			t.Fatalf("audit chain: %v %v", res, err)
		}
	})
}

func TestUsersAndEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, auth.Options{})
		owner, _ := bootstrap(t, s)
		_, adminTok, err := s.CreateKey(ctx, owner, auth.NewAPIKey{Name: "adm", Role: auth.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		admin, _ := s.Authenticate(ctx, "Bearer "+adminTok, local)
		if _, _, err := s.CreateKey(ctx, admin, auth.NewAPIKey{Name: "x", Role: auth.RoleOwner}); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("admin minting an owner key: %v", err)
		}
		u, err := s.CreateUser(ctx, admin, auth.NewUser{Email: "ann@example.com", Role: auth.RoleSME})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, admin, auth.NewUser{Email: "ann@example.com", Role: auth.RoleSME}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: %v", err)
		}
		var fe *auth.FieldError
		if _, err := s.CreateUser(ctx, admin, auth.NewUser{Email: "not an email", Role: auth.RoleSME}); !errors.As(err, &fe) || fe.Field != "body.email" {
			t.Fatalf("bad email: %v", err)
		}
		r := auth.RoleMLEngineer
		disabled := auth.UserDisabled
		got, err := s.UpdateUser(ctx, admin, u.ID, auth.UserPatch{Role: &r, Status: &disabled})
		if err != nil || got.Role != r || got.Status != disabled {
			t.Fatalf("UpdateUser = %+v, %v", got, err)
		}
		users, next, err := s.ListUsers(ctx, owner.OrgID, 10, "")
		if err != nil || len(users) != 1 || next != "" {
			t.Fatalf("ListUsers = %d %q %v", len(users), next, err)
		}
	})
}

func TestIPListsAndRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, auth.Options{RateLimit: 1, RateBurst: 3})
		owner, tok := bootstrap(t, s)
		var fe *auth.FieldError
		if _, err := s.UpdateOrgIPLists(ctx, owner, []string{"10.0.0.0/33"}, nil); !errors.As(err, &fe) {
			t.Fatalf("bad CIDR: %v", err)
		}
		if _, err := s.UpdateOrgIPLists(ctx, owner, []string{"127.0.0.0/8", "::1"}, []string{"127.0.0.9"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			ip string
			ok bool
		}{{"127.0.0.1", true}, {"::1", true}, {"127.0.0.9", false}, {"10.1.2.3", false}, {"::ffff:127.0.0.1", true}} {
			_, err := s.Authenticate(ctx, "Bearer "+tok, netip.MustParseAddr(tc.ip))
			if (err == nil) != tc.ok || (!tc.ok && !errors.Is(err, auth.ErrIPDenied)) {
				t.Errorf("ip %s: %v", tc.ip, err)
			}
		}
		allowed := 0
		var retry time.Duration
		for i := 0; i < 10; i++ {
			ok, d := s.Allow(owner)
			if ok {
				allowed++
			} else {
				retry = d
			}
		}
		if allowed < 3 || allowed > 4 || retry <= 0 {
			t.Fatalf("rate limit: %d allowed, retry %v", allowed, retry)
		}
	})
}

func TestTokenEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, auth.Options{})
		owner, _ := bootstrap(t, s)
		k, tok, err := s.CreateKey(ctx, owner, auth.NewAPIKey{Name: "ml", Role: auth.RoleMLEngineer})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, _ := auth.ParseToken(tok)
		if _, err := s.IssueToken(ctx, k.ID, secret+"x", ""); !errors.Is(err, auth.ErrInvalidClient) {
			t.Fatalf("bad secret: %v", err)
		}
		if _, err := s.IssueToken(ctx, k.ID, secret, "data:write"); !errors.Is(err, auth.ErrInvalidScope) {
			t.Fatalf("widening scope: %v", err)
		}
		tr, err := s.IssueToken(ctx, k.ID, secret, "train:run")
		if err != nil || tr.Scope != "train:run" || tr.ExpiresIn <= 0 {
			t.Fatalf("IssueToken = %+v, %v", tr, err)
		}
		p, err := s.Authenticate(ctx, "Bearer "+tr.AccessToken, local)
		if err != nil || !p.Can(auth.ScopeTrainRun) || p.Can(auth.ScopeDataRead) || p.Method != "jwt" {
			t.Fatalf("JWT principal = %+v, %v", p, err)
		}
		// the token verifies against the published JWKS
		jwks := s.JWKS()
		parsed, err := jwt.Parse(tr.AccessToken, func(tk *jwt.Token) (any, error) {
			for _, j := range jwks {
				if j.Kid == tk.Header["kid"] {
					return j.PublicKey()
				}
			}
			return nil, errors.New("kid not in JWKS")
		}, jwt.WithValidMethods([]string{"EdDSA"}))
		if err != nil || !parsed.Valid {
			t.Fatalf("JWKS verification: %v", err)
		}
		// a second service on the same DB (another process) verifies it too
		s2 := newService(t, db, auth.Options{})
		if _, err := s2.Authenticate(ctx, "Bearer "+tr.AccessToken, local); err != nil {
			t.Fatalf("second process: %v", err)
		}
		// tampering with the payload breaks the signature
		parts := strings.Split(tr.AccessToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := strings.Replace(string(payload), "train:run", "admin:*", 1)
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
		if _, err := s.Authenticate(ctx, "Bearer "+strings.Join(parts, "."), local); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("forged token: %v", err)
		}
		// revoking the key kills its tokens
		if err := s.RevokeKey(ctx, owner, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "Bearer "+tr.AccessToken, local); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("token of revoked key: %v", err)
		}
	})
}

func TestOIDC(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []auth.JWK{{
			Kty: "RSA", Kid: "k1", Alg: "RS256", Use: "sig",
			N: base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
		}}})
	}))
	defer jwksSrv.Close()
	const issuer = "https://id.example.test/realms/acme"
	sign := func(key *rsa.PrivateKey, claims jwt.MapClaims) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tk.Header["kid"] = "k1"
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, auth.Options{OIDC: &auth.OIDCConfig{Issuer: issuer, JWKSURL: jwksSrv.URL, Audience: "whet", OrgClaim: "tenant", RoleClaim: "whet_role"}})
		owner, _ := bootstrap(t, s)
		if _, err := s.CreateUser(ctx, owner, auth.NewUser{Email: "bo@example.com", Role: auth.RoleDataEngineer}); err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(time.Hour).Unix()
		for _, tc := range []struct {
			name   string
			key    *rsa.PrivateKey
			claims jwt.MapClaims
			role   auth.Role
		}{
			{"claim role", priv, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u1", "exp": exp, "tenant": "default", "whet_role": "viewer"}, auth.RoleViewer},
			{"user binding", priv, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u2", "exp": exp, "tenant": "default", "email": "bo@example.com"}, auth.RoleDataEngineer},
			{"wrong key", other, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u1", "exp": exp, "tenant": "default", "whet_role": "viewer"}, ""},
			{"expired", priv, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u1", "exp": time.Now().Add(-time.Hour).Unix(), "tenant": "default", "whet_role": "viewer"}, ""},
			{"wrong audience", priv, jwt.MapClaims{"iss": issuer, "aud": "other", "sub": "u1", "exp": exp, "tenant": "default", "whet_role": "viewer"}, ""},
			{"unknown org", priv, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u1", "exp": exp, "tenant": "nope", "whet_role": "viewer"}, ""},
			{"no role", priv, jwt.MapClaims{"iss": issuer, "aud": "whet", "sub": "u3", "exp": exp, "tenant": "default"}, ""},
			{"untrusted issuer", priv, jwt.MapClaims{"iss": "https://evil.test", "aud": "whet", "sub": "u1", "exp": exp, "tenant": "default", "whet_role": "owner"}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, err := s.Authenticate(ctx, "Bearer "+sign(tc.key, tc.claims), local)
				if tc.role == "" {
					if err == nil {
						t.Fatalf("accepted: %+v", p)
					}
					return
				}
				if err != nil || p.Role != tc.role || p.OrgID != owner.OrgID || p.Method != "oidc" {
					t.Fatalf("principal = %+v, %v", p, err)
				}
			})
		}
	})
}
