package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// BenchmarkAuthenticateAPIKey is the per-request cost of an API key whose
// lookup is cached: parse, hash and constant-time compare, org IP lists.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	s, err := auth.NewService(ctx, db, audit.New(db, nil), auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	res, err := s.Bootstrap(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	hdr := "Bearer " + res.Token
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Authenticate(ctx, hdr, local); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestCachedKeyWrongSecret checks that a cached key still refuses a token
// with the right id and a wrong secret (the cache holds the hash, never a
// decision).
func TestCachedKeyWrongSecret(t *testing.T) {
	s := newService(t, storetest.SQLite(t), auth.Options{})
	_, tok := bootstrap(t, s) // fills the key cache
	id, secret, err := auth.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	flip := []byte(secret)
	if flip[len(flip)-1] == 'A' {
		flip[len(flip)-1] = 'B'
	} else {
		flip[len(flip)-1] = 'A'
	}
	for _, bad := range []string{auth.FormatToken(id, string(flip)), auth.FormatToken(id, secret+"A"), auth.FormatToken(id, secret[:len(secret)-1])} {
		if _, err := s.Authenticate(context.Background(), "Bearer "+bad, local); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("%s…: %v", bad[:16], err)
		}
	}
	p1, err := s.Authenticate(context.Background(), "Bearer "+tok, local)
	if err != nil {
		t.Fatal(err)
	}
	if p1.KeyID != id || p1.Method != "api_key" {
		t.Fatalf("principal = %+v", p1)
	}
}
