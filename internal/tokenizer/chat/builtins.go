package chat

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// argOr returns positional argument i, else keyword name, else def.
func argOr(args []Value, kwargs *Map, i int, name string, def Value) Value {
	if i < len(args) {
		return args[i]
	}
	if kwargs != nil {
		if v, ok := kwargs.Get(name); ok {
			return v
		}
	}
	return def
}

func needStr(v Value, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s must be a string, not %s", ErrRender, what, typeName(v))
	}
	return s, nil
}

// pyStrip is str.strip/lstrip/rstrip with optional chars.
func pyStrip(s string, chars Value, left, right bool) string {
	if chars == nil || isUndefined(chars) {
		if left {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
		}
		if right {
			s = strings.TrimRightFunc(s, unicode.IsSpace)
		}
		return s
	}
	cs := toStr(chars)
	if left {
		s = strings.TrimLeft(s, cs)
	}
	if right {
		s = strings.TrimRight(s, cs)
	}
	return s
}

// pyTitle is str.title.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevCased {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			prevCased = true
		} else {
			b.WriteRune(r)
			prevCased = false
		}
	}
	return b.String()
}

func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// pySplit is str.split(sep=None, maxsplit=-1).
func pySplit(s string, sep Value, maxsplit int64) ([]Value, error) {
	var parts []string
	if sep == nil || isUndefined(sep) {
		f := strings.Fields(s)
		if maxsplit >= 0 && int64(len(f)) > maxsplit+1 {
			// Re-split keeping the remainder intact after maxsplit fields.
			rest := strings.TrimLeftFunc(s, unicode.IsSpace)
			parts = nil
			for i := int64(0); i < maxsplit; i++ {
				j := strings.IndexFunc(rest, unicode.IsSpace)
				parts = append(parts, rest[:j])
				rest = strings.TrimLeftFunc(rest[j:], unicode.IsSpace)
			}
			parts = append(parts, rest)
		} else {
			parts = f
		}
	} else {
		sp, err := needStr(sep, "separator")
		if err != nil {
			return nil, err
		}
		if sp == "" {
			return nil, fmt.Errorf("%w: empty separator", ErrRender)
		}
		n := -1
		if maxsplit >= 0 {
			n = int(maxsplit) + 1
		}
		parts = strings.SplitN(s, sp, n)
	}
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func prefixMatch(s string, arg Value, suffix bool) (bool, error) {
	check := func(p Value) (bool, error) {
		ps, err := needStr(p, "prefix")
		if err != nil {
			return false, err
		}
		if suffix {
			return strings.HasSuffix(s, ps), nil
		}
		return strings.HasPrefix(s, ps), nil
	}
	if l, ok := arg.([]Value); ok {
		for _, p := range l {
			ok, err := check(p)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return check(arg)
}

// method returns the bound method name of x, or nil.
func method(x Value, name string) callable {
	switch v := x.(type) {
	case string:
		return stringMethod(v, name)
	case *Map:
		switch name {
		case "items":
			return func(_ *renderer, _ []Value, _ *Map) (Value, error) { return mapItems(v), nil }
		case "keys":
			return func(_ *renderer, _ []Value, _ *Map) (Value, error) {
				out := make([]Value, len(v.keys))
				for i, k := range v.keys {
					out[i] = k
				}
				return out, nil
			}
		case "values":
			return func(_ *renderer, _ []Value, _ *Map) (Value, error) {
				out := make([]Value, len(v.keys))
				for i, k := range v.keys {
					out[i] = v.vals[k]
				}
				return out, nil
			}
		case "get":
			return func(_ *renderer, args []Value, kw *Map) (Value, error) {
				k := argOr(args, kw, 0, "key", nil)
				if ks, ok := k.(string); ok {
					if val, ok := v.Get(ks); ok {
						return val, nil
					}
				}
				return argOr(args, kw, 1, "default", nil), nil
			}
		case "update", "pop", "popitem", "setdefault", "clear":
			return immutable(name)
		}
	case []Value:
		switch name {
		case "index":
			return func(_ *renderer, args []Value, kw *Map) (Value, error) {
				n := argOr(args, kw, 0, "value", nil)
				for i, e := range v {
					if equal(e, n) {
						return int64(i), nil
					}
				}
				return nil, fmt.Errorf("%w: value is not in list", ErrRender)
			}
		case "count":
			return func(_ *renderer, args []Value, kw *Map) (Value, error) {
				n := argOr(args, kw, 0, "value", nil)
				c := int64(0)
				for _, e := range v {
					if equal(e, n) {
						c++
					}
				}
				return c, nil
			}
		case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse":
			return immutable(name)
		}
	}
	return nil
}

func immutable(name string) callable {
	return func(_ *renderer, _ []Value, _ *Map) (Value, error) {
		return nil, fmt.Errorf("%w: %s modifies a value, which the immutable sandbox forbids", ErrRender, name)
	}
}

func mapItems(m *Map) []Value {
	out := make([]Value, len(m.keys))
	for i, k := range m.keys {
		out[i] = []Value{k, m.vals[k]}
	}
	return out
}

func stringMethod(s, name string) callable {
	str := func(f func(args []Value, kw *Map) (Value, error)) callable {
		return func(_ *renderer, args []Value, kw *Map) (Value, error) { return f(args, kw) }
	}
	switch name {
	case "strip", "lstrip", "rstrip":
		return str(func(args []Value, kw *Map) (Value, error) {
			return pyStrip(s, argOr(args, kw, 0, "chars", nil), name != "rstrip", name != "lstrip"), nil
		})
	case "upper":
		return str(func([]Value, *Map) (Value, error) { return strings.ToUpper(s), nil })
	case "lower":
		return str(func([]Value, *Map) (Value, error) { return strings.ToLower(s), nil })
	case "title":
		return str(func([]Value, *Map) (Value, error) { return pyTitle(s), nil })
	case "capitalize":
		return str(func([]Value, *Map) (Value, error) { return pyCapitalize(s), nil })
	case "startswith", "endswith":
		return str(func(args []Value, kw *Map) (Value, error) {
			return prefixMatch(s, argOr(args, kw, 0, "prefix", ""), name == "endswith")
		})
	case "split":
		return str(func(args []Value, kw *Map) (Value, error) {
			ms, _ := asInt(argOr(args, kw, 1, "maxsplit", int64(-1)))
			return pySplit(s, argOr(args, kw, 0, "sep", nil), ms)
		})
	case "splitlines":
		return str(func([]Value, *Map) (Value, error) {
			lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
			if len(lines) > 0 && lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			out := make([]Value, len(lines))
			for i, l := range lines {
				out[i] = l
			}
			return out, nil
		})
	case "replace":
		return str(func(args []Value, kw *Map) (Value, error) {
			old, err := needStr(argOr(args, kw, 0, "old", nil), "old")
			if err != nil {
				return nil, err
			}
			nw, err := needStr(argOr(args, kw, 1, "new", nil), "new")
			if err != nil {
				return nil, err
			}
			n, _ := asInt(argOr(args, kw, 2, "count", int64(-1)))
			return strings.Replace(s, old, nw, int(n)), nil
		})
	case "find":
		return str(func(args []Value, kw *Map) (Value, error) {
			sub, err := needStr(argOr(args, kw, 0, "sub", nil), "sub")
			if err != nil {
				return nil, err
			}
			i := strings.Index(s, sub)
			if i < 0 {
				return int64(-1), nil
			}
			return int64(utf8.RuneCountInString(s[:i])), nil
		})
	case "count":
		return str(func(args []Value, kw *Map) (Value, error) {
			sub, err := needStr(argOr(args, kw, 0, "sub", nil), "sub")
			if err != nil {
				return nil, err
			}
			return int64(strings.Count(s, sub)), nil
		})
	case "join":
		return str(func(args []Value, kw *Map) (Value, error) {
			items, err := iterate(argOr(args, kw, 0, "iterable", nil))
			if err != nil {
				return nil, err
			}
			parts := make([]string, len(items))
			for i, it := range items {
				if parts[i], err = needStr(it, "join item"); err != nil {
					return nil, err
				}
			}
			return strings.Join(parts, s), nil
		})
	case "isdigit", "isalpha", "isspace", "isalnum", "isupper", "islower":
		return str(func([]Value, *Map) (Value, error) {
			if s == "" {
				return false, nil
			}
			for _, r := range s {
				var ok bool
				switch name {
				case "isdigit":
					ok = unicode.IsDigit(r)
				case "isalpha":
					ok = unicode.IsLetter(r)
				case "isspace":
					ok = unicode.IsSpace(r)
				case "isalnum":
					ok = unicode.IsLetter(r) || unicode.IsDigit(r)
				case "isupper":
					ok = !unicode.IsLower(r)
				case "islower":
					ok = !unicode.IsUpper(r)
				}
				if !ok {
					return false, nil
				}
			}
			return true, nil
		})
	case "format":
		return str(func(args []Value, kw *Map) (Value, error) { return pyFormat(s, args, kw) })
	}
	return nil
}

// pyFormat implements str.format for {} / {0} / {name} fields without format specs.
func pyFormat(s string, args []Value, kw *Map) (Value, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' && i+1 < len(s) && s[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		if c == '}' && i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("%w: single '{' in format string", ErrRender)
		}
		field := s[i+1 : i+j]
		field, _, _ = strings.Cut(field, ":")
		var v Value
		switch {
		case field == "":
			if auto >= len(args) {
				return nil, fmt.Errorf("%w: format index out of range", ErrRender)
			}
			v = args[auto]
			auto++
		default:
			if n, err := strconv.Atoi(field); err == nil {
				if n >= len(args) {
					return nil, fmt.Errorf("%w: format index out of range", ErrRender)
				}
				v = args[n]
			} else if val, ok := kw.Get(field); ok {
				v = val
			} else {
				return nil, fmt.Errorf("%w: format key %q missing", ErrRender, field)
			}
		}
		b.WriteString(toStr(v))
		i += j
	}
	return b.String(), nil
}

// pyPercent implements "fmt" % args for %s, %d, %r and %%.
func pyPercent(s string, arg Value) (Value, error) {
	args, ok := arg.([]Value)
	if !ok {
		args = []Value{arg}
	}
	var b strings.Builder
	k := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		if k >= len(args) {
			return nil, fmt.Errorf("%w: not enough arguments for format string", ErrRender)
		}
		switch s[i] {
		case 's':
			b.WriteString(toStr(args[k]))
		case 'r':
			b.WriteString(repr(args[k]))
		case 'd', 'i':
			f, ok := number(args[k])
			if !ok {
				return nil, fmt.Errorf("%w: %%d format: a number is required", ErrRender)
			}
			b.WriteString(strconv.FormatInt(int64(f), 10))
		default:
			return nil, fmt.Errorf("%w: unsupported format character %q", ErrRender, s[i])
		}
		k++
	}
	return b.String(), nil
}

// length is Python len().
func length(v Value) (int64, error) {
	switch x := v.(type) {
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	case []Value:
		return int64(len(x)), nil
	case *Map:
		return int64(x.Len()), nil
	case undefined:
		return 0, nil
	case *namespace:
		return int64(x.attrs.Len()), nil
	}
	return 0, fmt.Errorf("%w: object of type %s has no len()", ErrRender, typeName(v))
}

// applyFilter runs a named filter.
func (r *renderer) applyFilter(name string, x Value, args []Value, kw *Map, sc *scope) (Value, error) {
	switch name {
	case "trim":
		s := toStr(x)
		return pyStrip(s, argOr(args, kw, 0, "chars", nil), true, true), nil
	case "tojson":
		o := jsonOpts{itemSep: ", ", keySep: ": "}
		if ind := argOr(args, kw, 0, "indent", nil); ind != nil {
			switch iv := ind.(type) {
			case int64:
				o.hasIndent, o.indent = true, strings.Repeat(" ", int(max(iv, 0)))
			case string:
				o.hasIndent, o.indent = true, iv
			default:
				return nil, fmt.Errorf("%w: tojson indent must be an int or string", ErrRender)
			}
			o.itemSep = ","
		}
		o.ensureASCI = truthy(argOr(nil, kw, 0, "ensure_ascii", false))
		o.sortKeys = truthy(argOr(nil, kw, 0, "sort_keys", false))
		if sep, ok := kw.Get("separators"); ok && sep != nil {
			l, ok := sep.([]Value)
			if !ok || len(l) != 2 {
				return nil, fmt.Errorf("%w: tojson separators must be a pair", ErrRender)
			}
			o.itemSep, o.keySep = toStr(l[0]), toStr(l[1])
		}
		return dumpJSON(x, o)
	case "length", "count":
		n, err := length(x)
		return n, err
	case "upper":
		return strings.ToUpper(toStr(x)), nil
	case "lower":
		return strings.ToLower(toStr(x)), nil
	case "capitalize":
		return pyCapitalize(toStr(x)), nil
	case "title":
		return pyTitle(toStr(x)), nil
	case "string":
		return toStr(x), nil
	case "safe", "e", "escape", "forceescape":
		if name == "safe" {
			return x, nil
		}
		return htmlEscape(toStr(x)), nil
	case "default", "d":
		def := argOr(args, kw, 0, "default_value", "")
		boolean := truthy(argOr(args, kw, 1, "boolean", false))
		if isUndefined(x) || boolean && !truthy(x) {
			return def, nil
		}
		return x, nil
	case "items":
		switch v := x.(type) {
		case undefined:
			return []Value{}, nil
		case *Map:
			return mapItems(v), nil
		}
		return nil, fmt.Errorf("%w: items filter needs a mapping, not %s", ErrRender, typeName(x))
	case "list":
		items, err := iterate(x)
		return append([]Value{}, items...), err
	case "first", "last":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return undefined{name: name}, nil
		}
		if name == "first" {
			return items[0], nil
		}
		return items[len(items)-1], nil
	case "reverse":
		if s, ok := x.(string); ok {
			rs := []rune(s)
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			return string(rs), nil
		}
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		return out, nil
	case "join":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		sep := toStr(argOr(args, kw, 0, "d", ""))
		attr := argOr(args, kw, 1, "attribute", nil)
		parts := make([]string, len(items))
		for i, it := range items {
			if attr != nil {
				if it, err = getAttrPath(it, attr); err != nil {
					return nil, err
				}
			}
			parts[i] = toStr(it)
		}
		return strings.Join(parts, sep), nil
	case "replace":
		s := toStr(x)
		old := toStr(argOr(args, kw, 0, "old", ""))
		nw := toStr(argOr(args, kw, 1, "new", ""))
		n := int64(-1)
		if c := argOr(args, kw, 2, "count", nil); c != nil {
			n, _ = asInt(c)
		}
		return strings.Replace(s, old, nw, int(n)), nil
	case "selectattr", "rejectattr", "select", "reject":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		byAttr := name == "selectattr" || name == "rejectattr"
		want := name == "selectattr" || name == "select"
		rest := args
		var attr Value
		if byAttr {
			if len(rest) == 0 {
				return nil, fmt.Errorf("%w: %s needs an attribute", ErrRender, name)
			}
			attr, rest = rest[0], rest[1:]
		}
		test := ""
		if len(rest) > 0 {
			t, err := needStr(rest[0], "test name")
			if err != nil {
				return nil, err
			}
			test, rest = t, rest[1:]
		}
		var out []Value
		for _, it := range items {
			v := it
			if byAttr {
				if v, err = getAttrPath(it, attr); err != nil {
					return nil, err
				}
			}
			var ok bool
			if test == "" {
				ok = truthy(v)
			} else if ok, err = r.applyTest(test, v, rest); err != nil {
				return nil, err
			}
			if ok == want {
				out = append(out, it)
			}
		}
		if out == nil {
			out = []Value{}
		}
		return out, nil
	case "map":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(items))
		if attr, ok := kw.Get("attribute"); ok {
			def, hasDef := kw.Get("default")
			for i, it := range items {
				v, err := getAttrPath(it, attr)
				if err != nil {
					return nil, err
				}
				if isUndefined(v) && hasDef {
					v = def
				}
				out[i] = v
			}
			return out, nil
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("%w: map needs a filter name or attribute=", ErrRender)
		}
		fname, err := needStr(args[0], "filter name")
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			if out[i], err = r.applyFilter(fname, it, args[1:], NewMap(), sc); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "int":
		switch v := x.(type) {
		case int64:
			return v, nil
		case float64:
			return int64(v), nil
		case bool:
			return boolInt(v), nil
		case string:
			s := strings.TrimSpace(v)
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return int64(f), nil
			}
		}
		return argOr(args, kw, 0, "default", int64(0)), nil
	case "float":
		switch v := x.(type) {
		case int64:
			return float64(v), nil
		case float64:
			return v, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f, nil
			}
		}
		return argOr(args, kw, 0, "default", 0.0), nil
	case "abs":
		switch v := x.(type) {
		case int64:
			if v < 0 {
				return -v, nil
			}
			return v, nil
		case float64:
			return math.Abs(v), nil
		}
		return nil, fmt.Errorf("%w: bad operand for abs: %s", ErrRender, typeName(x))
	case "round":
		f, ok := number(x)
		if !ok {
			return nil, fmt.Errorf("%w: round needs a number", ErrRender)
		}
		p, _ := asInt(argOr(args, kw, 0, "precision", int64(0)))
		m := math.Pow(10, float64(p))
		switch toStr(argOr(args, kw, 1, "method", "common")) {
		case "floor":
			return math.Floor(f*m) / m, nil
		case "ceil":
			return math.Ceil(f*m) / m, nil
		}
		return math.Round(f*m) / m, nil
	case "sum":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		var acc Value = argOr(args, kw, 1, "start", int64(0))
		attr := argOr(args, kw, 0, "attribute", nil)
		for _, it := range items {
			if attr != nil {
				if it, err = getAttrPath(it, attr); err != nil {
					return nil, err
				}
			}
			if acc, err = binOp("+", acc, it); err != nil {
				return nil, err
			}
		}
		return acc, nil
	case "unique":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		var out []Value
		for _, it := range items {
			dup := false
			for _, o := range out {
				if equal(o, it) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, it)
			}
		}
		return out, nil
	case "sort":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		out := append([]Value{}, items...)
		rev := truthy(argOr(args, kw, 0, "reverse", false))
		attr := argOr(args, kw, 2, "attribute", nil)
		var sortErr error
		sort.SliceStable(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if attr != nil {
				a, _ = getAttrPath(a, attr)
				b, _ = getAttrPath(b, attr)
			}
			c, err := compare(a, b)
			if err != nil {
				sortErr = err
			}
			if rev {
				return c > 0
			}
			return c < 0
		})
		return out, sortErr
	case "dictsort":
		m, ok := x.(*Map)
		if !ok {
			return nil, fmt.Errorf("%w: dictsort needs a mapping", ErrRender)
		}
		items := mapItems(m)
		sort.SliceStable(items, func(i, j int) bool {
			return items[i].([]Value)[0].(string) < items[j].([]Value)[0].(string)
		})
		return items, nil
	case "indent":
		s := toStr(x)
		width := argOr(args, kw, 0, "width", int64(4))
		pad := ""
		if w, ok := width.(int64); ok {
			pad = strings.Repeat(" ", int(max(w, 0)))
		} else {
			pad = toStr(width)
		}
		first := truthy(argOr(args, kw, 1, "first", false))
		blank := truthy(argOr(args, kw, 2, "blank", false))
		lines := strings.Split(s, "\n")
		for i := range lines {
			if i == 0 && !first {
				continue
			}
			if lines[i] == "" && !blank {
				continue
			}
			lines[i] = pad + lines[i]
		}
		return strings.Join(lines, "\n"), nil
	case "wordcount":
		return int64(len(strings.Fields(toStr(x)))), nil
	case "min", "max":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return undefined{name: name}, nil
		}
		best := items[0]
		for _, it := range items[1:] {
			c, err := compare(it, best)
			if err != nil {
				return nil, err
			}
			if (name == "min" && c < 0) || (name == "max" && c > 0) {
				best = it
			}
		}
		return best, nil
	case "format":
		return pyPercent(toStr(x), args)
	case "batch":
		items, err := iterate(x)
		if err != nil {
			return nil, err
		}
		n, _ := asInt(argOr(args, kw, 0, "linecount", int64(1)))
		if n <= 0 {
			return nil, fmt.Errorf("%w: batch size must be positive", ErrRender)
		}
		var out []Value
		for i := 0; i < len(items); i += int(n) {
			out = append(out, append([]Value{}, items[i:min(len(items), i+int(n))]...))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: unknown filter %q", ErrRender, name)
}

// getAttrPath resolves a dotted attribute path such as "function.name".
func getAttrPath(x Value, attr Value) (Value, error) {
	if n, ok := attr.(int64); ok {
		return getItem(x, n)
	}
	path := toStr(attr)
	for _, part := range strings.Split(path, ".") {
		if isUndefined(x) {
			return x, nil
		}
		var err error
		if n, e := strconv.Atoi(part); e == nil {
			x, err = getItem(x, int64(n))
		} else {
			x, err = getItem(x, part)
		}
		if err != nil {
			return nil, err
		}
	}
	return x, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// applyTest runs a named test (the right side of `is`).
func (r *renderer) applyTest(name string, x Value, args []Value) (bool, error) {
	arg := func() (Value, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("%w: test %q needs an argument", ErrRender, name)
		}
		return args[0], nil
	}
	switch name {
	case "defined":
		return !isUndefined(x), nil
	case "undefined":
		return isUndefined(x), nil
	case "none":
		return x == nil, nil
	case "boolean":
		_, ok := x.(bool)
		return ok, nil
	case "true":
		b, ok := x.(bool)
		return ok && b, nil
	case "false":
		b, ok := x.(bool)
		return ok && !b, nil
	case "integer":
		_, ok := x.(int64)
		return ok, nil
	case "float":
		_, ok := x.(float64)
		return ok, nil
	case "number":
		_, ok := number(x)
		return ok, nil
	case "string":
		_, ok := x.(string)
		return ok, nil
	case "mapping":
		_, ok := x.(*Map)
		return ok, nil
	case "iterable":
		switch x.(type) {
		case string, []Value, *Map, undefined:
			return true, nil
		}
		return false, nil
	case "sequence":
		switch x.(type) {
		case string, []Value, *Map, undefined:
			return true, nil
		}
		return false, nil
	case "callable":
		_, ok := x.(callable)
		return ok, nil
	case "lower":
		s, ok := x.(string)
		return ok && strings.ToLower(s) == s, nil
	case "upper":
		s, ok := x.(string)
		return ok && strings.ToUpper(s) == s, nil
	case "odd", "even":
		n, ok := asInt(x)
		if !ok {
			return false, fmt.Errorf("%w: %s test needs an integer", ErrRender, name)
		}
		return (n%2 != 0) == (name == "odd"), nil
	case "divisibleby":
		a, err := arg()
		if err != nil {
			return false, err
		}
		n, ok1 := asInt(x)
		d, ok2 := asInt(a)
		if !ok1 || !ok2 || d == 0 {
			return false, fmt.Errorf("%w: divisibleby needs non-zero integers", ErrRender)
		}
		return n%d == 0, nil
	case "eq", "equalto", "==", "sameas":
		a, err := arg()
		if err != nil {
			return false, err
		}
		return equal(x, a), nil
	case "ne", "!=":
		a, err := arg()
		if err != nil {
			return false, err
		}
		return !equal(x, a), nil
	case "lt", "<", "le", "<=", "gt", ">", "ge", ">=", "lessthan", "greaterthan":
		a, err := arg()
		if err != nil {
			return false, err
		}
		c, err := compare(x, a)
		if err != nil {
			return false, err
		}
		switch name {
		case "lt", "<", "lessthan":
			return c < 0, nil
		case "le", "<=":
			return c <= 0, nil
		case "gt", ">", "greaterthan":
			return c > 0, nil
		}
		return c >= 0, nil
	case "in":
		a, err := arg()
		if err != nil {
			return false, err
		}
		return contains(a, x)
	}
	return false, fmt.Errorf("%w: unknown test %q", ErrRender, name)
}

// globals returns the functions every template sees, as the Hugging Face environment
// provides them.
func (r *renderer) globals() map[string]Value {
	return map[string]Value{
		"raise_exception": callable(func(_ *renderer, args []Value, _ *Map) (Value, error) {
			msg := ""
			if len(args) > 0 {
				msg = toStr(args[0])
			}
			return nil, &RaiseError{Message: msg}
		}),
		"strftime_now": callable(func(r2 *renderer, args []Value, _ *Map) (Value, error) {
			if len(args) == 0 {
				return nil, fmt.Errorf("%w: strftime_now needs a format", ErrRender)
			}
			return strftime(r2.now(), toStr(args[0])), nil
		}),
		"namespace": callable(func(_ *renderer, args []Value, kw *Map) (Value, error) {
			ns := &namespace{attrs: NewMap()}
			for _, a := range args {
				if m, ok := a.(*Map); ok {
					for _, k := range m.keys {
						ns.attrs.Set(k, m.vals[k])
					}
				}
			}
			for _, k := range kw.Keys() {
				v, _ := kw.Get(k)
				ns.attrs.Set(k, v)
			}
			return ns, nil
		}),
		"dict": callable(func(_ *renderer, args []Value, kw *Map) (Value, error) {
			m := NewMap()
			for _, a := range args {
				if src, ok := a.(*Map); ok {
					for _, k := range src.keys {
						m.Set(k, src.vals[k])
					}
				}
			}
			for _, k := range kw.Keys() {
				v, _ := kw.Get(k)
				m.Set(k, v)
			}
			return m, nil
		}),
		"range": callable(func(r2 *renderer, args []Value, _ *Map) (Value, error) {
			var lo, hi, step int64 = 0, 0, 1
			ints := make([]int64, len(args))
			for i, a := range args {
				n, ok := asInt(a)
				if !ok {
					return nil, fmt.Errorf("%w: range needs integers", ErrRender)
				}
				ints[i] = n
			}
			switch len(ints) {
			case 1:
				hi = ints[0]
			case 2:
				lo, hi = ints[0], ints[1]
			case 3:
				lo, hi, step = ints[0], ints[1], ints[2]
			default:
				return nil, fmt.Errorf("%w: range takes 1 to 3 arguments", ErrRender)
			}
			if step == 0 {
				return nil, fmt.Errorf("%w: range step cannot be zero", ErrRender)
			}
			var out []Value
			for i := lo; (step > 0 && i < hi) || (step < 0 && i > hi); i += step {
				if err := r2.tick(); err != nil {
					return nil, err
				}
				if len(out) >= 1<<20 {
					return nil, fmt.Errorf("%w: range too large", ErrRender)
				}
				out = append(out, i)
			}
			if out == nil {
				out = []Value{}
			}
			return out, nil
		}),
	}
}

// strftime formats t with Python/C strftime directives.
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'Z':
			z, _ := t.Zone()
			b.WriteString(z)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}
