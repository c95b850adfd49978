package extract

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// maxJSONDepth bounds flattening of nested JSON.
const maxJSONDepth = 64

// extractCSV reads a header row and turns every further row into a record.
func extractCSV(ctx context.Context, text string, m Mapping, lim Limits) (*Document, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = csvDelimiter(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return &Document{Metadata: map[string]string{}}, nil
	}
	if err != nil {
		return nil, csvErr(err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if err := m.check(header); err != nil {
		return nil, err
	}
	var rows []map[string]string
	var order [][]string
	for row := 2; ; row++ {
		if row%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		if len(rows) >= lim.MaxRecords {
			return nil, &FileError{Line: row, Err: fmt.Errorf("%w: more than %d records", ErrTooLarge, lim.MaxRecords)}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		fields := make(map[string]string, len(header))
		var keys []string
		for i, v := range rec {
			k := "column_" + strconv.Itoa(i+1)
			if i < len(header) && header[i] != "" {
				k = header[i]
			}
			fields[k] = v
			keys = append(keys, k)
		}
		rows = append(rows, fields)
		order = append(order, keys)
	}
	return recordsDocument(rows, order, m, 1), nil
}

// csvDelimiter picks comma, semicolon (European spreadsheet exports), tab
// or pipe: whichever occurs most in the header line outside quotes.
func csvDelimiter(text string) rune {
	line := text
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		line = text[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t' || r == '|'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t', '|'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Line: pe.Line, Err: fmt.Errorf("%w: %v", ErrCorrupt, pe.Err)}
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// idField picks the ID column: Mapping.IDField, else "id", else the first
// column named like "ticket_id" or "vendorId".
func (m Mapping) idField(keys []string) string {
	if m.IDField != "" {
		return m.IDField
	}
	for _, k := range keys {
		if strings.EqualFold(k, "id") || k == "_id" {
			return k
		}
	}
	for _, k := range keys {
		l := strings.ToLower(k)
		if strings.HasSuffix(l, "_id") || strings.HasSuffix(k, "Id") || strings.HasSuffix(k, "ID") {
			return k
		}
	}
	return ""
}

// check rejects a mapping that names columns the header lacks.
func (m Mapping) check(header []string) error {
	have := map[string]bool{}
	for _, h := range header {
		have[h] = true
	}
	var missing []string
	for _, f := range append(append(append([]string(nil), m.TextFields...), m.MetadataFields...), m.IDField) {
		if f != "" && !have[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no column %s", ErrMapping, strings.Join(missing, ", "))
	}
	return nil
}

// recordsDocument renders rows into Document.Text, one record per block,
// each a section titled by its ID. firstRow numbers rows for default IDs.
func recordsDocument(rows []map[string]string, order [][]string, m Mapping, firstRow int) *Document {
	var b builder
	doc := &Document{Metadata: map[string]string{}}
	for i, fields := range rows {
		rec := Record{Fields: fields, Metadata: map[string]string{}, Preferred: -1}
		if idField := m.idField(order[i]); idField != "" {
			rec.ID = fields[idField]
		}
		if rec.ID == "" {
			rec.ID = strconv.Itoa(firstRow + i)
		}
		for _, f := range m.MetadataFields {
			if v, ok := fields[f]; ok && v != "" {
				rec.Metadata[f] = v
			}
		}
		if len(m.TextFields) > 0 {
			var parts []string
			for _, f := range m.TextFields {
				if v := strings.TrimSpace(fields[f]); v != "" {
					parts = append(parts, v)
				}
			}
			rec.Text = strings.Join(parts, "\n")
		} else {
			var parts []string
			for _, k := range order[i] {
				if v := strings.TrimSpace(fields[k]); v != "" {
					parts = append(parts, k+": "+v)
				}
			}
			rec.Text = strings.Join(parts, "\n")
		}
		b.closeSection()
		b.sep()
		rec.Start = b.sb.Len()
		b.cur = &Section{Path: []string{rec.ID}, Start: rec.Start}
		b.sb.WriteString(rec.Text)
		b.pending = rec.Text != ""
		rec.End = b.sb.Len()
		doc.Records = append(doc.Records, rec)
	}
	built := b.document()
	doc.Text, doc.Sections = built.Text, built.Sections
	return doc
}

// extractJSON reads one JSON document: an array of rows, an object holding
// the rows at Mapping.RecordsPath, or a single object as one record.
func extractJSON(ctx context.Context, text string, m Mapping, lim Limits) (*Document, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonErr(text, err, 0)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrCorrupt)
	}
	if m.RecordsPath != "" {
		for _, k := range strings.Split(m.RecordsPath, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: records path %q does not lead to an array", ErrMapping, m.RecordsPath)
			}
			v = obj[k]
		}
		if _, ok := v.([]any); !ok {
			return nil, fmt.Errorf("%w: records path %q does not lead to an array", ErrMapping, m.RecordsPath)
		}
	}
	var items []any
	if arr, ok := v.([]any); ok {
		items = arr
	} else {
		items = []any{v}
	}
	if len(items) > lim.MaxRecords {
		return nil, fmt.Errorf("%w: %d records, limit %d", ErrTooLarge, len(items), lim.MaxRecords)
	}
	rows := make([]map[string]string, 0, len(items))
	order := make([][]string, 0, len(items))
	for i, it := range items {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		f, keys := flatten(it)
		rows = append(rows, f)
		order = append(order, keys)
	}
	if err := m.checkRows(rows); err != nil {
		return nil, err
	}
	return recordsDocument(rows, order, m, 1), nil
}

// extractJSONL reads one JSON object per line.
func extractJSONL(ctx context.Context, text string, m Mapping, lim Limits) (*Document, error) {
	var rows []map[string]string
	var order [][]string
	err := eachLine(ctx, text, lim, func(n int, line []byte) error {
		var v any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return &FileError{Line: n, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
		}
		f, keys := flatten(v)
		rows = append(rows, f)
		order = append(order, keys)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := m.checkRows(rows); err != nil {
		return nil, err
	}
	return recordsDocument(rows, order, m, 1), nil
}

// eachLine calls f with every non-blank line and its 1-based number.
func eachLine(ctx context.Context, text string, lim Limits, f func(int, []byte) error) error {
	count := 0
	for n, rest := 1, text; rest != ""; n++ {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if count%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		count++
		if count > lim.MaxRecords {
			return &FileError{Line: n, Err: fmt.Errorf("%w: more than %d records", ErrTooLarge, lim.MaxRecords)}
		}
		if err := f(n, []byte(line)); err != nil {
			return err
		}
	}
	return nil
}

// checkRows rejects a mapping whose fields appear in no row.
func (m Mapping) checkRows(rows []map[string]string) error {
	if len(rows) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			seen[k] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	return m.check(keys)
}

func jsonErr(text string, err error, line int) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && line == 0 {
		line = 1 + strings.Count(text[:min(int(se.Offset), len(text))], "\n")
	}
	if line > 0 {
		return &FileError{Line: line, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// flatten turns a JSON value into dotted-path fields in document order of
// keys (sorted, since Go maps are unordered). Arrays of scalars are joined
// with ", "; arrays of objects get numeric path elements.
func flatten(v any) (map[string]string, []string) {
	out := map[string]string{}
	var keys []string
	var rec func(prefix string, v any, depth int)
	rec = func(prefix string, v any, depth int) {
		if depth > maxJSONDepth {
			return
		}
		put := func(s string) {
			k := prefix
			if k == "" {
				k = "value"
			}
			if _, ok := out[k]; !ok {
				keys = append(keys, k)
			}
			out[k] = s
		}
		switch x := v.(type) {
		case map[string]any:
			ks := make([]string, 0, len(x))
			for k := range x {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				rec(p, x[k], depth+1)
			}
		case []any:
			scalars := true
			for _, e := range x {
				switch e.(type) {
				case map[string]any, []any:
					scalars = false
				}
			}
			if scalars {
				parts := make([]string, 0, len(x))
				for _, e := range x {
					parts = append(parts, scalarString(e))
				}
				put(strings.Join(parts, ", "))
				return
			}
			for i, e := range x {
				p := strconv.Itoa(i)
				if prefix != "" {
					p = prefix + "." + p
				}
				rec(p, e, depth+1)
			}
		default:
			put(scalarString(x))
		}
	}
	rec("", v, 0)
	return out, keys
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
