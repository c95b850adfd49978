package rag

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// specialFields are filterable without being metadata keys.
var specialFields = map[string]bool{"document_id": true, "source": true, "access_tag": true}

// compileFilter turns a query's filters, source whitelist and access tags
// into a predicate over chunk ordinals. Unknown fields are errors naming the
// field, so a typo never silently matches everything.
func compileFilter(st *state, q Query) (func(int) bool, error) {
	type pred func(c *ChunkRecord) bool
	var preds []pred
	for key, val := range q.Filters {
		field, op := key, ""
		for _, suf := range []string{"_after", "_before"} {
			if strings.HasSuffix(key, suf) && !st.MetaKeys[key] {
				field, op = strings.TrimSuffix(key, suf), suf[1:]
			}
		}
		if op != "" {
			f, ok := resolveDateField(st, field)
			if !ok {
				return nil, &QueryError{"filters." + key, fmt.Sprintf("no metadata field %q (or %q, %q) in this index", field, field+"_at", field+"_date")}
			}
			bs, _ := val.(string)
			bound, ok := parseFilterTime(bs)
			if !ok {
				return nil, &QueryError{"filters." + key, "must be a date (2006-01-02) or an RFC 3339 time"}
			}
			preds = append(preds, func(c *ChunkRecord) bool {
				v, ok := c.Metadata[f]
				if !ok {
					return false
				}
				s, _ := v.(string)
				t, ok := parseFilterTime(s)
				if !ok {
					return false // not a date: neither after nor before anything
				}
				if op == "after" {
					return t.After(bound)
				}
				return t.Before(bound)
			})
			continue
		}
		if !st.MetaKeys[field] && !specialFields[field] {
			return nil, &QueryError{"filters." + key, "unknown field (not in any document's metadata)"}
		}
		get := func(c *ChunkRecord) (any, bool) {
			switch field {
			case "document_id":
				return c.DocID, true
			case "source":
				return c.Source, true
			case "access_tag":
				return c.AccessTag, true
			}
			v, ok := c.Metadata[field]
			return v, ok
		}
		switch v := val.(type) {
		case map[string]any:
			for opName, bound := range v {
				opName, bound := opName, bound
				switch opName {
				case "gte", "gt", "lte", "lt", "eq", "ne":
				default:
					return nil, &QueryError{"filters." + key + "." + opName, "unknown operator (want eq, ne, gt, gte, lt, lte)"}
				}
				preds = append(preds, func(c *ChunkRecord) bool {
					x, ok := get(c)
					return ok && compare(x, bound, opName)
				})
			}
		case []any:
			preds = append(preds, func(c *ChunkRecord) bool {
				x, ok := get(c)
				if !ok {
					return false
				}
				for _, want := range v {
					if compare(x, want, "eq") {
						return true
					}
				}
				return false
			})
		case string, float64, bool, int, int64:
			preds = append(preds, func(c *ChunkRecord) bool {
				x, ok := get(c)
				return ok && compare(x, v, "eq")
			})
		default:
			return nil, &QueryError{"filters." + key, "must be a string, number, boolean, list or {operator: value} object"}
		}
	}
	if len(q.Sources) > 0 {
		srcs := q.Sources
		preds = append(preds, func(c *ChunkRecord) bool {
			for _, s := range srcs {
				if strings.HasPrefix(c.Source, s) {
					return true
				}
			}
			return false
		})
	}
	if q.AccessTags != nil {
		allowed := map[string]bool{}
		for _, t := range q.AccessTags {
			allowed[t] = true
		}
		preds = append(preds, func(c *ChunkRecord) bool { return allowed[c.AccessTag] })
	}
	if len(preds) == 0 {
		return nil, nil
	}
	return func(ord int) bool {
		c := &st.Chunks[ord]
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, nil
}

// filterTimeLayouts are the date forms a _after/_before filter and the
// metadata it compares with may take; a date alone is midnight UTC.
var filterTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// parseFilterTime parses a date or time, so that "2025-03-10" and
// "2025-03-10T08:00:00+02:00" are compared on the time line, not as strings.
func parseFilterTime(s string) (time.Time, bool) {
	for _, l := range filterTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func resolveDateField(st *state, field string) (string, bool) {
	for _, f := range []string{field, field + "_at", field + "_date"} {
		if st.MetaKeys[f] {
			return f, true
		}
	}
	if field == "updated" || field == "modified" {
		for _, f := range []string{"modified", "updated", "timestamp"} {
			if st.MetaKeys[f] {
				return f, true
			}
		}
	}
	return "", false
}

// compare compares a metadata value with a bound: numerically when both are
// numbers, otherwise as strings (ISO dates order correctly as strings).
func compare(x, bound any, op string) bool {
	xf, xok := toFloat(x)
	bf, bok := toFloat(bound)
	var c int
	if xok && bok {
		switch {
		case xf < bf:
			c = -1
		case xf > bf:
			c = 1
		}
	} else {
		c = strings.Compare(fmt.Sprint(x), fmt.Sprint(bound))
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	case "lte":
		return c <= 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}
