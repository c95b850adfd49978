package ingest_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/whet-dev/whet/internal/ingest"
)

// sqlPeer is a real database the sql connector is tested against, with a
// freshly created table of its own.
type sqlPeer struct {
	flavor string
	dsn    string
	db     *sql.DB
	table  string
	ph     func(i int) string
}

func openSQLPeer(t *testing.T, flavor string) *sqlPeer {
	t.Helper()
	env, driver := "WHET_TEST_POSTGRES_URL", "pgx"
	if flavor == "mysql" {
		env, driver = "WHET_TEST_MYSQL_URL", "mysql"
	}
	dsn := os.Getenv(env)
	if dsn == "" {
		if flavor == "postgres" && os.Getenv("WHET_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("WHET_REQUIRE_POSTGRES=1 but %s is not set", env)
		}
		t.Skipf("%s not set: skipping the %s connector test against a real server", env, flavor)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &sqlPeer{flavor: flavor, dsn: dsn, db: db, ph: func(i int) string { return fmt.Sprintf("$%d", i) }}
	ctx := context.Background()
	suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano(), os.Getpid())
	if flavor == "postgres" {
		schema := "whet_ingest_" + suffix
		p.table = schema + ".tickets"
		p.exec(t, "CREATE SCHEMA "+schema)
		t.Cleanup(func() { db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE") })
		p.exec(t, "CREATE TABLE "+p.table+" (id integer PRIMARY KEY, title text, body text, author text, updated_at timestamptz NOT NULL)")
	} else {
		p.ph = func(int) string { return "?" }
		p.table = "whet_ingest_tickets_" + suffix
		p.exec(t, "CREATE TABLE "+p.table+" (id integer PRIMARY KEY, title text, body text, author varchar(64), updated_at datetime(6) NOT NULL)")
		t.Cleanup(func() { db.ExecContext(ctx, "DROP TABLE "+p.table) })
	}
	return p
}

func (p *sqlPeer) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := p.db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (p *sqlPeer) put(t *testing.T, id int, body string, updated time.Time) {
	t.Helper()
	p.exec(t, fmt.Sprintf("DELETE FROM %s WHERE id = %s", p.table, p.ph(1)), id)
	p.exec(t, fmt.Sprintf("INSERT INTO %s (id, title, body, author, updated_at) VALUES (%s, %s, %s, %s, %s)", p.table, p.ph(1), p.ph(2), p.ph(3), p.ph(4), p.ph(5)),
		id, fmt.Sprintf("Ticket %d", id), body, "agent", updated)
}

func TestSQLConnector(t *testing.T) {
	for _, flavor := range []string{"postgres", "mysql"} {
		t.Run(flavor, func(t *testing.T) {
			p := openSQLPeer(t, flavor)
			t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
			// Rows 1-3 share one timestamp so a batch boundary falls among
			// equal values.
			for i := 1; i <= 6; i++ {
				ts := t0
				if i > 3 {
					ts = t0.Add(time.Duration(i) * time.Hour)
				}
				p.put(t, i, fmt.Sprintf("Body of ticket %d.", i), ts)
			}
			cfg := map[string]any{"dsn_secret": "dsn", "query": "SELECT id, title, body, author, updated_at FROM " + p.table + ";",
				"text_columns": []string{"title", "body"}, "incremental_column": "updated_at", "batch_size": 2}
			raw, _ := json.Marshal(cfg)
			c, err := ingest.NewConnector(flavor, raw, secretsOf(map[string]string{"dsn": p.dsn}))
			if err != nil {
				t.Fatal(err)
			}
			bodies, items, cur, full, err := collect(t, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 6 || !full {
				t.Fatalf("first sync: %d items, full=%v", len(items), full)
			}
			b := bodies["2.md"]
			if !strings.Contains(b, "Ticket 2\n\nBody of ticket 2.") || !strings.Contains(b, `author: "agent"`) || strings.Contains(b, "title:") {
				t.Errorf("row 2 document:\n%s", b)
			}
			_, items, cur2, full, err := collect(t, c, cur)
			if err != nil || len(items) != 0 || full {
				t.Fatalf("second sync: %d items, full=%v, err %v", len(items), full, err)
			}
			p.put(t, 2, "Body of ticket 2, edited.", t0.Add(24*time.Hour))
			p.put(t, 7, "A new ticket.", t0.Add(25*time.Hour))
			bodies, items, _, _, err = collect(t, c, cur2)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 2 || !strings.Contains(bodies["2.md"], "edited") || bodies["7.md"] == "" {
				t.Fatalf("third sync: %d items %v", len(items), bodies)
			}
		})
	}
}

func TestSQLConnectorErrors(t *testing.T) {
	p := openSQLPeer(t, "postgres")
	mk := func(cfg map[string]any) ingest.Connector {
		raw, _ := json.Marshal(cfg)
		c, err := ingest.NewConnector("postgres", raw, secretsOf(map[string]string{"dsn": p.dsn}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, _, _, _, err := collect(t, mk(map[string]any{"dsn_secret": "dsn", "query": "SELECT id, title FROM " + p.table}), nil)
	if !errors.Is(err, ingest.ErrConfig) || !strings.Contains(err.Error(), `"text"`) {
		t.Errorf("missing text column: %v", err)
	}
	_, _, _, _, err = collect(t, mk(map[string]any{"dsn": "postgres://postgres:hunter2@127.0.0.1:1/test?sslmode=disable", "query": "SELECT 1"}), nil)
	if !errors.Is(err, ingest.ErrUnreachable) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable: %v", err)
	}
	for _, bad := range []string{`{"query":"SELECT 1"}`, `{"dsn":"x","query":"SELECT 1","extra":1}`, `{"dsn":"x","query":"SELECT 1","id_column":"a\"b"}`} {
		if _, err := ingest.NewConnector("postgres", json.RawMessage(bad), secretsOf(nil)); !errors.Is(err, ingest.ErrConfig) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
