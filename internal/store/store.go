package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	// SQLite is the embedded default: a file in the data directory.
	SQLite Dialect = iota
	// Postgres is PostgreSQL 15 or newer.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Errors returned by store and by the packages built on it.
var (
	// ErrNotFound reports that the row asked for does not exist (or is not
	// visible to the caller's organisation).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a uniqueness or state conflict.
	ErrConflict = errors.New("store: conflict")
)

// DB is an open metadata database.
type DB struct {
	SQL     *sql.DB
	Dialect Dialect

	// wmu serialises write transactions on SQLite, which allows one writer
	// at a time; waiting on a mutex is cheaper and fairer than spinning on
	// SQLITE_BUSY.
	wmu sync.Mutex

	stmts sync.Map // query → *sql.Stmt, see Stmt
}

// DefaultSQLiteFile is the metadata file name inside the data directory.
const DefaultSQLiteFile = "whet.db"

// Open opens the metadata database named by rawURL. An empty URL means the
// SQLite file DefaultSQLiteFile inside dataDir; "sqlite://PATH" (or
// "sqlite:PATH") names a SQLite file; "postgres://…" or "postgresql://…"
// connects to PostgreSQL through pgx. Open pings the database before it
// returns.
func Open(ctx context.Context, rawURL, dataDir string) (*DB, error) {
	var db *DB
	switch {
	case rawURL == "" || strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			if dataDir == "" {
				return nil, errors.New("store: open: no database URL and no data directory")
			}
			path = filepath.Join(dataDir, DefaultSQLiteFile)
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: open: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Set("_txlock", "immediate")
		sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		// Readers run concurrently under WAL; writers are serialised by Tx.
		sdb.SetMaxOpenConns(16)
		sdb.SetMaxIdleConns(16)
		sdb.SetConnMaxIdleTime(0)
		db = &DB{SQL: sdb, Dialect: SQLite}
	case strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://"):
		pdb, err := sql.Open("pgx", rawURL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		pdb.SetMaxOpenConns(32)
		pdb.SetMaxIdleConns(32)
		pdb.SetConnMaxIdleTime(5 * time.Minute)
		db = &DB{SQL: pdb, Dialect: Postgres}
	default:
		return nil, fmt.Errorf("store: open: unsupported database URL scheme in %q (want sqlite:// or postgres://)", Redact(rawURL))
	}
	if err := db.SQL.PingContext(ctx); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: open %s: %w", db.Dialect, err)
	}
	return db, nil
}

// Close closes the cached statements and the database.
func (db *DB) Close() error {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
	return db.SQL.Close()
}

// Redact returns rawURL with any password replaced by "xxxxx", for logs and
// error messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Rebind rewrites ? placeholders into $1, $2, … for PostgreSQL; on SQLite it
// returns query unchanged. Question marks inside single-quoted literals are
// left alone.
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ForUpdate returns " FOR UPDATE" on PostgreSQL and "" on SQLite (whose
// write transactions already hold the database lock), for appending to a
// SELECT that reads a row it is about to change.
func (db *DB) ForUpdate() string {
	if db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// maxTxAttempts bounds Tx retries on contention.
const maxTxAttempts = 8

// Tx runs fn in a transaction and commits it when fn returns nil. It retries
// the whole transaction when the database reports contention (SQLITE_BUSY,
// PostgreSQL serialization failure or deadlock), so fn must be safe to run
// again. Tx calls must not nest.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if attempt > 0 {
			d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		err = db.tx1(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) tx1(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	if db.Dialect == SQLite {
		db.wmu.Lock()
		defer db.wmu.Unlock()
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// retryable reports whether err is transient contention worth a retry.
func retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation on either dialect.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// idEncoding is lower-case base32 without padding: URL- and shell-safe.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix followed by "_" (unless prefix already ends in "_")
// and 20 random base32 characters (100 bits from crypto/rand), for example
// NewID("prj") → "prj_k3x…".
func NewID(prefix string) string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics itself).
		panic(err)
	}
	s := idEncoding.EncodeToString(b[:])[:20]
	if prefix == "" || strings.HasSuffix(prefix, "_") {
		return prefix + s
	}
	return prefix + "_" + s
}

// TimeLayout is the stored form of every timestamp: UTC, RFC 3339, fixed
// six-digit fraction, so that string order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime formats t (converted to UTC) in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses a timestamp written by FormatTime (or any RFC 3339 time).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// IsForeignKeyViolation reports whether err is a foreign-key constraint
// violation on either dialect (for example deleting a row still referenced).
func IsForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return false
}

// Stmt returns a prepared statement for query (already rebound), prepared
// once per DB and reused: hot read paths skip SQLite's and PostgreSQL's
// per-call parse and plan. database/sql re-prepares it per connection as
// needed. The statement lives until the DB is closed.
func (db *DB) Stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.SQL.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}
