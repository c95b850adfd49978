package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func TestRebind(t *testing.T) {
	pg := &store.DB{Dialect: store.Postgres}
	lite := &store.DB{Dialect: store.SQLite}
	for _, tc := range []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
		{"x IN (?,?,?)", "x IN ($1,$2,$3)"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := pg.Rebind(tc.in); got != tc.pg {
				t.Errorf("postgres Rebind(%q) = %q, want %q", tc.in, got, tc.pg)
			}
			if got := lite.Rebind(tc.in); got != tc.in {
				t.Errorf("sqlite Rebind(%q) = %q, want unchanged", tc.in, got)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := store.NewID("prj")
		if !strings.HasPrefix(id, "prj_") || len(id) != 24 {
			t.Fatalf("NewID = %q, want prj_ + 20 chars", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if id := store.NewID("key_"); !strings.HasPrefix(id, "key_") || strings.HasPrefix(id, "key__") {
		t.Errorf("NewID(key_) = %q", id)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	in := time.Date(2026, 11, 25, 17, 4, 5, 123456789, time.FixedZone("x", 3600))
	s := store.FormatTime(in)
	if s != "2026-11-25T16:04:05.123456Z" {
		t.Fatalf("FormatTime = %q", s)
	}
	out, err := store.ParseTime(s)
	if err != nil || !out.Equal(in.Truncate(time.Microsecond)) {
		t.Fatalf("ParseTime(%q) = %v, %v", s, out, err)
	}
	if store.FormatTime(in.Add(-time.Second)) >= s {
		t.Error("earlier time does not sort first")
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := store.Open(context.Background(), "mysql://x", ""); err == nil {
		t.Fatal("Open(mysql://) succeeded")
	}
	if got := store.Redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("Redact kept the password: %q", got)
	}
}

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v, err := db.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("SchemaVersion = %d, %v", v, err)
		}
		now := store.FormatTime(time.Now())
		insert := func(tx *sql.Tx, id, name string) error {
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`), id, name, now, now)
			return err
		}
		t.Run("commit", func(t *testing.T) {
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return insert(tx, "org_a", "a") }); err != nil {
				t.Fatal(err)
			}
			var name string
			if err := db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT name FROM organizations WHERE id = ?`), "org_a").Scan(&name); err != nil || name != "a" {
				t.Fatalf("read back: %q %v", name, err)
			}
		})
		t.Run("rollback", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				if err := insert(tx, "org_b", "b"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Tx err = %v, want boom", err)
			}
			var n int
			db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM organizations WHERE id = ?`), "org_b").Scan(&n)
			if n != 0 {
				t.Fatal("rolled-back row is visible")
			}
		})
		t.Run("unique", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *sql.Tx) error { return insert(tx, "org_c", "a") })
			if !store.IsUniqueViolation(err) {
				t.Fatalf("duplicate name: err = %v, want unique violation", err)
			}
		})
		t.Run("concurrent writers", func(t *testing.T) {
			const n = 16
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					errs <- db.Tx(ctx, func(tx *sql.Tx) error {
						var seq int64
						if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`+db.ForUpdate()).Scan(&seq); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, db.Rebind(`UPDATE audit_head SET seq = ? WHERE id = 1`), seq+1)
						return err
					})
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var seq int64
			db.SQL.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq)
			if seq != n {
				t.Fatalf("seq = %d after %d increments (lost update)", seq, n)
			}
		})
		t.Run("down and up", func(t *testing.T) {
			if err := db.MigrateDownTo(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if v, _ := db.SchemaVersion(ctx); v != 0 {
				t.Fatalf("version after down = %d", v)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		})
	})
}
