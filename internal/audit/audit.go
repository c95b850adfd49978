package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/store"
)

// ErrBadCursor reports a pagination cursor that List did not issue.
var ErrBadCursor = errors.New("audit: bad cursor")

// GenesisHash is the prev_hash of the first record in the chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is what a caller appends: who did what to which object.
type Entry struct {
	OrgID      string
	ActorID    string
	Action     string // dotted verb, e.g. "project.create", "job.succeeded"
	TargetType string // e.g. "project", "job"
	TargetID   string
	Payload    any // marshalled to JSON; nil means {}
}

// Record is one stored audit row.
type Record struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	OrgID      string          `json:"org_id"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Payload    json.RawMessage `json:"payload"`
	CreatedAt  string          `json:"created_at"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// canonical is the hashed form of a record: fixed field order, compact JSON,
// payload with sorted keys.
type canonical struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	OrgID      string          `json:"org_id"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Payload    json.RawMessage `json:"payload"`
	CreatedAt  string          `json:"created_at"`
}

// ComputeHash returns hex(SHA-256(prevHash ‖ canonical JSON of r)); r's
// PrevHash and Hash fields are not part of the canonical form.
func ComputeHash(prevHash string, r *Record) (string, error) {
	b, err := canonicalJSON(r)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalJSON is the hashed form of r.
func canonicalJSON(r *Record) ([]byte, error) {
	b, err := json.Marshal(canonical{
		Seq: r.Seq, ID: r.ID, OrgID: r.OrgID, ActorID: r.ActorID, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, Payload: r.Payload, CreatedAt: r.CreatedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("audit: canonical record %s: %w", r.ID, err)
	}
	return b, nil
}

// canonicalPayload marshals v to compact JSON with object keys sorted (by
// round-tripping through any, which encoding/json marshals in key order).
func canonicalPayload(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage(`{}`), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// Log appends to, lists, verifies and exports the audit chain.
type Log struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Log on db. now supplies record timestamps; nil means
// time.Now.
func New(db *store.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, now: now}
}

// Append adds e to the chain inside tx, so it commits or rolls back with
// the caller's change. Appends are serialised by locking the chain head
// row (PostgreSQL) or by SQLite's single writer; call it last in the
// transaction, since the lock is held until commit.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, e Entry) error {
	if e.Action == "" {
		return errors.New("audit: append: empty action")
	}
	payload, err := canonicalPayload(e.Payload)
	if err != nil {
		return fmt.Errorf("audit: append %s: payload: %w", e.Action, err)
	}
	if l.db.Dialect == store.Postgres {
		return l.appendPostgres(ctx, tx, e, payload)
	}
	// SQLite: the caller's write transaction already holds the database
	// lock, so read the head, hash in Go, insert and move the head.
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, `SELECT seq + 1, hash FROM audit_head WHERE id = 1`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit: append %s: read head: %w", e.Action, err)
	}
	r := &Record{
		Seq: seq, ID: store.NewID("aud"), OrgID: e.OrgID, ActorID: e.ActorID, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Payload: payload,
		CreatedAt: store.FormatTime(l.now()), PrevHash: prev,
	}
	if r.Hash, err = ComputeHash(prev, r); err != nil {
		return err
	}
	args := []any{r.Seq, r.ID, r.OrgID, r.ActorID, r.Action, r.TargetType, r.TargetID, string(r.Payload), r.CreatedAt, r.PrevHash, r.Hash}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_logs
		(seq, id, org_id, actor_id, action, target_type, target_id, payload_json, created_at, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return fmt.Errorf("audit: append %s: insert: %w", e.Action, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return fmt.Errorf("audit: append %s: move head: %w", e.Action, err)
	}
	return nil
}

// appendPostgres appends in one statement: it locks the head, computes the
// record's hash in the database (sha256 over prev_hash ‖ canonical JSON,
// the canonical form built here with everything but the sequence number,
// which only the locked head knows), inserts the record and moves the head.
// The head lock is then held for that one round trip and the commit, not
// for two round trips and the commit. ComputeHash (and so Verify) checks
// the same bytes.
func (l *Log) appendPostgres(ctx context.Context, tx *sql.Tx, e Entry, payload json.RawMessage) error {
	r := &Record{
		ID: store.NewID("aud"), OrgID: e.OrgID, ActorID: e.ActorID, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Payload: payload,
		CreatedAt: store.FormatTime(l.now()),
	}
	b, err := canonicalJSON(r)
	if err != nil {
		return err
	}
	// b starts with {"seq":0 (Seq is zero here); the statement splices the
	// real sequence number in front of the rest.
	rest, ok := strings.CutPrefix(string(b), `{"seq":0`)
	if !ok {
		return fmt.Errorf("audit: append %s: unexpected canonical form", e.Action)
	}
	if _, err := tx.ExecContext(ctx, `WITH h AS (
			SELECT seq + 1 AS seq, hash AS prev FROM audit_head WHERE id = 1 FOR UPDATE
		), r AS (
			SELECT seq, prev, encode(sha256(convert_to(prev || '{"seq":' || seq::text || $1::text, 'UTF8')), 'hex') AS hash FROM h
		), ins AS (
			INSERT INTO audit_logs (seq, id, org_id, actor_id, action, target_type, target_id, payload_json, created_at, prev_hash, hash)
			SELECT seq, $2, $3, $4, $5, $6, $7, $8, $9, prev, hash FROM r
		)
		UPDATE audit_head SET seq = r.seq, hash = r.hash FROM r WHERE audit_head.id = 1`,
		rest, r.ID, r.OrgID, r.ActorID, r.Action, r.TargetType, r.TargetID, string(r.Payload), r.CreatedAt); err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// Filter narrows List. Zero fields match everything.
type Filter struct {
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time // inclusive
	Until      time.Time // exclusive
}

const recordColumns = `seq, id, org_id, actor_id, action, target_type, target_id, payload_json, created_at, prev_hash, hash`

func scanRecord(rows interface{ Scan(...any) error }) (*Record, error) {
	var r Record
	var payload string
	if err := rows.Scan(&r.Seq, &r.ID, &r.OrgID, &r.ActorID, &r.Action, &r.TargetType, &r.TargetID, &payload, &r.CreatedAt, &r.PrevHash, &r.Hash); err != nil {
		return nil, err
	}
	r.Payload = json.RawMessage(payload)
	return &r, nil
}

// List returns orgID's records, newest first, matching f. limit is clamped
// to [1, 1000]; cursor is "" or a next cursor from an earlier call. The
// returned next cursor is "" on the last page.
func (l *Log) List(ctx context.Context, orgID string, f Filter, limit int, cursor string) ([]*Record, string, error) {
	limit = max(1, min(limit, 1000))
	where := []string{"org_id = ?"}
	args := []any{orgID}
	if cursor != "" {
		before, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || before < 1 {
			return nil, "", ErrBadCursor
		}
		where = append(where, "seq < ?")
		args = append(args, before)
	}
	for _, c := range []struct{ col, v string }{
		{"actor_id", f.ActorID}, {"action", f.Action}, {"target_type", f.TargetType}, {"target_id", f.TargetID},
	} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, store.FormatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, store.FormatTime(f.Until))
	}
	args = append(args, limit+1)
	q := `SELECT ` + recordColumns + ` FROM audit_logs WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq DESC LIMIT ?`
	rows, err := l.db.SQL.QueryContext(ctx, l.db.Rebind(q), args...)
	if err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, "", fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].Seq, 10)
	}
	return out, next, nil
}

// each calls fn for every record in chain order (all organisations).
func (l *Log) each(ctx context.Context, orgID string, fn func(*Record) error) error {
	q := `SELECT ` + recordColumns + ` FROM audit_logs`
	var args []any
	if orgID != "" {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := l.db.SQL.QueryContext(ctx, l.db.Rebind(q+` ORDER BY seq`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
