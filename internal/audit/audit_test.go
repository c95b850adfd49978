package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func appendN(t *testing.T, db *store.DB, l *audit.Log, org string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			return l.Append(context.Background(), tx, audit.Entry{
				OrgID: org, ActorID: "key_a", Action: "project.create", TargetType: "project",
				TargetID: store.NewID("prj"), Payload: map[string]any{"i": i, "b": "x", "a": []int{1, 2}},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := audit.New(db, nil)
		appendN(t, db, l, "org_1", 5)
		appendN(t, db, l, "org_2", 2)
		res, err := l.Verify(ctx)
		if err != nil || !res.OK || res.Records != 7 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
		t.Run("rolled back append leaves no trace", func(t *testing.T) {
			db.Tx(ctx, func(tx *sql.Tx) error {
				l.Append(ctx, tx, audit.Entry{OrgID: "org_1", Action: "x"})
				return sql.ErrTxDone
			})
			if res, _ := l.Verify(ctx); !res.OK || res.Records != 7 {
				t.Fatalf("after rollback: %+v", res)
			}
		})
		t.Run("list paginates per org", func(t *testing.T) {
			var all []*audit.Record
			cursor := ""
			for {
				page, next, err := l.List(ctx, "org_1", audit.Filter{}, 2, cursor)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(all) != 5 {
				t.Fatalf("listed %d records, want 5", len(all))
			}
			for i := 1; i < len(all); i++ {
				if all[i].Seq >= all[i-1].Seq {
					t.Fatal("not newest first")
				}
			}
			page, _, _ := l.List(ctx, "org_2", audit.Filter{Action: "nope"}, 10, "")
			if len(page) != 0 {
				t.Fatal("action filter ignored")
			}
			page, _, _ = l.List(ctx, "org_2", audit.Filter{Until: time.Now().Add(-time.Hour)}, 10, "")
			if len(page) != 0 {
				t.Fatal("until filter ignored")
			}
			if _, _, err := l.List(ctx, "org_1", audit.Filter{}, 2, "abc"); err != audit.ErrBadCursor {
				t.Fatalf("bad cursor: %v", err)
			}
		})
		t.Run("export", func(t *testing.T) {
			var b bytes.Buffer
			if err := l.Export(ctx, &b, "jsonl", ""); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(b.String(), "\n"); n != 7 {
				t.Fatalf("jsonl lines = %d", n)
			}
			b.Reset()
			if err := l.Export(ctx, &b, "csv", "org_2"); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil || len(recs) != 3 {
				t.Fatalf("csv rows = %d, %v", len(recs), err)
			}
			if l.Export(ctx, &b, "xml", "") == nil {
				t.Fatal("unknown format accepted")
			}
		})
	})
}

func TestConcurrentAppends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := audit.New(db, nil)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				appendN(t, db, l, "org_c", 5)
			}()
		}
		wg.Wait()
		res, err := l.Verify(context.Background())
		if err != nil || !res.OK || res.Records != 40 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
	})
}

func TestTamper(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  string // SQL run against a 5-record chain
		badSeq  int64
		keyword string
	}{
		{"edit payload", `UPDATE audit_logs SET payload_json = '{"i":99}' WHERE seq = 3`, 3, "edited"},
		{"edit actor", `UPDATE audit_logs SET actor_id = 'key_evil' WHERE seq = 2`, 2, "edited"},
		{"delete middle", `DELETE FROM audit_logs WHERE seq = 2`, 3, "deleted"},
		{"delete tail", `DELETE FROM audit_logs WHERE seq = 5`, 5, "end"},
		{"delete first", `DELETE FROM audit_logs WHERE seq = 1`, 2, "deleted"},
		{"reorder", "", 2, "prev_hash"},
		{"rehash edited row", `UPDATE audit_logs SET target_id = 'x', hash = '` + strings.Repeat("a", 64) + `' WHERE seq = 4`, 4, "edited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				l := audit.New(db, nil)
				appendN(t, db, l, "org_1", 5)
				if tc.name == "reorder" {
					// swap two records' positions through a free value (seq is the primary key)
					for _, q := range []string{`UPDATE audit_logs SET seq = 100 WHERE seq = 2`, `UPDATE audit_logs SET seq = 2 WHERE seq = 3`, `UPDATE audit_logs SET seq = 3 WHERE seq = 100`} {
						if _, err := db.SQL.ExecContext(ctx, q); err != nil {
							t.Fatal(err)
						}
					}
				} else if _, err := db.SQL.ExecContext(ctx, tc.tamper); err != nil {
					t.Fatal(err)
				}
				res, err := l.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if res.OK || res.BadSeq != tc.badSeq || !strings.Contains(res.Reason, tc.keyword) {
					t.Fatalf("Verify = %+v, want bad record %d (%s)", res, tc.badSeq, tc.keyword)
				}
			})
		})
	}
}

// TestAppendHashesAsVerify appends records whose canonical JSON has escapes,
// non-ASCII text and quotes (on PostgreSQL the hash is computed by the
// database) and checks that Verify recomputes the same hashes.
func TestAppendHashesAsVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := audit.New(db, nil)
		for i, p := range []any{
			nil,
			map[string]any{"name": "café ☕ 日本", "html": "<a href='x'>&</a>", "q": `"quoted" \ back`},
			map[string]any{"ctl": "tab\tnl\n\u0001", "n": 1.5e300, "neg": -7, "nested": map[string]any{"z": []any{nil, true}}},
			[]string{"\u2028", "\U0001F600"},
		} {
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				return l.Append(ctx, tx, audit.Entry{OrgID: "org_ü", ActorID: "key_'x'", Action: "test.append", TargetType: "t", TargetID: strings.Repeat("é", i), Payload: p})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		res, err := l.Verify(ctx)
		if err != nil || !res.OK || res.Records != 4 {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
	})
}
