package chat

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of one expression token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokName
	tokString
	tokInt
	tokFloat
	tokOp
)

type token struct {
	kind tokKind
	s    string
	i    int64
	f    float64
}

var ops3 = []string{"//=", "**="}
var ops2 = []string{"==", "!=", "<=", ">=", "//", "**"}

const ops1 = "+-*/%~|()[]{}.,:=<>!"

// tokenize splits the inside of a tag into tokens.
func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{kind: tokName, s: s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			isFloat := false
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
				isFloat = true
				j++
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
					j++
				}
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && s[k] >= '0' && s[k] <= '9' {
					isFloat = true
					for k < len(s) && s[k] >= '0' && s[k] <= '9' {
						k++
					}
					j = k
				}
			}
			lit := strings.ReplaceAll(s[i:j], "_", "")
			if isFloat {
				f, err := strconv.ParseFloat(lit, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: bad number %q", ErrSyntax, lit)
				}
				out = append(out, token{kind: tokFloat, f: f})
			} else {
				n, err := strconv.ParseInt(lit, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: bad number %q", ErrSyntax, lit)
				}
				out = append(out, token{kind: tokInt, i: n})
			}
			i = j
		case c == '\'' || c == '"':
			str, n, err := unquote(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokString, s: str})
			i += n
		default:
			matched := ""
			for _, o := range ops2 {
				if strings.HasPrefix(s[i:], o) {
					matched = o
					break
				}
			}
			if matched == "" && strings.IndexByte(ops1, c) >= 0 {
				matched = s[i : i+1]
			}
			if matched == "" {
				return nil, fmt.Errorf("%w: unexpected character %q", ErrSyntax, c)
			}
			out = append(out, token{kind: tokOp, s: matched})
			i += len(matched)
		}
	}
	return out, nil
}

// unquote reads a Python string literal at the start of s and returns its value and length.
func unquote(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		e := s[i]
		i++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'v':
			b.WriteByte(11)
		case '\\', '\'', '"':
			b.WriteByte(e)
		case '\n':
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > len(s) {
				return "", 0, fmt.Errorf("%w: bad escape in string", ErrSyntax)
			}
			v, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", 0, fmt.Errorf("%w: bad escape in string", ErrSyntax)
			}
			b.WriteRune(rune(v))
			i += n
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, fmt.Errorf("%w: unterminated string", ErrSyntax)
}

// expr is an expression node.
type expr interface{}

type (
	litExpr   struct{ v Value }
	nameExpr  struct{ name string }
	listExpr  struct{ items []expr }
	tupleExpr struct{ items []expr }
	dictExpr  struct{ keys, vals []expr }
	attrExpr  struct {
		x    expr
		name string
	}
	itemExpr  struct{ x, key expr }
	sliceExpr struct{ x, lo, hi, step expr }
	callExpr  struct {
		fn     expr
		args   []expr
		kwargs []kwarg
	}
	filterExpr struct {
		x      expr
		name   string
		args   []expr
		kwargs []kwarg
	}
	testExpr struct {
		x    expr
		name string
		args []expr
		neg  bool
	}
	binExpr struct {
		op   string
		l, r expr
	}
	unExpr struct {
		op string
		x  expr
	}
	condExpr struct{ then, cond, els expr }
)

type kwarg struct {
	name string
	v    expr
}

// exprParser parses the tokens of one tag.
type exprParser struct {
	toks  []token
	pos   int
	depth int
}

// maxNesting bounds nested expressions and blocks so hostile templates cannot exhaust
// the stack.
const maxNesting = 200

func (p *exprParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{kind: tokEOF}
}

func (p *exprParser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return token{kind: tokEOF}
}

func (p *exprParser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *exprParser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tokOp && t.s == s
}

func (p *exprParser) isName(s string) bool {
	t := p.peek()
	return t.kind == tokName && t.s == s
}

func (p *exprParser) expectOp(s string) error {
	if !p.isOp(s) {
		return fmt.Errorf("%w: expected %q, got %s", ErrSyntax, s, describe(p.peek()))
	}
	p.pos++
	return nil
}

func (p *exprParser) expectName() (string, error) {
	t := p.next()
	if t.kind != tokName {
		return "", fmt.Errorf("%w: expected a name, got %s", ErrSyntax, describe(t))
	}
	return t.s, nil
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of tag"
	case tokString:
		return strconv.Quote(t.s)
	case tokInt:
		return strconv.FormatInt(t.i, 10)
	case tokFloat:
		return strconv.FormatFloat(t.f, 'g', -1, 64)
	}
	return strconv.Quote(t.s)
}

func (p *exprParser) done() error {
	if p.pos != len(p.toks) {
		return fmt.Errorf("%w: unexpected %s", ErrSyntax, describe(p.peek()))
	}
	return nil
}

// parseExpr parses a full expression including the conditional form `a if c else b`.
func (p *exprParser) parseExpr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, fmt.Errorf("%w: expression nested too deeply", ErrSyntax)
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		p.pos++
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var els expr
		if p.isName("else") {
			p.pos++
			if els, err = p.parseExpr(); err != nil {
				return nil, err
			}
		}
		x = &condExpr{then: x, cond: c, els: els}
	}
	return x, nil
}

// parseTupleOrExpr parses `a, b, c` as a tuple (used by for targets' iterables and set).
func (p *exprParser) parseTupleOrExpr() (expr, error) {
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return x, nil
	}
	items := []expr{x}
	for p.isOp(",") {
		p.pos++
		if p.peek().kind == tokEOF {
			break
		}
		y, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		items = append(items, y)
	}
	return &tupleExpr{items: items}, nil
}

func (p *exprParser) parseOr() (expr, error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		p.pos++
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: "or", l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parseAnd() (expr, error) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		p.pos++
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: "and", l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parseNot() (expr, error) {
	if p.isName("not") {
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, fmt.Errorf("%w: expression nested too deeply", ErrSyntax)
		}
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &unExpr{op: "not", x: x}, nil
	}
	return p.parseCompare()
}

func (p *exprParser) parseCompare() (expr, error) {
	x, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		var op string
		switch {
		case t.kind == tokOp && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">="):
			op = t.s
			p.pos++
		case t.kind == tokName && t.s == "in":
			op = "in"
			p.pos++
		case t.kind == tokName && t.s == "not" && p.peekAt(1).kind == tokName && p.peekAt(1).s == "in":
			op = "notin"
			p.pos += 2
		default:
			return x, nil
		}
		y, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: op, l: x, r: y}
	}
}

func (p *exprParser) parseMath1() (expr, error) {
	x, err := p.parseConcat()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().s
		y, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: op, l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parseConcat() (expr, error) {
	x, err := p.parseMath2()
	if err != nil {
		return nil, err
	}
	for p.isOp("~") {
		p.pos++
		y, err := p.parseMath2()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: "~", l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parseMath2() (expr, error) {
	x, err := p.parsePow()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		op := p.next().s
		y, err := p.parsePow()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: op, l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parsePow() (expr, error) {
	x, err := p.parseUnary(true)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		p.pos++
		y, err := p.parseUnary(true)
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: "**", l: x, r: y}
	}
	return x, nil
}

func (p *exprParser) parseUnary(withFilter bool) (expr, error) {
	var x expr
	var err error
	switch {
	case p.isOp("-"):
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, fmt.Errorf("%w: expression nested too deeply", ErrSyntax)
		}
		inner, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unExpr{op: "-", x: inner}
	case p.isOp("+"):
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, fmt.Errorf("%w: expression nested too deeply", ErrSyntax)
		}
		if x, err = p.parseUnary(false); err != nil {
			return nil, err
		}
	default:
		if x, err = p.parsePrimary(); err != nil {
			return nil, err
		}
	}
	if x, err = p.parsePostfix(x); err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterTests(x)
	}
	return x, nil
}

func (p *exprParser) parsePrimary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tokName:
		switch t.s {
		case "true", "True":
			return &litExpr{v: true}, nil
		case "false", "False":
			return &litExpr{v: false}, nil
		case "none", "None":
			return &litExpr{v: nil}, nil
		}
		return &nameExpr{name: t.s}, nil
	case tokString:
		s := t.s
		// Adjacent string literals concatenate, as in Python.
		for p.peek().kind == tokString {
			s += p.next().s
		}
		return &litExpr{v: s}, nil
	case tokInt:
		return &litExpr{v: t.i}, nil
	case tokFloat:
		return &litExpr{v: t.f}, nil
	case tokOp:
		switch t.s {
		case "(":
			if p.isOp(")") {
				p.pos++
				return &tupleExpr{}, nil
			}
			x, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if p.isOp(",") {
				items := []expr{x}
				for p.isOp(",") {
					p.pos++
					if p.isOp(")") {
						break
					}
					y, err := p.parseExpr()
					if err != nil {
						return nil, err
					}
					items = append(items, y)
				}
				x = &tupleExpr{items: items}
			}
			return x, p.expectOp(")")
		case "[":
			var items []expr
			for !p.isOp("]") {
				y, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				items = append(items, y)
				if !p.isOp(",") {
					break
				}
				p.pos++
			}
			return &listExpr{items: items}, p.expectOp("]")
		case "{":
			d := &dictExpr{}
			for !p.isOp("}") {
				k, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, k)
				d.vals = append(d.vals, v)
				if !p.isOp(",") {
					break
				}
				p.pos++
			}
			return d, p.expectOp("}")
		}
	}
	return nil, fmt.Errorf("%w: unexpected %s", ErrSyntax, describe(t))
}

func (p *exprParser) parsePostfix(x expr) (expr, error) {
	for {
		switch {
		case p.isOp("."):
			p.pos++
			t := p.next()
			switch t.kind {
			case tokName:
				x = &attrExpr{x: x, name: t.s}
			case tokInt:
				x = &itemExpr{x: x, key: &litExpr{v: t.i}}
			default:
				return nil, fmt.Errorf("%w: expected attribute name after '.'", ErrSyntax)
			}
		case p.isOp("["):
			p.pos++
			var parts [3]expr
			n := 0
			isSlice := false
			for {
				if p.isOp(":") {
					p.pos++
					isSlice = true
					n++
					if n > 2 {
						return nil, fmt.Errorf("%w: bad slice", ErrSyntax)
					}
					continue
				}
				if p.isOp("]") {
					break
				}
				e, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				if parts[n] != nil {
					return nil, fmt.Errorf("%w: bad subscript", ErrSyntax)
				}
				parts[n] = e
			}
			p.pos++
			if isSlice {
				x = &sliceExpr{x: x, lo: parts[0], hi: parts[1], step: parts[2]}
			} else {
				if parts[0] == nil {
					return nil, fmt.Errorf("%w: empty subscript", ErrSyntax)
				}
				x = &itemExpr{x: x, key: parts[0]}
			}
		case p.isOp("("):
			p.pos++
			args, kwargs, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			x = &callExpr{fn: x, args: args, kwargs: kwargs}
		default:
			return x, nil
		}
	}
}

// parseArgs parses call arguments after the opening parenthesis, through the closing one.
func (p *exprParser) parseArgs() ([]expr, []kwarg, error) {
	var args []expr
	var kwargs []kwarg
	for !p.isOp(")") {
		if p.peek().kind == tokName && p.peekAt(1).kind == tokOp && p.peekAt(1).s == "=" {
			name := p.next().s
			p.pos++
			v, err := p.parseExpr()
			if err != nil {
				return nil, nil, err
			}
			kwargs = append(kwargs, kwarg{name: name, v: v})
		} else {
			if len(kwargs) > 0 {
				return nil, nil, fmt.Errorf("%w: positional argument after keyword argument", ErrSyntax)
			}
			v, err := p.parseExpr()
			if err != nil {
				return nil, nil, err
			}
			args = append(args, v)
		}
		if !p.isOp(",") {
			break
		}
		p.pos++
	}
	return args, kwargs, p.expectOp(")")
}

func (p *exprParser) parseFilterTests(x expr) (expr, error) {
	for {
		switch {
		case p.isOp("|"):
			p.pos++
			name, err := p.expectName()
			if err != nil {
				return nil, err
			}
			for p.isOp(".") { // dotted filter names are not used by chat templates; keep the last part
				p.pos++
				if name, err = p.expectName(); err != nil {
					return nil, err
				}
			}
			f := &filterExpr{x: x, name: name}
			if p.isOp("(") {
				p.pos++
				if f.args, f.kwargs, err = p.parseArgs(); err != nil {
					return nil, err
				}
			}
			x = f
		case p.isName("is"):
			p.pos++
			neg := false
			if p.isName("not") {
				p.pos++
				neg = true
			}
			t := p.next()
			var name string
			switch {
			case t.kind == tokName:
				name = t.s
			case t.kind == tokOp && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">="):
				name = t.s
			default:
				return nil, fmt.Errorf("%w: expected a test name after 'is'", ErrSyntax)
			}
			te := &testExpr{x: x, name: name, neg: neg}
			switch nt := p.peek(); {
			case p.isOp("("):
				p.pos++
				args, _, err := p.parseArgs()
				if err != nil {
					return nil, err
				}
				te.args = args
			case nt.kind == tokString || nt.kind == tokInt || nt.kind == tokFloat ||
				nt.kind == tokName && !isKeyword(nt.s) || p.isOp("[") || p.isOp("{"):
				arg, err := p.parsePrimary()
				if err != nil {
					return nil, err
				}
				if arg, err = p.parsePostfix(arg); err != nil {
					return nil, err
				}
				te.args = []expr{arg}
			}
			x = te
		default:
			return x, nil
		}
	}
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "is", "if", "else", "elif", "endif", "for", "recursive", "with", "without", "context":
		return true
	}
	return false
}
