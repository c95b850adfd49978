package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// SQLConfig is a PostgreSQL or MySQL/MariaDB query source. Each row of
// Query becomes one document: the text is TextColumns joined by blank
// lines, every other column is metadata.
type SQLConfig struct {
	DSN       string `json:"dsn,omitempty"`        // connection string (no password: use dsn_secret for one that holds it)
	DSNSecret string `json:"dsn_secret,omitempty"` // name of a secret holding the whole DSN
	Query     string `json:"query"`
	IDColumn  string `json:"id_column,omitempty"` // default "id"
	// TextColumns default to ["text"].
	TextColumns []string `json:"text_columns,omitempty"`
	// IncrementalColumn (an updated-at timestamp or a growing id) makes
	// syncs incremental: the cursor is its last value and later syncs read
	// only rows beyond it. Without it every sync reads the whole result.
	IncrementalColumn string `json:"incremental_column,omitempty"`
	BatchSize         int    `json:"batch_size,omitempty"` // rows per query; default 500
}

// Validate checks the config is complete and its column names are plain
// identifiers.
func (c *SQLConfig) Validate() error {
	if (c.DSN == "") == (c.DSNSecret == "") {
		return fmt.Errorf("%w: sql source needs exactly one of dsn and dsn_secret", ErrConfig)
	}
	if strings.TrimSpace(c.Query) == "" {
		return fmt.Errorf("%w: sql source needs a query", ErrConfig)
	}
	for _, col := range append([]string{c.IDColumn, c.IncrementalColumn}, c.TextColumns...) {
		if strings.ContainsAny(col, "\"`'\\;\x00") {
			return fmt.Errorf("%w: column name %q", ErrConfig, col)
		}
	}
	if c.BatchSize < 0 || c.BatchSize > 100000 {
		return fmt.Errorf("%w: batch_size %d (1..100000)", ErrConfig, c.BatchSize)
	}
	return nil
}

// sqlCursor is the stored cursor of a query source: the last row's
// incremental value (typed, so it is bound as the column's type) and id.
type sqlCursor struct {
	Kind   string `json:"kind,omitempty"` // time, int, float, string
	Value  string `json:"value,omitempty"`
	LastID string `json:"last_id,omitempty"`
}

type sqlConnector struct {
	cfg     SQLConfig
	flavor  string // postgres or mysql
	dsn     string
	display string // the DSN without its password, for messages and URIs
}

func init() {
	for _, flavor := range []string{"postgres", "mysql"} {
		RegisterConnector(flavor, func(config json.RawMessage, secrets Secrets) (Connector, error) {
			var cfg SQLConfig
			if err := strictJSON(config, &cfg); err != nil {
				return nil, err
			}
			if err := cfg.Validate(); err != nil {
				return nil, err
			}
			if cfg.IDColumn == "" {
				cfg.IDColumn = "id"
			}
			if len(cfg.TextColumns) == 0 {
				cfg.TextColumns = []string{"text"}
			}
			if cfg.BatchSize == 0 {
				cfg.BatchSize = 500
			}
			dsn := cfg.DSN
			if cfg.DSNSecret != "" {
				if secrets == nil {
					return nil, fmt.Errorf("%w: secret %q is not set", ErrConfig, cfg.DSNSecret)
				}
				v, err := secrets(cfg.DSNSecret)
				if err != nil {
					return nil, err
				}
				dsn = v
			}
			c := &sqlConnector{cfg: cfg, flavor: flavor, dsn: dsn}
			if flavor == "mysql" {
				mc, err := mysql.ParseDSN(dsn)
				if err != nil {
					return nil, fmt.Errorf("%w: mysql dsn: %v", ErrConfig, redactDSNError(err, dsn))
				}
				mc.ParseTime = true
				c.dsn = mc.FormatDSN()
				mc.Passwd = ""
				c.display = "mysql://" + mc.Addr + "/" + mc.DBName
			} else {
				c.display = redactDSN(dsn)
			}
			return c, nil
		})
	}
}

// redactDSN drops the password from a URL or key=value DSN.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		u.User = nil
		q := u.Query()
		q.Del("password")
		u.RawQuery = q.Encode()
		return u.String()
	}
	var kept []string
	for _, f := range strings.Fields(dsn) {
		if k, _, _ := strings.Cut(f, "="); strings.EqualFold(k, "password") {
			continue
		}
		kept = append(kept, f)
	}
	return strings.Join(kept, " ")
}

// redactDSNError keeps a driver error from echoing the DSN's password.
func redactDSNError(err error, dsn string) string {
	msg := err.Error()
	if mc, e := mysql.ParseDSN(dsn); e == nil && mc.Passwd != "" {
		msg = strings.ReplaceAll(msg, mc.Passwd, "***")
	}
	if u, e := url.Parse(dsn); e == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
		}
	}
	return msg
}

func (c *sqlConnector) quote(col string) string {
	if c.flavor == "mysql" {
		return "`" + col + "`"
	}
	return `"` + col + `"`
}

// page builds the query for one batch after the cursor position.
func (c *sqlConnector) page(cur sqlCursor, hasCursor bool) (string, []any) {
	inner := strings.TrimRight(strings.TrimSpace(c.cfg.Query), ";")
	col := c.cfg.IncrementalColumn
	if col == "" {
		col = c.cfg.IDColumn
	}
	var args []any
	ph := func(v any) string {
		args = append(args, v)
		if c.flavor == "mysql" {
			return "?"
		}
		return "$" + strconv.Itoa(len(args))
	}
	q := "SELECT * FROM (" + inner + ") q"
	order := c.quote(col)
	if col != c.cfg.IDColumn {
		order += ", " + c.quote(c.cfg.IDColumn)
	}
	if hasCursor {
		v := cur.bind()
		if col != c.cfg.IDColumn && cur.LastID != "" {
			// Keyset on (column, id): rows sharing the last value are not
			// skipped when a batch ends among them.
			q += " WHERE " + c.quote(col) + " > " + ph(v) + " OR (" + c.quote(col) + " = " + ph(v) + " AND " + c.idCompare(ph, cur.LastID) + ")"
		} else {
			q += " WHERE " + c.quote(col) + " > " + ph(v)
		}
	}
	q += " ORDER BY " + order + " LIMIT " + ph(c.cfg.BatchSize)
	return q, args
}

// idCompare compares the id column with the last id, numerically when the
// id is an integer.
func (c *sqlConnector) idCompare(ph func(any) string, last string) string {
	if n, err := strconv.ParseInt(last, 10, 64); err == nil {
		return c.quote(c.cfg.IDColumn) + " > " + ph(n)
	}
	return c.quote(c.cfg.IDColumn) + " > " + ph(last)
}

func (cur sqlCursor) bind() any {
	switch cur.Kind {
	case "time":
		if t, err := time.Parse(time.RFC3339Nano, cur.Value); err == nil {
			return t
		}
	case "int":
		if n, err := strconv.ParseInt(cur.Value, 10, 64); err == nil {
			return n
		}
	case "float":
		if f, err := strconv.ParseFloat(cur.Value, 64); err == nil {
			return f
		}
	}
	return cur.Value
}

// cursorOf records a column value with its kind.
func cursorOf(v any) sqlCursor {
	switch x := v.(type) {
	case time.Time:
		return sqlCursor{Kind: "time", Value: x.UTC().Format(time.RFC3339Nano)}
	case int64:
		return sqlCursor{Kind: "int", Value: strconv.FormatInt(x, 10)}
	case int32:
		return sqlCursor{Kind: "int", Value: strconv.FormatInt(int64(x), 10)}
	case float64:
		return sqlCursor{Kind: "float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	return sqlCursor{Kind: "string", Value: sqlString(v)}
}

// sqlString renders a scanned column value as text.
func sqlString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// Sync reads the query's rows in batches ordered by the incremental column
// (or the id). Without a stored cursor the listing is full, so rows gone
// from the result are tombstoned; with one only newer rows are read.
func (c *sqlConnector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var cur sqlCursor
	hasCursor := false
	if c.cfg.IncrementalColumn != "" && len(cursor) > 0 {
		if json.Unmarshal(cursor, &cur) == nil && cur.Value != "" {
			hasCursor = true
		}
	}
	full := !hasCursor
	driver := "pgx"
	if c.flavor == "mysql" {
		driver = "mysql"
	}
	db, err := sql.Open(driver, c.dsn)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s source %s: %s", ErrConfig, c.flavor, c.display, redactDSNError(err, c.dsn))
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("%w: %s %s: %s", ErrUnreachable, c.flavor, c.display, redactDSNError(err, c.dsn))
	}
	// Without an incremental column the id pages through a full listing
	// and the cursor stays empty.
	paging := sqlCursor{}
	pagingSet := false
	if hasCursor {
		paging, pagingSet = cur, true
	}
	last := cur
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		q, args := c.page(paging, pagingSet)
		n, lastRow, err := c.batch(ctx, db, q, args, emit)
		if err != nil {
			return nil, false, err
		}
		if n > 0 {
			paging, pagingSet = lastRow, true
			if c.cfg.IncrementalColumn != "" {
				last = lastRow
			}
		}
		if n < c.cfg.BatchSize {
			break
		}
	}
	if c.cfg.IncrementalColumn == "" {
		return json.RawMessage("{}"), true, nil
	}
	b, _ := json.Marshal(last)
	return b, full, nil
}

// batch runs one page query, emitting its rows, and returns how many rows
// it had and the cursor position of the last.
func (c *sqlConnector) batch(ctx context.Context, db *sql.DB, q string, args []any, emit func(Item) error) (int, sqlCursor, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, sqlCursor{}, fmt.Errorf("%s source %s: query: %s", c.flavor, c.display, redactDSNError(err, c.dsn))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, sqlCursor{}, err
	}
	idx := map[string]int{}
	for i, col := range cols {
		idx[col] = i
	}
	need := append([]string{c.cfg.IDColumn}, c.cfg.TextColumns...)
	if c.cfg.IncrementalColumn != "" {
		need = append(need, c.cfg.IncrementalColumn)
	}
	for _, col := range need {
		if _, ok := idx[col]; !ok {
			return 0, sqlCursor{}, fmt.Errorf("%w: the query selects no column %q (it has %s)", ErrConfig, col, strings.Join(cols, ", "))
		}
	}
	textCol := map[string]bool{}
	for _, col := range c.cfg.TextColumns {
		textCol[col] = true
	}
	n := 0
	var last sqlCursor
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, last, fmt.Errorf("%s source %s: scan: %w", c.flavor, c.display, err)
		}
		n++
		id := sqlString(vals[idx[c.cfg.IDColumn]])
		col := c.cfg.IncrementalColumn
		if col == "" {
			col = c.cfg.IDColumn
		}
		last = cursorOf(vals[idx[col]])
		last.LastID = id
		var parts []string
		for _, tc := range c.cfg.TextColumns {
			if s := strings.TrimSpace(sqlString(vals[idx[tc]])); s != "" {
				parts = append(parts, s)
			}
		}
		meta := map[string]string{"record": id}
		for i, name := range cols {
			if !textCol[name] && vals[i] != nil {
				meta[name] = sqlString(vals[i])
			}
		}
		uri := c.display + "#" + id
		meta["source_uri"] = uri
		var mod time.Time
		if c.cfg.IncrementalColumn != "" {
			if t, ok := vals[idx[c.cfg.IncrementalColumn]].(time.Time); ok {
				mod = t
			}
		}
		if err := emit(recordItem(id, uri, mod, strings.Join(parts, "\n\n"), meta)); err != nil {
			return n, last, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, last, fmt.Errorf("%s source %s: %s", c.flavor, c.display, redactDSNError(err, c.dsn))
	}
	return n, last, nil
}
