// Package storetest runs a test against every metadata dialect: SQLite in
// a temporary directory and PostgreSQL in a fresh schema on the server named
// by WHET_TEST_POSTGRES_URL. Without that variable the PostgreSQL subtest is
// skipped with a message, unless WHET_REQUIRE_POSTGRES=1, when it fails.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/store"
)

// Each runs fn as the subtests "sqlite" and "postgres", each on a freshly
// migrated, empty database that is removed when the subtest ends.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, Postgres(t))
	})
}

// SQLite returns a migrated SQLite database in t.TempDir().
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatalf("storetest: open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate sqlite: %v", err)
	}
	return db
}

// PostgresURL returns a connection URL for a fresh, empty schema on the
// test server (dropped at cleanup), or skips/fails t as described in the
// package comment. The URL sets search_path to that schema.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("WHET_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("WHET_REQUIRE_POSTGRES") == "1" {
			t.Fatal("storetest: WHET_REQUIRE_POSTGRES=1 but WHET_TEST_POSTGRES_URL is not set")
		}
		t.Skip("storetest: WHET_TEST_POSTGRES_URL not set; skipping the PostgreSQL run")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	defer admin.Close()
	schema := "t_" + strings.TrimPrefix(store.NewID("s"), "s_")
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("storetest: cleanup: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: parse WHET_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres returns a migrated PostgreSQL database in a fresh schema, or
// skips/fails t as described in the package comment.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, PostgresURL(t), "")
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	// Test packages run in parallel against one server (default
	// max_connections 100): keep each test database's pool small.
	db.SQL.SetMaxOpenConns(8)
	db.SQL.SetMaxIdleConns(4)
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate postgres: %v", err)
	}
	return db
}
