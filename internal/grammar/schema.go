package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Sentinel errors.
var (
	// ErrSchema reports a schema this package cannot compile.
	ErrSchema = errors.New("grammar: unsupported schema")
	// ErrRejected reports a token or byte the schema does not allow at this point.
	ErrRejected = errors.New("grammar: token not allowed")
)

// kind is the shape of JSON a node accepts.
type kind uint8

const (
	kAny kind = iota
	kObject
	kArray
	kString
	kNumber
	kInteger
	kLiteral // enum, const, true/false, null: a fixed set of JSON texts
	kAnyOf
)

// maxProps bounds the properties of one object schema (they are tracked in a bitmask).
const maxProps = 64

// maxAnyDepth bounds nesting inside free-form (schema-less) values.
const maxAnyDepth = 16

// node is one compiled schema.
type node struct {
	kind kind

	// object
	props      []*node   // property value schemas, in schema order
	keyTrie    *byteTrie // trie of the quoted property names; terminal value = property index
	required   uint64    // bitmask of required properties
	freeKeys   bool      // no properties listed: any string key, values of additional
	additional *node     // value schema for free keys

	// array
	items              *node
	minItems, maxItems int // maxItems < 0: unbounded

	// string
	minLen, maxLen int // in code points; maxLen < 0: unbounded

	// literal
	lits *byteTrie // JSON texts; terminal marks a complete literal

	// anyOf
	alts []*node

	first [4]uint64 // bytes that may start this value (after leading whitespace)
}

// byteTrie is a trie over byte strings used for property names and literals.
type byteTrie struct {
	next    []map[byte]int32
	term    []int32  // -1, or the value index ending here
	subtree []uint64 // object keys: bitmask of property indexes below the node
}

func newByteTrie() *byteTrie {
	return &byteTrie{next: []map[byte]int32{{}}, term: []int32{-1}, subtree: []uint64{0}}
}

func (t *byteTrie) add(s []byte, val int32) {
	n := int32(0)
	if val >= 0 && val < 64 {
		t.subtree[0] |= 1 << uint(val)
	}
	for _, b := range s {
		c, ok := t.next[n][b]
		if !ok {
			c = int32(len(t.next))
			t.next = append(t.next, map[byte]int32{})
			t.term = append(t.term, -1)
			t.subtree = append(t.subtree, 0)
			t.next[n][b] = c
		}
		n = c
		if val >= 0 && val < 64 {
			t.subtree[n] |= 1 << uint(val)
		}
	}
	t.term[n] = val
}

// compiler holds state while compiling one schema document.
type compiler struct {
	root  map[string]any
	depth int
}

// Compile compiles a JSON schema. Supported: type (a name or a list of names),
// object with properties/required/additionalProperties, array with items/minItems/
// maxItems, string with minLength/maxLength, number, integer, boolean, null, enum,
// const, anyOf/oneOf whose alternatives start with different characters, local $ref
// ("#/$defs/…", "#/definitions/…"), and the empty schema (any JSON value). Objects with
// listed properties only ever produce those properties.
func Compile(schema []byte) (*Grammar, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: parse schema: %v", ErrSchema, err)
	}
	c := &compiler{}
	if m, ok := doc.(map[string]any); ok {
		c.root = m
	}
	n, err := c.compile(doc)
	if err != nil {
		return nil, err
	}
	return &Grammar{root: n}, nil
}

func (c *compiler) compile(doc any) (*node, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		return nil, fmt.Errorf("%w: schema nested too deeply (or a recursive $ref)", ErrSchema)
	}
	switch d := doc.(type) {
	case bool:
		if !d {
			return nil, fmt.Errorf("%w: false schema accepts nothing", ErrSchema)
		}
		return c.finish(&node{kind: kAny})
	case map[string]any:
		return c.compileObject(d)
	}
	return nil, fmt.Errorf("%w: a schema must be an object or a boolean", ErrSchema)
}

func (c *compiler) compileObject(s map[string]any) (*node, error) {
	if ref, ok := s["$ref"].(string); ok {
		target, err := c.resolve(ref)
		if err != nil {
			return nil, err
		}
		return c.compile(target)
	}
	if v, ok := s["const"]; ok {
		return c.literals([]any{v})
	}
	if v, ok := s["enum"]; ok {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%w: enum must be a non-empty array", ErrSchema)
		}
		return c.literals(list)
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if v, ok := s[key]; ok {
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("%w: %s must be a non-empty array", ErrSchema, key)
			}
			n := &node{kind: kAnyOf}
			for _, alt := range list {
				a, err := c.compile(alt)
				if err != nil {
					return nil, err
				}
				n.alts = append(n.alts, a)
			}
			return c.finish(n)
		}
	}
	if _, ok := s["allOf"]; ok {
		return nil, fmt.Errorf("%w: allOf is not supported", ErrSchema)
	}
	switch t := s["type"].(type) {
	case nil:
		if _, ok := s["properties"]; ok {
			return c.compileTyped("object", s)
		}
		if _, ok := s["items"]; ok {
			return c.compileTyped("array", s)
		}
		return c.finish(&node{kind: kAny})
	case string:
		return c.compileTyped(t, s)
	case []any:
		n := &node{kind: kAnyOf}
		for _, e := range t {
			name, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: type list entries must be strings", ErrSchema)
			}
			a, err := c.compileTyped(name, s)
			if err != nil {
				return nil, err
			}
			n.alts = append(n.alts, a)
		}
		if len(n.alts) == 1 {
			return n.alts[0], nil
		}
		return c.finish(n)
	}
	return nil, fmt.Errorf("%w: type must be a string or a list", ErrSchema)
}

func (c *compiler) resolve(ref string) (any, error) {
	var doc any = c.root
	if ref == "#" {
		return doc, nil
	}
	if len(ref) < 2 || ref[:2] != "#/" {
		return nil, fmt.Errorf("%w: only local $ref is supported, got %q", ErrSchema, ref)
	}
	for _, part := range splitPointer(ref[2:]) {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: $ref %q does not resolve", ErrSchema, ref)
		}
		if doc, ok = m[part]; !ok {
			return nil, fmt.Errorf("%w: $ref %q does not resolve", ErrSchema, ref)
		}
	}
	return doc, nil
}

func splitPointer(p string) []string {
	var out []string
	cur := []byte{}
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '/':
			out = append(out, string(cur))
			cur = cur[:0]
		case p[i] == '~' && i+1 < len(p) && p[i+1] == '1':
			cur = append(cur, '/')
			i++
		case p[i] == '~' && i+1 < len(p) && p[i+1] == '0':
			cur = append(cur, '~')
			i++
		default:
			cur = append(cur, p[i])
		}
	}
	return append(out, string(cur))
}

func intField(s map[string]any, key string, def int) (int, error) {
	v, ok := s[key]
	if !ok {
		return def, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: %s must be a number", ErrSchema, key)
	}
	n, err := num.Int64()
	if err != nil || n < 0 || n > 1<<30 {
		return 0, fmt.Errorf("%w: %s must be a non-negative integer", ErrSchema, key)
	}
	return int(n), nil
}

func (c *compiler) compileTyped(t string, s map[string]any) (*node, error) {
	switch t {
	case "object":
		n := &node{kind: kObject}
		props, _ := s["properties"].(map[string]any)
		if len(props) > maxProps {
			return nil, fmt.Errorf("%w: more than %d properties", ErrSchema, maxProps)
		}
		if len(props) == 0 {
			n.freeKeys = true
			add := s["additionalProperties"]
			if b, ok := add.(bool); ok && !b {
				n.freeKeys = false // only {} is valid
			} else if am, ok := add.(map[string]any); ok {
				a, err := c.compile(am)
				if err != nil {
					return nil, err
				}
				n.additional = a
			} else {
				a, err := c.finish(&node{kind: kAny})
				if err != nil {
					return nil, err
				}
				n.additional = a
			}
		}
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		// Sorted so compilation is deterministic; the order only assigns bit positions in
		// the used/required masks, since properties may appear in any order.
		sort.Strings(names)
		n.keyTrie = newByteTrie()
		index := map[string]int{}
		for i, name := range names {
			p, err := c.compile(props[name])
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", name, err)
			}
			n.props = append(n.props, p)
			key, _ := json.Marshal(name)
			n.keyTrie.add(key, int32(i))
			index[name] = i
		}
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				name, _ := r.(string)
				i, ok := index[name]
				if !ok {
					return nil, fmt.Errorf("%w: required property %q is not in properties", ErrSchema, name)
				}
				n.required |= 1 << uint(i)
			}
		}
		return c.finish(n)
	case "array":
		n := &node{kind: kArray, maxItems: -1}
		var err error
		if n.minItems, err = intField(s, "minItems", 0); err != nil {
			return nil, err
		}
		if n.maxItems, err = intField(s, "maxItems", -1); err != nil {
			return nil, err
		}
		if n.maxItems >= 0 && n.maxItems < n.minItems {
			return nil, fmt.Errorf("%w: maxItems < minItems", ErrSchema)
		}
		items := s["items"]
		if items == nil {
			items = true
		}
		if n.items, err = c.compile(items); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		return c.finish(n)
	case "string":
		n := &node{kind: kString, maxLen: -1}
		var err error
		if n.minLen, err = intField(s, "minLength", 0); err != nil {
			return nil, err
		}
		if n.maxLen, err = intField(s, "maxLength", -1); err != nil {
			return nil, err
		}
		if n.maxLen >= 0 && n.maxLen < n.minLen {
			return nil, fmt.Errorf("%w: maxLength < minLength", ErrSchema)
		}
		if _, ok := s["pattern"]; ok {
			return nil, fmt.Errorf("%w: string pattern is not supported", ErrSchema)
		}
		return c.finish(n)
	case "number":
		return c.finish(&node{kind: kNumber})
	case "integer":
		return c.finish(&node{kind: kInteger})
	case "boolean":
		return c.literals([]any{true, false})
	case "null":
		return c.literals([]any{nil})
	}
	return nil, fmt.Errorf("%w: unknown type %q", ErrSchema, t)
}

// literals compiles a fixed set of JSON values (enum, const) into a trie of their
// compact JSON texts.
func (c *compiler) literals(vals []any) (*node, error) {
	n := &node{kind: kLiteral, lits: newByteTrie()}
	for i, v := range vals {
		text, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: enum value: %v", ErrSchema, err)
		}
		n.lits.add(text, int32(i))
	}
	return c.finish(n)
}

// finish computes the first-byte set of n and checks anyOf alternatives are
// distinguishable by their first byte.
func (c *compiler) finish(n *node) (*node, error) {
	if n.kind == kAnyOf {
		for _, a := range n.alts {
			for i := range n.first {
				if n.first[i]&a.first[i] != 0 {
					return nil, fmt.Errorf("%w: anyOf alternatives that can start with the same character", ErrSchema)
				}
				n.first[i] |= a.first[i]
			}
		}
		return n, nil
	}
	setFirst(n)
	return n, nil
}

// setFirst fills n.first for every kind except anyOf.
func setFirst(n *node) {
	set := func(b byte) { n.first[b>>6] |= 1 << (b & 63) }
	switch n.kind {
	case kAny:
		for _, b := range []byte(`{["-0123456789tfn`) {
			set(b)
		}
	case kObject:
		set('{')
	case kArray:
		set('[')
	case kString:
		set('"')
	case kNumber, kInteger:
		for _, b := range []byte("-0123456789") {
			set(b)
		}
	case kLiteral:
		for b := range n.lits.next[0] {
			set(b)
		}
	}
}

func (n *node) starts(b byte) bool { return n.first[b>>6]&(1<<(b&63)) != 0 }
