package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value is a template value: nil (None), bool, int64, float64, string, []Value (list or
// tuple), *Map (dict), or one of the interpreter's internal kinds (undefined, namespace,
// loop, callable).
type Value = any

// Map is an insertion-ordered string-keyed dict, so that tojson and items() keep the
// order the caller gave, as Python dicts do.
type Map struct {
	keys []string
	vals map[string]Value
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{vals: map[string]Value{}} }

// Set stores v under k, keeping the first insertion position of k.
func (m *Map) Set(k string, v Value) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Get returns the value under k.
func (m *Map) Get(k string) (Value, bool) {
	v, ok := m.vals[k]
	return v, ok
}

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string { return m.keys }

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// undefined is Jinja's Undefined: printing it yields "", it is falsy, and iterating it
// yields nothing; most other uses are errors.
type undefined struct{ name string }

// namespace is the mutable object namespace() returns.
type namespace struct{ attrs *Map }

// callable is a builtin function, bound method or macro.
type callable func(r *renderer, args []Value, kwargs *Map) (Value, error)

// loopInfo is the `loop` variable inside a for block.
type loopInfo struct {
	index  int
	length int
	items  []Value
}

func (l *loopInfo) attr(name string) (Value, bool) {
	switch name {
	case "index":
		return int64(l.index + 1), true
	case "index0":
		return int64(l.index), true
	case "revindex":
		return int64(l.length - l.index), true
	case "revindex0":
		return int64(l.length - l.index - 1), true
	case "first":
		return l.index == 0, true
	case "last":
		return l.index == l.length-1, true
	case "length":
		return int64(l.length), true
	case "previtem":
		if l.index > 0 {
			return l.items[l.index-1], true
		}
		return undefined{name: "previtem"}, true
	case "nextitem":
		if l.index+1 < l.length {
			return l.items[l.index+1], true
		}
		return undefined{name: "nextitem"}, true
	case "depth":
		return int64(1), true
	case "depth0":
		return int64(0), true
	case "cycle":
		return callable(func(_ *renderer, args []Value, _ *Map) (Value, error) {
			if len(args) == 0 {
				return nil, fmt.Errorf("%w: loop.cycle needs arguments", ErrRender)
			}
			return args[l.index%len(args)], nil
		}), true
	}
	return nil, false
}

func isUndefined(v Value) bool {
	_, ok := v.(undefined)
	return ok
}

// truthy follows Python truthiness.
func truthy(v Value) bool {
	switch x := v.(type) {
	case nil, undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []Value:
		return len(x) > 0
	case *Map:
		return x.Len() > 0
	}
	return true
}

// toStr is Python's str() as Jinja prints values.
func toStr(v Value) string {
	switch x := v.(type) {
	case undefined:
		return ""
	case string:
		return x
	}
	return repr(v)
}

// repr is Python's repr() for the value kinds templates see.
func repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case undefined:
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		b.WriteString(pyStrRepr(x))
	case []Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyStrRepr(k))
			b.WriteString(": ")
			writeRepr(b, x.vals[k])
		}
		b.WriteByte('}')
	case *namespace:
		b.WriteString("<Namespace ")
		writeRepr(b, x.attrs)
		b.WriteString(">")
	default:
		fmt.Fprintf(b, "<%T>", v)
	}
}

// pyStrRepr quotes s as Python's repr does for printable text.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloat formats f as Python's repr(float).
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	// Python switches to exponent form at 1e16 and below 1e-4, as 'r' formatting does.
	exp := 0
	if f != 0 {
		exp = int(math.Floor(math.Log10(math.Abs(f))))
	}
	if exp >= 16 || exp < -4 {
		s = strconv.FormatFloat(f, 'e', -1, 64)
		mant, e, _ := strings.Cut(s, "e")
		sign := e[0]
		digits := strings.TrimLeft(e[1:], "0")
		if len(digits) < 2 {
			digits = strings.Repeat("0", 2-len(digits)) + digits
		}
		if sign == '+' {
			return mant + "e+" + digits
		}
		return mant + "e-" + digits
	}
	s = strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// jsonOpts are the arguments of the tojson filter, as Hugging Face defines it
// (json.dumps with ensure_ascii=False by default).
type jsonOpts struct {
	indent     string // "" means no newlines
	hasIndent  bool
	itemSep    string
	keySep     string
	sortKeys   bool
	ensureASCI bool
}

// dumpJSON is Python's json.dumps with the given options.
func dumpJSON(v Value, o jsonOpts) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, o, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeJSON(b *strings.Builder, v Value, o jsonOpts, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case undefined:
		return fmt.Errorf("%w: cannot serialise undefined value %q to JSON", ErrRender, x.name)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		case math.IsNaN(x):
			b.WriteString("NaN")
		default:
			b.WriteString(pyFloat(x))
		}
	case string:
		writeJSONString(b, x, o.ensureASCI)
	case []Value:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(o.itemSep)
			}
			jsonNewline(b, o, depth+1)
			if err := writeJSON(b, e, o, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, o, depth)
		b.WriteByte(']')
	case *Map:
		if x.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := x.keys
		if o.sortKeys {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(o.itemSep)
			}
			jsonNewline(b, o, depth+1)
			writeJSONString(b, k, o.ensureASCI)
			b.WriteString(o.keySep)
			if err := writeJSON(b, x.vals[k], o, depth+1); err != nil {
				return err
			}
		}
		jsonNewline(b, o, depth)
		b.WriteByte('}')
	case *namespace:
		return writeJSON(b, x.attrs, o, depth)
	default:
		return fmt.Errorf("%w: cannot serialise %T to JSON", ErrRender, v)
	}
	return nil
}

func jsonNewline(b *strings.Builder, o jsonOpts, depth int) {
	if !o.hasIndent {
		return
	}
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteString(o.indent)
	}
}

// writeJSONString escapes s as Python's json module does.
func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case ascii && r >= 0x80:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// ParseJSON decodes JSON into template values, keeping object key order and
// decoding integer literals as int64 (as Python's json module does).
func ParseJSON(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("chat: trailing data after JSON value")
	}
	return v, nil
}

func decodeJSON(dec *json.Decoder) (Value, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			m := NewMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			_, err := dec.Token()
			return m, err
		case '[':
			l := []Value{}
			for dec.More() {
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err
	case string, bool, nil:
		return x, nil
	}
	return nil, fmt.Errorf("chat: unexpected JSON token %v", t)
}

// FromGo converts ordinary Go values (maps, slices, numbers, json.RawMessage, structs via
// their JSON encoding) into template values. Go maps are ordered by key.
func FromGo(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case Value: // already converted kinds fall through the checks below
		_ = x
	}
	switch x := v.(type) {
	case bool, int64, float64, string, *Map:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.RawMessage:
		return ParseJSON(x)
	case []Value:
		out := make([]Value, len(x))
		for i, e := range x {
			c, err := FromGo(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := NewMap()
		for _, k := range keys {
			c, err := FromGo(x[k])
			if err != nil {
				return nil, err
			}
			m.Set(k, c)
		}
		return m, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
		out := make([]Value, rv.Len())
		for i := range out {
			c, err := FromGo(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("chat: convert %T: %w", v, err)
	}
	return ParseJSON(data)
}

// equal is Python ==.
func equal(a, b Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case undefined:
		return isUndefined(b)
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case int64:
			return boolInt(x) == y
		case float64:
			return float64(boolInt(x)) == y
		}
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		case bool:
			return x == boolInt(y)
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y
		case bool:
			return x == float64(boolInt(y))
		}
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []Value:
		y, ok := b.([]Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.vals[k]
			if !ok || !equal(x.vals[k], yv) {
				return false
			}
		}
		return true
	case *namespace:
		return a == b
	}
	return false
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// compare orders two values as Python's < does, for numbers and strings.
func compare(a, b Value) (int, error) {
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return strings.Compare(as, bs), nil
		}
	}
	af, aok := number(a)
	bf, bok := number(b)
	if aok && bok {
		switch {
		case af < bf:
			return -1, nil
		case af > bf:
			return 1, nil
		}
		return 0, nil
	}
	if al, ok := a.([]Value); ok {
		if bl, ok := b.([]Value); ok {
			for i := 0; i < len(al) && i < len(bl); i++ {
				if !equal(al[i], bl[i]) {
					return compare(al[i], bl[i])
				}
			}
			return len(al) - len(bl), nil
		}
	}
	return 0, fmt.Errorf("%w: cannot compare %s and %s", ErrRender, typeName(a), typeName(b))
}

func number(v Value) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		return float64(boolInt(x)), true
	}
	return 0, false
}

// typeName names a value's kind the way Python error messages do.
func typeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case undefined:
		return "Undefined"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []Value:
		return "list"
	case *Map:
		return "dict"
	case *namespace:
		return "Namespace"
	case callable:
		return "function"
	case *loopInfo:
		return "LoopContext"
	}
	return fmt.Sprintf("%T", v)
}
