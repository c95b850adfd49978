package rag

import (
	"fmt"
	"strconv"
	"strings"
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
			bound := fmt.Sprint(val)
			preds = append(preds, func(c *ChunkRecord) bool {
				v, ok := c.Metadata[f]
				if !ok {
					return false
				}
				s := fmt.Sprint(v)
				if op == "after" {
					return s > bound
				}
				return s < bound
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
