package grammar

// frame is one value being parsed. The parse state is a stack of frames; frames are
// plain values so the stack can be copied cheaply while walking the vocabulary trie.
type frame struct {
	n    *node
	st   uint8  // sub-state, meaning depends on n.kind
	ws   uint8  // whitespace bytes in the current run
	pend uint8  // string: UTF-8 continuation bytes still expected
	hex  uint8  // string: hex digits left in a \u escape
	cnt  int32  // string: code points so far; array: items so far; object: current property
	trie int32  // object key / literal trie node
	used uint64 // object: properties already present
	dep  uint8  // nesting depth inside free-form values
}

// Sub-states.
const (
	stStart = 0 // before the value, skipping whitespace

	// object
	obOpen     = 1 // after '{': key or '}'
	obComma    = 2 // after ',': key
	obKey      = 3 // inside a listed key (trie)
	obColon    = 4 // after key: ':'
	obAfterVal = 5 // after value: ',' or '}'
	obFreeKey  = 6 // free-form key string is a child frame; then ':'

	// array
	arOpen     = 1
	arAfterVal = 2

	// string
	strBody   = 1
	strEscape = 2
	strHex    = 3

	// number
	nuMinus = 1
	nuZero  = 2
	nuInt   = 3
	nuDot   = 4
	nuFrac  = 5
	nuE     = 6
	nuESign = 7
	nuExp   = 8

	// literal
	liIn = 1
)

// maxWhitespace bounds a run of whitespace between tokens, so a model cannot stall by
// emitting blanks forever.
const maxWhitespace = 4

func isWS(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// anyObject and anyArray are the free-form containers used by kAny values.
var (
	anyValue  = &node{kind: kAny}
	anyObject = &node{kind: kObject, freeKeys: true, additional: anyValue}
	anyArray  = &node{kind: kArray, items: anyValue, maxItems: -1}
	keyString = &node{kind: kString, maxLen: -1}
)

// step feeds one byte to the stack, in place. It returns the new stack and whether the
// byte was accepted.
func step(stack []frame, b byte) ([]frame, bool) {
	for {
		if len(stack) == 0 {
			return stack, false
		}
		top := &stack[len(stack)-1]
		res := feed(top, b)
		switch res.action {
		case actReject:
			return stack, false
		case actOK:
			return stack, true
		case actDone: // consumed b and finished
			return stack[:len(stack)-1], true
		case actPopRefeed: // finished without consuming b
			stack = stack[:len(stack)-1]
			continue
		case actPush: // consumed b; push child (which starts fresh)
			return append(stack, res.child), true
		case actPushRefeed: // push child and feed b to it
			stack = append(stack, res.child)
			continue
		case actReplace: // replace top with child and refeed b
			*top = res.child
			continue
		}
	}
}

type action uint8

const (
	actReject action = iota
	actOK
	actDone
	actPopRefeed
	actPush
	actPushRefeed
	actReplace
)

type result struct {
	action action
	child  frame
}

var (
	rReject = result{action: actReject}
	rOK     = result{action: actOK}
	rDone   = result{action: actDone}
	rPop    = result{action: actPopRefeed}
)

// skipWS consumes a whitespace byte within the allowed run.
func skipWS(f *frame, b byte) (result, bool) {
	if isWS(b) {
		if f.ws >= maxWhitespace {
			return rReject, true
		}
		f.ws++
		return rOK, true
	}
	f.ws = 0
	return result{}, false
}

func feed(f *frame, b byte) result {
	n := f.n
	switch n.kind {
	case kAny:
		if f.st == stStart {
			if r, ok := skipWS(f, b); ok {
				return r
			}
		}
		var c frame
		switch {
		case b == '{':
			if f.dep >= maxAnyDepth {
				return rReject
			}
			c = frame{n: anyObject, dep: f.dep + 1}
		case b == '[':
			if f.dep >= maxAnyDepth {
				return rReject
			}
			c = frame{n: anyArray, dep: f.dep + 1}
		case b == '"':
			c = frame{n: keyString}
		case b == '-' || b >= '0' && b <= '9':
			c = frame{n: anyNumber}
		case b == 't' || b == 'f' || b == 'n':
			c = frame{n: anyLiteral}
		default:
			return rReject
		}
		return result{action: actReplace, child: c}
	case kAnyOf:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		for _, a := range n.alts {
			if a.starts(b) {
				return result{action: actReplace, child: frame{n: a, dep: f.dep}}
			}
		}
		return rReject
	case kObject:
		return feedObject(f, b)
	case kArray:
		return feedArray(f, b)
	case kString:
		return feedString(f, b)
	case kNumber, kInteger:
		return feedNumber(f, b)
	case kLiteral:
		return feedLiteral(f, b)
	}
	return rReject
}

func init() {
	for _, n := range []*node{anyValue, anyObject, anyArray, keyString, anyNumber, anyLiteral} {
		setFirst(n)
	}
}

var (
	anyNumber  = &node{kind: kNumber}
	anyLiteral = func() *node {
		n := &node{kind: kLiteral, lits: newByteTrie()}
		n.lits.add([]byte("true"), 0)
		n.lits.add([]byte("false"), 1)
		n.lits.add([]byte("null"), 2)
		return n
	}()
)

// valueFrame starts a value of schema n at free-form nesting depth dep.
func valueFrame(n *node, dep uint8) frame { return frame{n: n, dep: dep} }

func feedObject(f *frame, b byte) result {
	n := f.n
	switch f.st {
	case stStart:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b != '{' {
			return rReject
		}
		f.st = obOpen
		return rOK
	case obOpen, obComma:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b == '}' {
			if f.st == obComma || f.used&n.required != n.required {
				return rReject
			}
			return rDone
		}
		if b != '"' {
			return rReject
		}
		if n.freeKeys {
			f.st = obFreeKey
			return result{action: actPushRefeed, child: frame{n: keyString}}
		}
		c, ok := n.keyTrie.next[0][b]
		if !ok || n.keyTrie.subtree[c]&^f.used == 0 {
			return rReject
		}
		f.st, f.trie = obKey, c
		return rOK
	case obKey:
		c, ok := n.keyTrie.next[f.trie][b]
		if !ok || n.keyTrie.subtree[c]&^f.used == 0 {
			return rReject
		}
		f.trie = c
		if p := n.keyTrie.term[c]; p >= 0 {
			// Keys are quoted, so a complete key is never a prefix of another.
			f.cnt = p
			f.used |= 1 << uint(p)
			f.st = obColon
		}
		return rOK
	case obColon, obFreeKey:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b != ':' {
			return rReject
		}
		child := n.additional
		if !n.freeKeys {
			child = n.props[f.cnt]
		}
		f.st = obAfterVal
		return result{action: actPush, child: valueFrame(child, f.dep)}
	case obAfterVal:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		switch b {
		case ',':
			if !n.freeKeys && n.keyTrie.subtree[0]&^f.used == 0 {
				return rReject // every property is already present
			}
			f.st = obComma
			return rOK
		case '}':
			if f.used&n.required != n.required {
				return rReject
			}
			return rDone
		}
	}
	return rReject
}

func feedArray(f *frame, b byte) result {
	n := f.n
	switch f.st {
	case stStart:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b != '[' {
			return rReject
		}
		f.st = arOpen
		return rOK
	case arOpen:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b == ']' {
			if n.minItems > 0 {
				return rReject
			}
			return rDone
		}
		if n.maxItems == 0 || !n.items.starts(b) {
			return rReject
		}
		f.cnt++
		f.st = arAfterVal
		return result{action: actPushRefeed, child: valueFrame(n.items, f.dep)}
	case arAfterVal:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		switch b {
		case ']':
			if int(f.cnt) < n.minItems {
				return rReject
			}
			return rDone
		case ',':
			if n.maxItems >= 0 && int(f.cnt) >= n.maxItems {
				return rReject
			}
			f.cnt++
			return result{action: actPush, child: valueFrame(n.items, f.dep)}
		}
	}
	return rReject
}

func feedString(f *frame, b byte) result {
	n := f.n
	switch f.st {
	case stStart:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		if b != '"' {
			return rReject
		}
		f.st = strBody
		return rOK
	case strBody:
		if f.pend > 0 {
			if b&0xC0 != 0x80 {
				return rReject
			}
			f.pend--
			return rOK
		}
		switch {
		case b == '"':
			if int(f.cnt) < n.minLen {
				return rReject
			}
			return rDone
		case b < 0x20:
			return rReject
		}
		if n.maxLen >= 0 && int(f.cnt) >= n.maxLen {
			return rReject
		}
		switch {
		case b == '\\':
			f.st = strEscape
			return rOK
		case b < 0x80:
		case b&0xE0 == 0xC0 && b >= 0xC2:
			f.pend = 1
		case b&0xF0 == 0xE0:
			f.pend = 2
		case b&0xF8 == 0xF0 && b <= 0xF4:
			f.pend = 3
		default:
			return rReject
		}
		f.cnt++
		return rOK
	case strEscape:
		switch b {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			f.st = strBody
			f.cnt++
			return rOK
		case 'u':
			f.st, f.hex = strHex, 4
			return rOK
		}
		return rReject
	case strHex:
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F') {
			return rReject
		}
		f.hex--
		if f.hex == 0 {
			f.st = strBody
			f.cnt++
		}
		return rOK
	}
	return rReject
}

func feedNumber(f *frame, b byte) result {
	isDigit := b >= '0' && b <= '9'
	integer := f.n.kind == kInteger
	switch f.st {
	case stStart:
		if r, ok := skipWS(f, b); ok {
			return r
		}
		switch {
		case b == '-':
			f.st = nuMinus
		case b == '0':
			f.st = nuZero
		case isDigit:
			f.st = nuInt
		default:
			return rReject
		}
		return rOK
	case nuMinus:
		switch {
		case b == '0':
			f.st = nuZero
		case isDigit:
			f.st = nuInt
		default:
			return rReject
		}
		return rOK
	case nuZero, nuInt:
		switch {
		case isDigit && f.st == nuInt:
			return rOK
		case b == '.' && !integer:
			f.st = nuDot
			return rOK
		case (b == 'e' || b == 'E') && !integer:
			f.st = nuE
			return rOK
		}
		return rPop
	case nuDot:
		if isDigit {
			f.st = nuFrac
			return rOK
		}
		return rReject
	case nuFrac:
		switch {
		case isDigit:
			return rOK
		case b == 'e' || b == 'E':
			f.st = nuE
			return rOK
		}
		return rPop
	case nuE:
		switch {
		case b == '+' || b == '-':
			f.st = nuESign
			return rOK
		case isDigit:
			f.st = nuExp
			return rOK
		}
		return rReject
	case nuESign:
		if isDigit {
			f.st = nuExp
			return rOK
		}
		return rReject
	case nuExp:
		if isDigit {
			return rOK
		}
		return rPop
	}
	return rReject
}

func feedLiteral(f *frame, b byte) result {
	t := f.n.lits
	if f.st == stStart {
		if r, ok := skipWS(f, b); ok {
			return r
		}
		c, ok := t.next[0][b]
		if !ok {
			return rReject
		}
		f.st, f.trie = liIn, c
		if t.term[c] >= 0 && len(t.next[c]) == 0 {
			return rDone
		}
		return rOK
	}
	if c, ok := t.next[f.trie][b]; ok {
		f.trie = c
		if t.term[c] >= 0 && len(t.next[c]) == 0 {
			return rDone
		}
		return rOK
	}
	if t.term[f.trie] >= 0 {
		return rPop
	}
	return rReject
}

// accepting reports whether f could end here (numbers and prefix literals end only when
// the next byte does not continue them).
func accepting(f *frame) bool {
	switch f.n.kind {
	case kNumber, kInteger:
		return f.st == nuZero || f.st == nuInt || f.st == nuFrac || f.st == nuExp
	case kLiteral:
		return f.st == liIn && f.n.lits.term[f.trie] >= 0
	}
	return false
}

// complete reports whether the stack holds a finished top-level value.
func complete(stack []frame) bool {
	if len(stack) == 0 {
		return true
	}
	if len(stack) == 1 {
		return accepting(&stack[0])
	}
	return false
}
