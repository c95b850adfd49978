package chat

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// scope is one level of variable bindings.
type scope struct {
	vars   map[string]Value
	parent *scope
}

func newScope(parent *scope) *scope { return &scope{vars: map[string]Value{}, parent: parent} }

func (s *scope) lookup(name string) (Value, bool) {
	for c := s; c != nil; c = c.parent {
		if v, ok := c.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// renderer holds the state of one render call.
type renderer struct {
	out       strings.Builder
	root      *scope
	now       func() time.Time
	depth     int
	steps     int
	capturing int      // > 0 while rendering into a captured string
	gen       [][2]int // byte ranges of {% generation %} blocks in the output
}

// maxSteps bounds the work one render may do, so a hostile template cannot spin forever.
const maxSteps = 2_000_000

var (
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

func (r *renderer) renderNodes(nodes []node, sc *scope) error {
	for _, n := range nodes {
		if err := r.renderNode(n, sc); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) tick() error {
	r.steps++
	if r.steps > maxSteps {
		return fmt.Errorf("%w: template exceeded %d steps", ErrRender, maxSteps)
	}
	return nil
}

func (r *renderer) renderNode(n node, sc *scope) error {
	if err := r.tick(); err != nil {
		return err
	}
	switch n := n.(type) {
	case *textNode:
		r.out.WriteString(n.s)
	case *outputNode:
		v, err := r.eval(n.x, sc)
		if err != nil {
			return lineErr(n.line, err)
		}
		r.out.WriteString(toStr(v))
	case *ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c, sc)
			if err != nil {
				return err
			}
			if truthy(v) {
				return r.renderNodes(n.bodies[i], sc)
			}
		}
		return r.renderNodes(n.els, sc)
	case *forNode:
		return r.renderFor(n, sc)
	case *setNode:
		return r.renderSet(n, sc)
	case *macroNode:
		sc.vars[n.name] = r.makeMacro(n, nil)
	case *callBlockNode:
		fn, err := r.eval(n.call.fn, sc)
		if err != nil {
			return err
		}
		args, kwargs, err := r.evalArgs(n.call.args, n.call.kwargs, sc)
		if err != nil {
			return err
		}
		body := n.body
		caller := callable(func(r2 *renderer, _ []Value, _ *Map) (Value, error) {
			return r2.capture(body, newScope(sc))
		})
		kwargs.Set("caller", caller)
		c, ok := fn.(callable)
		if !ok {
			return fmt.Errorf("%w: call block target is not callable", ErrRender)
		}
		v, err := c(r, args, kwargs)
		if err != nil {
			return err
		}
		r.out.WriteString(toStr(v))
	case *filterBlockNode:
		s, err := r.capture(n.body, sc)
		if err != nil {
			return err
		}
		args, kwargs, err := r.evalArgs(n.filter.args, n.filter.kwargs, sc)
		if err != nil {
			return err
		}
		v, err := r.applyFilter(n.filter.name, s, args, kwargs, sc)
		if err != nil {
			return err
		}
		r.out.WriteString(toStr(v))
	case *generationNode:
		start := r.out.Len()
		if err := r.renderNodes(n.body, sc); err != nil {
			return err
		}
		if r.capturing == 0 {
			r.gen = append(r.gen, [2]int{start, r.out.Len()})
		}
	case *breakNode:
		return errBreak
	case *continueNode:
		return errContinue
	default:
		return fmt.Errorf("%w: unknown node %T", ErrRender, n)
	}
	return nil
}

// capture renders nodes into a string instead of the output.
func (r *renderer) capture(nodes []node, sc *scope) (string, error) {
	saved := r.out
	r.out = strings.Builder{}
	r.capturing++
	err := r.renderNodes(nodes, sc)
	r.capturing--
	s := r.out.String()
	r.out = saved
	return s, err
}

func (r *renderer) renderFor(n *forNode, sc *scope) error {
	it, err := r.eval(n.iter, sc)
	if err != nil {
		return err
	}
	items, err := iterate(it)
	if err != nil {
		return lineErr(n.line, err)
	}
	inner := newScope(sc)
	if n.filter != nil {
		var kept []Value
		for _, item := range items {
			if err := r.bindTargets(inner, n.targets, item); err != nil {
				return lineErr(n.line, err)
			}
			v, err := r.eval(n.filter, inner)
			if err != nil {
				return err
			}
			if truthy(v) {
				kept = append(kept, item)
			}
		}
		items = kept
		inner = newScope(sc)
	}
	if len(items) == 0 {
		return r.renderNodes(n.els, sc)
	}
	loop := &loopInfo{length: len(items), items: items}
	for i, item := range items {
		// Each iteration starts from the enclosing scope: a set inside the body is
		// local to that iteration, as in Jinja.
		if err := r.tick(); err != nil {
			return err
		}
		inner = newScope(sc)
		inner.vars["loop"] = loop
		loop.index = i
		if err := r.bindTargets(inner, n.targets, item); err != nil {
			return lineErr(n.line, err)
		}
		err := r.renderNodes(n.body, inner)
		if err == errBreak {
			break
		}
		if err != nil && err != errContinue {
			return err
		}
	}
	return nil
}

func (r *renderer) bindTargets(sc *scope, targets []string, item Value) error {
	if len(targets) == 1 {
		sc.vars[targets[0]] = item
		return nil
	}
	parts, err := iterate(item)
	if err != nil {
		return err
	}
	if len(parts) != len(targets) {
		return fmt.Errorf("%w: cannot unpack %d values into %d names", ErrRender, len(parts), len(targets))
	}
	for i, t := range targets {
		sc.vars[t] = parts[i]
	}
	return nil
}

func (r *renderer) renderSet(n *setNode, sc *scope) error {
	var v Value
	var err error
	if n.body != nil {
		v, err = r.capture(n.body, sc)
	} else {
		v, err = r.eval(n.x, sc)
	}
	if err != nil {
		return lineErr(n.line, err)
	}
	if n.attrOf != "" {
		obj, _ := sc.lookup(n.attrOf)
		ns, ok := obj.(*namespace)
		if !ok {
			return lineErr(n.line, fmt.Errorf("%w: cannot assign attribute on non-namespace object", ErrRender))
		}
		ns.attrs.Set(n.targets[0], v)
		return nil
	}
	return lineErr(n.line, r.bindTargets(sc, n.targets, v))
}

func (r *renderer) makeMacro(n *macroNode, _ *scope) callable {
	return func(r2 *renderer, args []Value, kwargs *Map) (Value, error) {
		r2.depth++
		defer func() { r2.depth-- }()
		if r2.depth > 100 {
			return nil, fmt.Errorf("%w: macro recursion too deep", ErrRender)
		}
		sc := newScope(r2.root)
		sc.vars[n.name] = r2.makeMacro(n, nil)
		var extra []Value
		for i, p := range n.params {
			switch {
			case i < len(args):
				sc.vars[p] = args[i]
			default:
				if v, ok := kwargs.Get(p); ok {
					sc.vars[p] = v
				} else if n.defaults[i] != nil {
					d, err := r2.eval(n.defaults[i], sc)
					if err != nil {
						return nil, err
					}
					sc.vars[p] = d
				} else {
					sc.vars[p] = undefined{name: p}
				}
			}
		}
		if len(args) > len(n.params) {
			extra = args[len(n.params):]
		}
		sc.vars["varargs"] = append([]Value{}, extra...)
		rest := NewMap()
		for _, k := range kwargs.Keys() {
			known := k == "caller"
			for _, p := range n.params {
				known = known || p == k
			}
			if !known {
				v, _ := kwargs.Get(k)
				rest.Set(k, v)
			}
		}
		sc.vars["kwargs"] = rest
		if c, ok := kwargs.Get("caller"); ok {
			sc.vars["caller"] = c
		}
		return r2.capture(n.body, sc)
	}
}

// iterate lists the items a for loop visits.
func iterate(v Value) ([]Value, error) {
	switch x := v.(type) {
	case undefined:
		return nil, nil
	case []Value:
		return x, nil
	case *Map:
		out := make([]Value, len(x.keys))
		for i, k := range x.keys {
			out[i] = k
		}
		return out, nil
	case string:
		out := make([]Value, 0, len(x))
		for _, c := range x {
			out = append(out, string(c))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s object is not iterable", ErrRender, typeName(v))
}

func (r *renderer) evalArgs(args []expr, kws []kwarg, sc *scope) ([]Value, *Map, error) {
	vals := make([]Value, len(args))
	for i, a := range args {
		v, err := r.eval(a, sc)
		if err != nil {
			return nil, nil, err
		}
		vals[i] = v
	}
	m := NewMap()
	for _, kw := range kws {
		v, err := r.eval(kw.v, sc)
		if err != nil {
			return nil, nil, err
		}
		m.Set(kw.name, v)
	}
	return vals, m, nil
}

func (r *renderer) eval(e expr, sc *scope) (Value, error) {
	if err := r.tick(); err != nil {
		return nil, err
	}
	switch e := e.(type) {
	case *litExpr:
		return e.v, nil
	case *nameExpr:
		if v, ok := sc.lookup(e.name); ok {
			return v, nil
		}
		return undefined{name: e.name}, nil
	case *listExpr:
		out := make([]Value, len(e.items))
		for i, it := range e.items {
			v, err := r.eval(it, sc)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case *tupleExpr:
		out := make([]Value, len(e.items))
		for i, it := range e.items {
			v, err := r.eval(it, sc)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case *dictExpr:
		m := NewMap()
		for i := range e.keys {
			k, err := r.eval(e.keys[i], sc)
			if err != nil {
				return nil, err
			}
			v, err := r.eval(e.vals[i], sc)
			if err != nil {
				return nil, err
			}
			m.Set(toStr(k), v)
		}
		return m, nil
	case *attrExpr:
		x, err := r.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		return getAttr(x, e.name)
	case *itemExpr:
		x, err := r.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		k, err := r.eval(e.key, sc)
		if err != nil {
			return nil, err
		}
		return getItem(x, k)
	case *sliceExpr:
		return r.evalSlice(e, sc)
	case *callExpr:
		fn, err := r.eval(e.fn, sc)
		if err != nil {
			return nil, err
		}
		args, kwargs, err := r.evalArgs(e.args, e.kwargs, sc)
		if err != nil {
			return nil, err
		}
		c, ok := fn.(callable)
		if !ok {
			if u, ok := fn.(undefined); ok {
				return nil, fmt.Errorf("%w: %q is undefined", ErrRender, u.name)
			}
			return nil, fmt.Errorf("%w: %s object is not callable", ErrRender, typeName(fn))
		}
		return c(r, args, kwargs)
	case *filterExpr:
		x, err := r.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		args, kwargs, err := r.evalArgs(e.args, e.kwargs, sc)
		if err != nil {
			return nil, err
		}
		return r.applyFilter(e.name, x, args, kwargs, sc)
	case *testExpr:
		x, err := r.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		args, _, err := r.evalArgs(e.args, nil, sc)
		if err != nil {
			return nil, err
		}
		ok, err := r.applyTest(e.name, x, args)
		if err != nil {
			return nil, err
		}
		return ok != e.neg, nil
	case *unExpr:
		x, err := r.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		switch e.op {
		case "not":
			return !truthy(x), nil
		case "-":
			switch v := x.(type) {
			case int64:
				return -v, nil
			case float64:
				return -v, nil
			case bool:
				return -boolInt(v), nil
			}
			return nil, fmt.Errorf("%w: bad operand type for unary -: %s", ErrRender, typeName(x))
		}
	case *condExpr:
		c, err := r.eval(e.cond, sc)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return r.eval(e.then, sc)
		}
		if e.els == nil {
			return undefined{name: "else"}, nil
		}
		return r.eval(e.els, sc)
	case *binExpr:
		return r.evalBin(e, sc)
	}
	return nil, fmt.Errorf("%w: cannot evaluate %T", ErrRender, e)
}

func (r *renderer) evalBin(e *binExpr, sc *scope) (Value, error) {
	l, err := r.eval(e.l, sc)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return r.eval(e.r, sc)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return r.eval(e.r, sc)
	}
	rv, err := r.eval(e.r, sc)
	if err != nil {
		return nil, err
	}
	return binOp(e.op, l, rv)
}

func binOp(op string, l, rv Value) (Value, error) {
	switch op {
	case "==":
		return equal(l, rv), nil
	case "!=":
		return !equal(l, rv), nil
	case "<", ">", "<=", ">=":
		c, err := compare(l, rv)
		if err != nil {
			return nil, err
		}
		switch op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "in", "notin":
		ok, err := contains(rv, l)
		if err != nil {
			return nil, err
		}
		return ok == (op == "in"), nil
	case "~":
		return toStr(l) + toStr(rv), nil
	}
	if u, ok := l.(undefined); ok {
		return nil, fmt.Errorf("%w: %q is undefined", ErrRender, u.name)
	}
	if u, ok := rv.(undefined); ok {
		return nil, fmt.Errorf("%w: %q is undefined", ErrRender, u.name)
	}
	switch op {
	case "+":
		switch a := l.(type) {
		case string:
			if b, ok := rv.(string); ok {
				return a + b, nil
			}
		case []Value:
			if b, ok := rv.([]Value); ok {
				out := make([]Value, 0, len(a)+len(b))
				return append(append(out, a...), b...), nil
			}
		}
	case "*":
		if s, ok := l.(string); ok {
			if n, ok := rv.(int64); ok {
				if n < 0 {
					n = 0
				}
				if int64(len(s))*n > 1<<24 {
					return nil, fmt.Errorf("%w: string repetition too large", ErrRender)
				}
				return strings.Repeat(s, int(n)), nil
			}
		}
		if lst, ok := l.([]Value); ok {
			if n, ok := rv.(int64); ok {
				if int64(len(lst))*n > 1<<20 {
					return nil, fmt.Errorf("%w: list repetition too large", ErrRender)
				}
				var out []Value
				for i := int64(0); i < n; i++ {
					out = append(out, lst...)
				}
				return out, nil
			}
		}
	case "%":
		if s, ok := l.(string); ok {
			return pyPercent(s, rv)
		}
	}
	ai, aInt := asInt(l)
	bi, bInt := asInt(rv)
	af, aNum := number(l)
	bf, bNum := number(rv)
	if !aNum || !bNum {
		return nil, fmt.Errorf("%w: unsupported operand types for %s: %s and %s", ErrRender, op, typeName(l), typeName(rv))
	}
	both := aInt && bInt
	switch op {
	case "+":
		if both {
			return ai + bi, nil
		}
		return af + bf, nil
	case "-":
		if both {
			return ai - bi, nil
		}
		return af - bf, nil
	case "*":
		if both {
			return ai * bi, nil
		}
		return af * bf, nil
	case "/":
		if bf == 0 {
			return nil, fmt.Errorf("%w: division by zero", ErrRender)
		}
		return af / bf, nil
	case "//":
		if bf == 0 {
			return nil, fmt.Errorf("%w: division by zero", ErrRender)
		}
		if both {
			q := ai / bi
			if (ai%bi != 0) && ((ai < 0) != (bi < 0)) {
				q--
			}
			return q, nil
		}
		return math.Floor(af / bf), nil
	case "%":
		if bf == 0 {
			return nil, fmt.Errorf("%w: modulo by zero", ErrRender)
		}
		if both {
			m := ai % bi
			if m != 0 && ((m < 0) != (bi < 0)) {
				m += bi
			}
			return m, nil
		}
		m := math.Mod(af, bf)
		if m != 0 && ((m < 0) != (bf < 0)) {
			m += bf
		}
		return m, nil
	case "**":
		if both && bi >= 0 {
			res := int64(1)
			for i := int64(0); i < bi && i < 64; i++ {
				res *= ai
			}
			return res, nil
		}
		return math.Pow(af, bf), nil
	}
	return nil, fmt.Errorf("%w: unknown operator %s", ErrRender, op)
}

func asInt(v Value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		return boolInt(x), true
	}
	return 0, false
}

// contains is Python's `needle in hay`.
func contains(hay, needle Value) (bool, error) {
	switch h := hay.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, fmt.Errorf("%w: 'in <string>' requires string as left operand, not %s", ErrRender, typeName(needle))
		}
		return strings.Contains(h, n), nil
	case []Value:
		for _, e := range h {
			if equal(e, needle) {
				return true, nil
			}
		}
		return false, nil
	case *Map:
		k, ok := needle.(string)
		if !ok {
			return false, nil
		}
		_, found := h.Get(k)
		return found, nil
	case undefined:
		return false, nil
	case *namespace:
		k, _ := needle.(string)
		_, found := h.attrs.Get(k)
		return found, nil
	}
	return false, fmt.Errorf("%w: argument of type %s is not iterable", ErrRender, typeName(hay))
}

// getAttr is Jinja's environment.getattr: attribute (method) first, then item.
func getAttr(x Value, name string) (Value, error) {
	switch v := x.(type) {
	case undefined:
		return nil, fmt.Errorf("%w: %q is undefined (looking up attribute %q)", ErrRender, v.name, name)
	case *namespace:
		if a, ok := v.attrs.Get(name); ok {
			return a, nil
		}
		return undefined{name: name}, nil
	case *loopInfo:
		if a, ok := v.attr(name); ok {
			return a, nil
		}
		return undefined{name: name}, nil
	}
	if m := method(x, name); m != nil {
		return m, nil
	}
	if mp, ok := x.(*Map); ok {
		if a, ok := mp.Get(name); ok {
			return a, nil
		}
	}
	return undefined{name: name}, nil
}

// getItem is Jinja's environment.getitem: item first, then attribute.
func getItem(x Value, key Value) (Value, error) {
	switch v := x.(type) {
	case undefined:
		return nil, fmt.Errorf("%w: %q is undefined (looking up item %s)", ErrRender, v.name, repr(key))
	case *Map:
		if k, ok := key.(string); ok {
			if a, ok := v.Get(k); ok {
				return a, nil
			}
		}
	case []Value:
		if i, ok := asInt(key); ok {
			if i < 0 {
				i += int64(len(v))
			}
			if i >= 0 && i < int64(len(v)) {
				return v[i], nil
			}
			return undefined{name: "index"}, nil
		}
	case string:
		if i, ok := asInt(key); ok {
			rs := []rune(v)
			if i < 0 {
				i += int64(len(rs))
			}
			if i >= 0 && i < int64(len(rs)) {
				return string(rs[i]), nil
			}
			return undefined{name: "index"}, nil
		}
	}
	if k, ok := key.(string); ok {
		return getAttr(x, k)
	}
	return undefined{name: toStr(key)}, nil
}

func (r *renderer) evalSlice(e *sliceExpr, sc *scope) (Value, error) {
	x, err := r.eval(e.x, sc)
	if err != nil {
		return nil, err
	}
	var bounds [3]*int64
	for i, b := range []expr{e.lo, e.hi, e.step} {
		if b == nil {
			continue
		}
		v, err := r.eval(b, sc)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		n, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("%w: slice indices must be integers", ErrRender)
		}
		bounds[i] = &n
	}
	switch v := x.(type) {
	case []Value:
		idx, err := sliceIndices(len(v), bounds)
		if err != nil {
			return nil, err
		}
		out := make([]Value, len(idx))
		for i, j := range idx {
			out[i] = v[j]
		}
		return out, nil
	case string:
		var rs []rune
		if utf8.ValidString(v) {
			rs = []rune(v)
		}
		idx, err := sliceIndices(len(rs), bounds)
		if err != nil {
			return nil, err
		}
		out := make([]rune, len(idx))
		for i, j := range idx {
			out[i] = rs[j]
		}
		return string(out), nil
	case undefined:
		return nil, fmt.Errorf("%w: %q is undefined", ErrRender, v.name)
	}
	return nil, fmt.Errorf("%w: %s object is not subscriptable", ErrRender, typeName(x))
}

// sliceIndices implements Python's slice.indices and returns the selected positions.
func sliceIndices(n int, b [3]*int64) ([]int, error) {
	step := int64(1)
	if b[2] != nil {
		step = *b[2]
	}
	if step == 0 {
		return nil, fmt.Errorf("%w: slice step cannot be zero", ErrRender)
	}
	ln := int64(n)
	clamp := func(p *int64, def int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += ln
			if v < 0 {
				if step < 0 {
					return -1
				}
				return 0
			}
		}
		if v >= ln {
			if step < 0 {
				return ln - 1
			}
			return ln
		}
		return v
	}
	var lo, hi int64
	if step > 0 {
		lo, hi = clamp(b[0], 0), clamp(b[1], ln)
	} else {
		lo, hi = clamp(b[0], ln-1), clamp(b[1], -1)
	}
	var out []int
	if step > 0 {
		for i := lo; i < hi; i += step {
			out = append(out, int(i))
		}
	} else {
		for i := lo; i > hi; i += step {
			out = append(out, int(i))
		}
	}
	return out, nil
}
