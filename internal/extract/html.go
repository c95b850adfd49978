package extract

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLDepth bounds recursion on deeply nested markup.
const maxHTMLDepth = 512

// extractHTML keeps the main content of a page: boilerplate elements are
// dropped, <main> or <article> is preferred, otherwise the element holding
// the densest run of paragraph text.
func extractHTML(ctx context.Context, text string) (*Document, error) {
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	meta := map[string]string{}
	var title string
	walk(root, 0, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return true
		}
		switch n.DataAtom {
		case atom.Title:
			if title == "" {
				title = collapseSpace(textOf(n))
			}
		case atom.Html:
			if l := attr(n, "lang"); l != "" {
				meta["language"] = l
			}
		case atom.Meta:
			name := strings.ToLower(attr(n, "name"))
			if name == "" {
				name = strings.ToLower(attr(n, "property"))
			}
			content := strings.TrimSpace(attr(n, "content"))
			switch name {
			case "author", "article:author", "dc.creator":
				meta["author"] = content
			case "date", "dc.date", "article:published_time", "dcterms.created":
				meta["created"] = content
			case "last-modified", "article:modified_time", "dcterms.modified":
				meta["modified"] = content
			case "description":
				meta["description"] = content
			}
		}
		return true
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body := findFirst(root, func(n *html.Node) bool { return n.DataAtom == atom.Body })
	if body == nil {
		body = root
	}
	pruneBoilerplate(body, 0)
	main := mainContent(body)
	r := &htmlRenderer{}
	r.render(main, 0)
	r.flush()
	doc := r.b.document()
	if title != "" {
		doc.Title = title
	}
	for k, v := range meta {
		if v != "" {
			doc.Metadata[k] = v
		}
	}
	return doc, nil
}

func walk(n *html.Node, depth int, f func(*html.Node) bool) {
	if depth > maxHTMLDepth || !f(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, depth+1, f)
	}
}

func findFirst(n *html.Node, pred func(*html.Node) bool) *html.Node {
	var found *html.Node
	walk(n, 0, func(x *html.Node) bool {
		if found != nil {
			return false
		}
		if x.Type == html.ElementNode && pred(x) {
			found = x
			return false
		}
		return true
	})
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, 0, func(x *html.Node) bool {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
		return true
	})
	return b.String()
}

// boilerplateTags are removed with their subtree.
var boilerplateTags = map[atom.Atom]bool{
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Script: true,
	atom.Style: true, atom.Form: true, atom.Noscript: true, atom.Svg: true, atom.Iframe: true,
	atom.Template: true, atom.Button: true, atom.Select: true, atom.Input: true, atom.Textarea: true,
	atom.Object: true, atom.Embed: true, atom.Canvas: true, atom.Dialog: true, atom.Menu: true,
	atom.Link: true, atom.Meta: true,
}

var boilerplateRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true, "search": true,
	"menu": true, "menubar": true, "dialog": true, "alert": true,
}

// boilerplateWords in a class or id mark navigation chrome.
var boilerplateWords = []string{"cookie", "breadcrumb", "sidebar", "navbar", "site-nav", "site-footer", "site-header", "skip-link", "advert", "share-buttons", "newsletter"}

func isBoilerplate(n *html.Node) bool {
	if n.Type == html.CommentNode {
		return true
	}
	if n.Type != html.ElementNode {
		return false
	}
	if boilerplateTags[n.DataAtom] {
		return true
	}
	if boilerplateRoles[strings.ToLower(attr(n, "role"))] {
		return true
	}
	if _, hidden := attrOK(n, "hidden"); hidden || strings.EqualFold(attr(n, "aria-hidden"), "true") {
		return true
	}
	style := strings.ReplaceAll(strings.ToLower(attr(n, "style")), " ", "")
	if strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden") {
		return true
	}
	marks := strings.ToLower(attr(n, "class") + " " + attr(n, "id"))
	for _, w := range boilerplateWords {
		if strings.Contains(marks, w) {
			return true
		}
	}
	return false
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func pruneBoilerplate(n *html.Node, depth int) {
	if depth > maxHTMLDepth {
		return
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if isBoilerplate(c) {
			n.RemoveChild(c)
		} else {
			pruneBoilerplate(c, depth+1)
		}
		c = next
	}
}

// mainContent picks <main>, role=main, the longest <article>, or the
// container with the most paragraph text (direct children count fully,
// grandchildren half, as in the readability heuristics).
func mainContent(body *html.Node) *html.Node {
	if m := findFirst(body, func(n *html.Node) bool {
		return n.DataAtom == atom.Main || strings.EqualFold(attr(n, "role"), "main")
	}); m != nil {
		return m
	}
	var best *html.Node
	bestLen := 0
	walk(body, 0, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.DataAtom == atom.Article {
			if l := len(collapseSpace(textOf(n))); l > bestLen {
				best, bestLen = n, l
			}
			return false
		}
		return true
	})
	if best != nil && bestLen*2 >= len(collapseSpace(textOf(body))) {
		return best
	}
	scores := map[*html.Node]float64{}
	order := map[*html.Node]int{}
	walk(body, 0, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return true
		}
		order[n] = len(order)
		switch n.DataAtom {
		case atom.P, atom.Pre, atom.Blockquote, atom.Li, atom.Td, atom.H1, atom.H2, atom.H3, atom.H4, atom.Dd:
			l := float64(len(collapseSpace(textOf(n))) - linkTextLen(n))
			if p := n.Parent; p != nil {
				scores[p] += l
				if g := p.Parent; g != nil {
					scores[g] += l / 2
				}
			}
			return false
		}
		return true
	})
	var top *html.Node
	for n, s := range scores {
		if top == nil || s > scores[top] || s == scores[top] && order[n] < order[top] {
			top = n
		}
	}
	if top == nil {
		return body
	}
	// Body text outside the winner that is not link chrome means content is
	// spread over several blocks: keep the whole body then.
	total := float64(len(collapseSpace(textOf(body))) - linkTextLen(body))
	inTop := float64(len(collapseSpace(textOf(top))) - linkTextLen(top))
	if total > 0 && inTop/total < 0.6 {
		return body
	}
	return top
}

func linkTextLen(n *html.Node) int {
	l := 0
	walk(n, 0, func(x *html.Node) bool {
		if x.Type == html.ElementNode && x.DataAtom == atom.A {
			l += len(collapseSpace(textOf(x)))
			return false
		}
		return true
	})
	return l
}

// htmlRenderer flattens markup into blocks for the builder.
type htmlRenderer struct {
	b      builder
	line   strings.Builder // inline text of the current block
	prefix string          // list marker for the current block
}

var blockTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Ul: true,
	atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Blockquote: true, atom.Figure: true,
	atom.Figcaption: true, atom.Address: true, atom.Hr: true, atom.Table: true, atom.Caption: true,
	atom.Details: true, atom.Summary: true, atom.Body: true, atom.Fieldset: true,
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func (r *htmlRenderer) flush() {
	s := collapseSpace(r.line.String())
	r.line.Reset()
	if s != "" {
		r.b.block(r.prefix + s)
	}
	r.prefix = ""
}

func (r *htmlRenderer) render(n *html.Node, depth int) {
	if depth > maxHTMLDepth {
		return
	}
	switch n.Type {
	case html.TextNode:
		r.line.WriteString(n.Data)
		return
	case html.ElementNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.render(c, depth+1)
		}
		return
	}
	if lvl := headingLevel(n.DataAtom); lvl > 0 {
		r.flush()
		r.b.heading(lvl, textOf(n))
		return
	}
	switch n.DataAtom {
	case atom.Br:
		r.line.WriteString(" ")
		return
	case atom.Img:
		return
	case atom.Pre:
		r.flush()
		r.b.block(strings.Trim(normalizeNewlines(textOf(n)), "\n"))
		return
	case atom.Table:
		r.flush()
		r.table(n)
		return
	case atom.Li:
		r.flush()
		r.prefix = "- "
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.render(c, depth+1)
		}
		r.flush()
		return
	}
	if blockTags[n.DataAtom] {
		r.flush()
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.render(c, depth+1)
		}
		r.flush()
		return
	}
	// Inline element (a, span, strong, code, …): its text only; URLs dropped.
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.render(c, depth+1)
	}
}

// table renders each row as cells joined by " | ", one row per line.
func (r *htmlRenderer) table(t *html.Node) {
	var rows []string
	walk(t, 0, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return true
		}
		if n.DataAtom == atom.Caption {
			if s := collapseSpace(textOf(n)); s != "" {
				rows = append(rows, s)
			}
			return false
		}
		if n.DataAtom != atom.Tr {
			return true
		}
		var cells []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
				cells = append(cells, collapseSpace(textOf(c)))
			}
		}
		if len(cells) > 0 {
			rows = append(rows, strings.Join(cells, " | "))
		}
		return false
	})
	r.b.block(strings.Join(rows, "\n"))
}
