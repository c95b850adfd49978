package chat

import (
	"fmt"
	"strings"
)

// node is one statement of a parsed template.
type node interface{}

type (
	textNode   struct{ s string }
	outputNode struct {
		x    expr
		line int
	}
	ifNode struct {
		conds  []expr
		bodies [][]node
		els    []node
	}
	forNode struct {
		targets []string
		iter    expr
		filter  expr
		body    []node
		els     []node
		line    int
	}
	setNode struct {
		targets []string // one name, or several for tuple unpacking
		attrOf  string   // set ns.attr: the namespace variable
		x       expr
		body    []node // block form {% set x %}...{% endset %}
		line    int
	}
	macroNode struct {
		name     string
		params   []string
		defaults []expr // aligned with params; nil means required
		body     []node
	}
	callBlockNode struct {
		call *callExpr
		body []node
	}
	filterBlockNode struct {
		filter *filterExpr
		body   []node
	}
	generationNode struct{ body []node }
	breakNode      struct{}
	continueNode   struct{}
)

// parser builds the statement tree from segments.
type parser struct {
	segs     []segment
	depth    int
	pos      int
	stopToks []token // tokens of the statement that ended the last parseBody
	stopLine int
}

// parseTemplate parses a whole template source.
func parseTemplate(src string) ([]node, error) {
	segs, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{segs: segs}
	body, end, err := p.parseBody(nil)
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, fmt.Errorf("%w: unexpected {%% %s %%}", ErrSyntax, end)
	}
	return body, nil
}

// parseBody parses nodes until one of the stop keywords starts a statement; it returns the
// nodes, the keyword that stopped it ("" at end of input) and leaves that statement's
// tokens available through p.stopToks.
func (p *parser) parseBody(stops []string) ([]node, string, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, "", fmt.Errorf("%w: blocks nested too deeply", ErrSyntax)
	}
	var out []node
	for p.pos < len(p.segs) {
		s := p.segs[p.pos]
		p.pos++
		switch s.kind {
		case segText:
			out = append(out, &textNode{s: s.body})
		case segExpr:
			toks, err := tokenize(s.body)
			if err != nil {
				return nil, "", lineErr(s.line, err)
			}
			ep := &exprParser{toks: toks}
			x, err := ep.parseExpr()
			if err == nil {
				err = ep.done()
			}
			if err != nil {
				return nil, "", lineErr(s.line, err)
			}
			out = append(out, &outputNode{x: x, line: s.line})
		case segStmt:
			toks, err := tokenize(s.body)
			if err != nil {
				return nil, "", lineErr(s.line, err)
			}
			if len(toks) == 0 || toks[0].kind != tokName {
				return nil, "", lineErr(s.line, fmt.Errorf("%w: empty or malformed statement", ErrSyntax))
			}
			kw := toks[0].s
			for _, st := range stops {
				if kw == st {
					p.stopToks = toks
					p.stopLine = s.line
					return out, kw, nil
				}
			}
			n, err := p.parseStmt(kw, &exprParser{toks: toks, pos: 1}, s.line)
			if err != nil {
				return nil, "", lineErr(s.line, err)
			}
			if n != nil {
				out = append(out, n)
			}
		}
	}
	return out, "", nil
}

func lineErr(line int, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "line ") {
		return err
	}
	return fmt.Errorf("line %d: %w", line, err)
}

func (p *parser) expectEnd(stops []string, end string) ([]node, string, error) {
	body, kw, err := p.parseBody(stops)
	if err != nil {
		return nil, "", err
	}
	if kw == "" {
		return nil, "", fmt.Errorf("%w: missing {%% %s %%}", ErrSyntax, end)
	}
	return body, kw, nil
}

func (p *parser) parseStmt(kw string, ep *exprParser, line int) (node, error) {
	switch kw {
	case "if":
		n := &ifNode{}
		c, err := ep.parseExpr()
		if err == nil {
			err = ep.done()
		}
		if err != nil {
			return nil, err
		}
		for {
			body, stop, err := p.expectEnd([]string{"elif", "else", "endif"}, "endif")
			if err != nil {
				return nil, err
			}
			n.conds = append(n.conds, c)
			n.bodies = append(n.bodies, body)
			switch stop {
			case "elif":
				sp := &exprParser{toks: p.stopToks, pos: 1}
				if c, err = sp.parseExpr(); err == nil {
					err = sp.done()
				}
				if err != nil {
					return nil, lineErr(p.stopLine, err)
				}
				continue
			case "else":
				els, _, err := p.expectEnd([]string{"endif"}, "endif")
				if err != nil {
					return nil, err
				}
				n.els = els
			}
			return n, nil
		}
	case "for":
		n := &forNode{line: line}
		for {
			name, err := ep.expectName()
			if err != nil {
				return nil, err
			}
			n.targets = append(n.targets, name)
			if !ep.isOp(",") {
				break
			}
			ep.pos++
		}
		if !ep.isName("in") {
			return nil, fmt.Errorf("%w: expected 'in' in for", ErrSyntax)
		}
		ep.pos++
		// The iterable may not contain a bare conditional expression: `if` starts the filter.
		iter, err := ep.parseOr()
		if err != nil {
			return nil, err
		}
		n.iter = iter
		if ep.isName("if") {
			ep.pos++
			if n.filter, err = ep.parseExpr(); err != nil {
				return nil, err
			}
		}
		if ep.isName("recursive") {
			return nil, fmt.Errorf("%w: recursive loops are not supported", ErrSyntax)
		}
		if err := ep.done(); err != nil {
			return nil, err
		}
		body, stop, err := p.expectEnd([]string{"else", "endfor"}, "endfor")
		if err != nil {
			return nil, err
		}
		n.body = body
		if stop == "else" {
			if n.els, _, err = p.expectEnd([]string{"endfor"}, "endfor"); err != nil {
				return nil, err
			}
		}
		return n, nil
	case "set":
		n := &setNode{line: line}
		name, err := ep.expectName()
		if err != nil {
			return nil, err
		}
		if ep.isOp(".") {
			ep.pos++
			attr, err := ep.expectName()
			if err != nil {
				return nil, err
			}
			n.attrOf, n.targets = name, []string{attr}
		} else {
			n.targets = []string{name}
			for ep.isOp(",") {
				ep.pos++
				nm, err := ep.expectName()
				if err != nil {
					return nil, err
				}
				n.targets = append(n.targets, nm)
			}
		}
		if ep.isOp("=") {
			ep.pos++
			if n.x, err = ep.parseTupleOrExpr(); err != nil {
				return nil, err
			}
			return n, ep.done()
		}
		if err := ep.done(); err != nil {
			return nil, err
		}
		if n.attrOf != "" || len(n.targets) != 1 {
			return nil, fmt.Errorf("%w: block set needs a single name", ErrSyntax)
		}
		if n.body, _, err = p.expectEnd([]string{"endset"}, "endset"); err != nil {
			return nil, err
		}
		return n, nil
	case "macro":
		n := &macroNode{}
		name, err := ep.expectName()
		if err != nil {
			return nil, err
		}
		n.name = name
		if err := ep.expectOp("("); err != nil {
			return nil, err
		}
		for !ep.isOp(")") {
			pn, err := ep.expectName()
			if err != nil {
				return nil, err
			}
			var def expr
			if ep.isOp("=") {
				ep.pos++
				if def, err = ep.parseExpr(); err != nil {
					return nil, err
				}
			}
			n.params = append(n.params, pn)
			n.defaults = append(n.defaults, def)
			if !ep.isOp(",") {
				break
			}
			ep.pos++
		}
		if err := ep.expectOp(")"); err != nil {
			return nil, err
		}
		if err := ep.done(); err != nil {
			return nil, err
		}
		if n.body, _, err = p.expectEnd([]string{"endmacro"}, "endmacro"); err != nil {
			return nil, err
		}
		return n, nil
	case "call":
		x, err := ep.parseExpr()
		if err != nil {
			return nil, err
		}
		c, ok := x.(*callExpr)
		if !ok {
			return nil, fmt.Errorf("%w: call block needs a macro call", ErrSyntax)
		}
		if err := ep.done(); err != nil {
			return nil, err
		}
		body, _, err := p.expectEnd([]string{"endcall"}, "endcall")
		if err != nil {
			return nil, err
		}
		return &callBlockNode{call: c, body: body}, nil
	case "filter":
		f := &filterExpr{}
		name, err := ep.expectName()
		if err != nil {
			return nil, err
		}
		f.name = name
		if ep.isOp("(") {
			ep.pos++
			if f.args, f.kwargs, err = ep.parseArgs(); err != nil {
				return nil, err
			}
		}
		if err := ep.done(); err != nil {
			return nil, err
		}
		body, _, err := p.expectEnd([]string{"endfilter"}, "endfilter")
		if err != nil {
			return nil, err
		}
		return &filterBlockNode{filter: f, body: body}, nil
	case "generation":
		if err := ep.done(); err != nil {
			return nil, err
		}
		body, _, err := p.expectEnd([]string{"endgeneration"}, "endgeneration")
		if err != nil {
			return nil, err
		}
		return &generationNode{body: body}, nil
	case "break":
		return &breakNode{}, ep.done()
	case "continue":
		return &continueNode{}, ep.done()
	}
	return nil, fmt.Errorf("%w: unknown statement %q", ErrSyntax, kw)
}
