package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/whet-dev/whet/internal/dataset"
)

// Synthesis pair types, recorded as metadata["synthesis"] on every record.
const (
	SynthHeading    = "heading"    // "What does the X say about Y?" → the section's first paragraph
	SynthDefinition = "definition" // "What does X mean?" → the defining sentence or glossary line
	SynthProcedure  = "procedure"  // "How do I X?" → the numbered or bulleted steps
	SynthTable      = "table"      // a question about one table row → that row
	SynthRefusal    = "refusal"    // a topic absent from every document → a "not in the documents" answer
)

// DefaultRefusalAnswer is the answer of refusal pairs; %s is the topic.
const DefaultRefusalAnswer = "The documents do not contain information about %s, so I cannot answer that from them."

// SynthConfig is the "synthesize" part of ProcessConfig: extractive
// question–answer pairs made from the processed documents of the new version
// and written as a new version of an instruction dataset the caller created.
// Every answer (except refusals) is a byte span of a processed document,
// cited in metadata["citation"]. The output depends only on the documents
// and this config (Seed included).
type SynthConfig struct {
	// TargetDatasetID is the instruction dataset that receives the pairs.
	TargetDatasetID string `json:"target_dataset_id"`
	// Seed orders refusal topics and sampling; default "whet".
	Seed string `json:"seed,omitempty"`
	// Types limits the pair types (heading, definition, procedure, table,
	// refusal); empty means all.
	Types []string `json:"types,omitempty"`
	// MaxPairs caps the extractive pairs (a seeded sample); 0 keeps all.
	MaxPairs int `json:"max_pairs,omitempty"`
	// Refusals is the number of refusal pairs; 0 means one per ten
	// extractive pairs (at least one), -1 none.
	Refusals int `json:"refusals,omitempty"`
	// RefusalAnswer replaces DefaultRefusalAnswer; a %s is the topic.
	RefusalAnswer string `json:"refusal_answer,omitempty"`
	// MaxAnswerChars drops pairs whose answer is longer; default 2000.
	MaxAnswerChars int `json:"max_answer_chars,omitempty"`
}

// Validate checks the synthesis config.
func (c *SynthConfig) Validate() error {
	if c == nil {
		return nil
	}
	if c.TargetDatasetID == "" {
		return fmt.Errorf("%w: synthesize: target_dataset_id is required", ErrConfig)
	}
	for _, t := range c.Types {
		switch t {
		case SynthHeading, SynthDefinition, SynthProcedure, SynthTable, SynthRefusal:
		default:
			return fmt.Errorf("%w: synthesize: unknown type %q (heading, definition, procedure, table, refusal)", ErrConfig, t)
		}
	}
	if c.MaxPairs < 0 || c.Refusals < -1 || c.MaxAnswerChars < 0 {
		return fmt.Errorf("%w: synthesize: max_pairs, refusals and max_answer_chars must not be negative (refusals may be -1)", ErrConfig)
	}
	return nil
}

func (c SynthConfig) withDefaults() SynthConfig {
	if c.Seed == "" {
		c.Seed = "whet"
	}
	if c.RefusalAnswer == "" {
		c.RefusalAnswer = DefaultRefusalAnswer
	}
	if c.MaxAnswerChars == 0 {
		c.MaxAnswerChars = 2000
	}
	return c
}

func (c SynthConfig) wants(t string) bool {
	if len(c.Types) == 0 {
		return true
	}
	for _, x := range c.Types {
		if x == t {
			return true
		}
	}
	return false
}

// SynthDoc is one processed document given to Synthesize.
type SynthDoc struct {
	Fingerprint string   // the document's fingerprint (manifest item id)
	TextDigest  string   // blob digest of Text (manifest item digest)
	SourceURI   string   // where the document came from
	Title       string   // document title; empty: the first heading
	Headings    []string // known heading titles (from extraction); empty: guessed from the text
	Text        string   // processed text, paragraphs separated by blank lines
	// Timestamp is the document's metadata timestamp (RFC 3339), copied
	// to the records made from it so that freshness windows apply to them.
	Timestamp string
}

// SynthReport says what synthesis made.
type SynthReport struct {
	TargetDatasetID string         `json:"target_dataset_id"`
	Version         string         `json:"version,omitempty"`
	LineageHash     string         `json:"lineage_hash,omitempty"`
	Created         bool           `json:"created"`
	Pairs           int            `json:"pairs"`
	ByType          map[string]int `json:"by_type"`
}

// Synthesize makes extractive instruction records from documents: questions
// from headings, definitions, numbered procedures and table rows, each
// answered by a span of the document cited in metadata["citation"]
// ({fingerprint, text_digest, start, end, source_uri, section}), plus
// refusal pairs for built-in topics that no document mentions. The result is
// deterministic for the same documents (in any order) and config.
func Synthesize(docs []SynthDoc, cfg SynthConfig) []dataset.Record {
	cfg = cfg.withDefaults()
	sorted := append([]SynthDoc(nil), docs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Fingerprint < sorted[j].Fingerprint })
	var out []dataset.Record
	seenQ := map[string]bool{}
	for _, d := range sorted {
		for _, r := range synthDoc(d, cfg) {
			q := strings.ToLower(r.Instruction)
			if seenQ[q] {
				continue
			}
			seenQ[q] = true
			out = append(out, r)
		}
	}
	if cfg.MaxPairs > 0 && len(out) > cfg.MaxPairs {
		sort.SliceStable(out, func(i, j int) bool { return seededKey(cfg.Seed, out[i].ID) < seededKey(cfg.Seed, out[j].ID) })
		out = out[:cfg.MaxPairs]
		sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	}
	if cfg.wants(SynthRefusal) && cfg.Refusals >= 0 {
		n := cfg.Refusals
		if n == 0 {
			n = max(1, len(out)/10)
		}
		out = append(out, refusals(sorted, cfg, n)...)
	}
	return out
}

func seededKey(seed, id string) string {
	sum := sha256.Sum256([]byte(seed + "\x00" + id))
	return hex.EncodeToString(sum[:8])
}

// para is a trimmed paragraph and its byte span in the document text.
type para struct {
	text       string
	start, end int
}

func paragraphs(text string) []para {
	var out []para
	pos := 0
	for pos < len(text) {
		end := strings.Index(text[pos:], "\n\n")
		seg := text[pos:]
		if end >= 0 {
			seg = text[pos : pos+end]
		}
		lead := len(seg) - len(strings.TrimLeftFunc(seg, unicode.IsSpace))
		trimmed := strings.TrimSpace(seg)
		if trimmed != "" {
			out = append(out, para{text: trimmed, start: pos + lead, end: pos + lead + len(trimmed)})
		}
		if end < 0 {
			break
		}
		pos += end + 2
	}
	return out
}

var (
	numberedItem = regexp.MustCompile(`^\(?\d{1,2}[.)]\s+\S`)
	bulletItem   = regexp.MustCompile(`^[-*•]\s+\S`)
	// A glossary line: "- Term: definition" (term of at most six words).
	glossaryLine = regexp.MustCompile(`^(?:[-*•]\s+)?([\p{Lu}0-9][^:\n]{0,60}?):\s+(\S.{10,})$`)
	// A defining sentence: "X means Y", "X is defined as Y", "X refers to Y".
	definingVerb = regexp.MustCompile(`\s(means|is defined as|are defined as|refers to|stands for)\s`)
)

func isListPara(p string) (numbered, ok bool) {
	first, _, _ := strings.Cut(p, "\n")
	if numberedItem.MatchString(first) {
		return true, true
	}
	return false, bulletItem.MatchString(first)
}

// isPipePara says whether every line of a paragraph is a table row
// ("a | b").
func isPipePara(p string) bool {
	for _, l := range strings.Split(p, "\n") {
		if !strings.Contains(l, " | ") {
			return false
		}
	}
	return true
}

// looksLikeHeading guesses headings when extraction recorded none: a short
// single line without closing punctuation that is not a list item or table.
func looksLikeHeading(p para) bool {
	if strings.Contains(p.text, "\n") || len(p.text) > 80 || strings.Contains(p.text, " | ") {
		return false
	}
	if _, ok := isListPara(p.text); ok {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(p.text)
	if strings.ContainsRune(".:;?!,·", last) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(p.text)
	return unicode.IsUpper(first) && len(strings.Fields(p.text)) <= 8
}

type synthCtx struct {
	doc   SynthDoc
	cfg   SynthConfig
	title string
	out   []dataset.Record
}

func (s *synthCtx) add(typ, question string, start, end int, section string) {
	if !s.cfg.wants(typ) || start >= end {
		return
	}
	answer := s.doc.Text[start:end]
	if n := utf8.RuneCountInString(answer); n < 3 || n > s.cfg.MaxAnswerChars {
		return
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", typ, s.doc.Fingerprint, start, end, question)))
	cite := map[string]any{"fingerprint": s.doc.Fingerprint, "text_digest": s.doc.TextDigest, "start": start, "end": end}
	if s.doc.SourceURI != "" {
		cite["source_uri"] = s.doc.SourceURI
	}
	if section != "" {
		cite["section"] = section
	}
	meta := map[string]any{"synthesis": typ, "citation": cite}
	if s.doc.Timestamp != "" {
		meta["timestamp"] = s.doc.Timestamp
	}
	s.out = append(s.out, dataset.Record{ID: "syn_" + hex.EncodeToString(sum[:12]), Instruction: question, Output: answer, Metadata: meta})
}

func synthDoc(d SynthDoc, cfg SynthConfig) []dataset.Record {
	ps := paragraphs(d.Text)
	if len(ps) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, h := range d.Headings {
		if h = strings.TrimSpace(h); h != "" {
			known[h] = true
		}
	}
	isHeading := func(p para) bool {
		if len(known) > 0 {
			return known[p.text]
		}
		return looksLikeHeading(p)
	}
	s := &synthCtx{doc: d, cfg: cfg, title: strings.TrimSpace(d.Title)}
	if s.title == "" && isHeading(ps[0]) {
		s.title = ps[0].text
	}
	// Definitions anywhere in the text.
	for _, p := range ps {
		s.definitions(p)
	}
	for i := 0; i < len(ps); i++ {
		if !isHeading(ps[i]) {
			continue
		}
		heading := ps[i].text
		j := i + 1
		var body []para
		for ; j < len(ps) && !isHeading(ps[j]); j++ {
			body = append(body, ps[j])
		}
		if len(body) == 0 {
			continue
		}
		isTitle := i == 0 && heading == s.title
		numbered, list := isListPara(body[0].text)
		switch {
		case list:
			k := 0
			for k < len(body) {
				if _, ok := isListPara(body[k].text); !ok {
					break
				}
				k++
			}
			if numbered && procedureHeading(heading) || stepsHeading(heading) {
				s.add(SynthProcedure, s.procedureQuestion(heading), body[0].start, body[k-1].end, heading)
			} else if !isTitle && !s.hasDefinitions(body[:k]) {
				s.add(SynthHeading, s.headingQuestion(heading, false), body[0].start, body[k-1].end, heading)
			}
		case isPipePara(body[0].text):
		default:
			// The first paragraph of prose answers the heading's question
			// (bylines and "Owner: … Version …" lines are skipped).
			for _, b := range body {
				if isProse(b.text) {
					s.add(SynthHeading, s.headingQuestion(heading, isTitle), b.start, b.end, heading)
					break
				}
			}
		}
		// Tables anywhere in the section: one or more paragraphs of rows.
		for k := 0; k < len(body); k++ {
			if !isPipePara(body[k].text) {
				continue
			}
			first := k
			for k+1 < len(body) && isPipePara(body[k+1].text) {
				k++
			}
			s.table(heading, body[first:k+1])
		}
	}
	return s.out
}

var genericSteps = map[string]bool{"steps": true, "procedure": true, "process": true, "instructions": true, "how to": true, "what to do": true}

func stepsHeading(h string) bool {
	l := strings.ToLower(h)
	return genericSteps[l] || strings.HasPrefix(l, "how to ") || strings.Contains(l, "steps") || strings.Contains(l, "procedure")
}

// imperatives are verbs a procedure heading may start with ("Rotate the keys").
var imperatives = map[string]bool{"add": true, "apply": true, "approve": true, "book": true, "cancel": true, "change": true,
	"claim": true, "close": true, "configure": true, "connect": true, "create": true, "delete": true, "deploy": true,
	"disable": true, "enable": true, "escalate": true, "file": true, "get": true, "handle": true, "install": true,
	"invite": true, "migrate": true, "offboard": true, "onboard": true, "open": true, "prepare": true, "raise": true,
	"reconcile": true, "register": true, "remove": true, "renew": true, "report": true, "request": true, "reset": true,
	"restore": true, "review": true, "revoke": true, "rotate": true, "run": true, "send": true, "set": true,
	"submit": true, "update": true, "upgrade": true}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || n == 0 {
		return s
	}
	// Keep acronyms and proper names ("SSO setup", "DHL") as written.
	if len(s) > n {
		if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
			return s
		}
	}
	return string(unicode.ToLower(r)) + s[n:]
}

func (s *synthCtx) procedureQuestion(heading string) string {
	subject := heading
	lh := strings.ToLower(heading)
	if (genericSteps[lh] || strings.HasSuffix(lh, " steps") || strings.HasSuffix(lh, " procedure")) && s.title != "" {
		subject = s.title
	}
	l := strings.ToLower(subject)
	if strings.HasPrefix(l, "how to ") {
		return "How do I " + subject[len("how to "):] + "?"
	}
	first := strings.ToLower(strings.Fields(subject)[0])
	if imperatives[first] {
		return "How do I " + lowerFirst(subject) + "?"
	}
	return "What are the steps for " + lowerFirst(subject) + "?"
}

func (s *synthCtx) titleRef() string {
	t := s.title
	if t == "" {
		return "the documents"
	}
	l := strings.ToLower(t)
	if strings.HasPrefix(l, "the ") || strings.HasPrefix(l, "a ") || strings.HasPrefix(l, "an ") {
		return t
	}
	f := strings.Fields(l)
	switch strings.Trim(f[len(f)-1], ".:") {
	case "policy", "procedure", "agreement", "checklist", "notes", "review", "guide", "handbook", "overview", "catalogue",
		"catalog", "questions", "whitepaper", "register", "glossary", "manual", "standard", "plan", "report", "faq":
		return "the " + t
	}
	return fmt.Sprintf("the %q document", t)
}

func (s *synthCtx) headingQuestion(heading string, isTitle bool) string {
	if strings.HasSuffix(heading, "?") {
		// FAQ headings are questions already.
		return heading
	}
	if isTitle {
		first := strings.ToLower(strings.Fields(heading)[0])
		if strings.HasSuffix(first, "ing") || imperatives[first] {
			return "What does " + s.titleRef() + " cover?"
		}
		return "What is " + s.titleRef() + "?"
	}
	return "What does " + s.titleRef() + " say about " + lowerFirst(heading) + "?"
}

// isProse says whether a paragraph reads as a sentence or more: six words or
// more, closing punctuation, not a "Key: value" metadata line.
func isProse(p string) bool {
	if isPipePara(p) || len(strings.Fields(p)) < 6 {
		return false
	}
	if _, ok := isListPara(p); ok {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(p)
	if !strings.ContainsRune(".!?)", last) {
		return false
	}
	l := strings.ToLower(p)
	return !strings.HasPrefix(l, "owner:") && !strings.HasPrefix(l, "author:") && !strings.HasPrefix(l, "last updated")
}

// procedureHeading says whether a numbered list under the heading is a
// procedure: the heading names an activity ("Submitting expenses", "Rotate
// the keys", "How to …") or steps.
func procedureHeading(h string) bool {
	f := strings.Fields(strings.ToLower(h))
	if len(f) == 0 {
		return false
	}
	return stepsHeading(h) || imperatives[f[0]] || strings.HasSuffix(f[0], "ing") && len(f[0]) > 5
}

// table makes one pair per row of a table given as consecutive row
// paragraphs; the first row is the header.
func (s *synthCtx) table(heading string, ps []para) {
	type line struct {
		text  string
		start int
	}
	var lines []line
	for _, p := range ps {
		off := p.start
		for _, l := range strings.Split(p.text, "\n") {
			lines = append(lines, line{l, off})
			off += len(l) + 1
		}
	}
	if len(lines) < 2 {
		return
	}
	header := splitRow(lines[0].text)
	where := fmt.Sprintf("the %q table of %s", heading, s.titleRef())
	if heading == s.title {
		where = "the table in " + s.titleRef()
	}
	for _, ln := range lines[1:] {
		cells := splitRow(ln.text)
		if len(cells) < 2 || cells[0] == "" {
			continue
		}
		var q string
		if len(header) == 2 && header[1] != "" {
			q = fmt.Sprintf("According to %s, what is listed under %q for %q?", where, header[1], cells[0])
		} else {
			q = fmt.Sprintf("According to %s, what are the details for %q?", where, cells[0])
		}
		s.add(SynthTable, q, ln.start, ln.start+len(ln.text), heading)
	}
}

func splitRow(line string) []string {
	cells := strings.Split(line, " | ")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func (s *synthCtx) hasDefinitions(ps []para) bool {
	for _, p := range ps {
		for _, line := range strings.Split(p.text, "\n") {
			if glossaryLine.MatchString(line) {
				return true
			}
		}
	}
	return false
}

// definitions finds glossary lines ("- Term: definition") and defining
// sentences ("X means Y") in a paragraph.
func (s *synthCtx) definitions(p para) {
	if isPipePara(p.text) {
		return
	}
	off := p.start
	for _, line := range strings.Split(p.text, "\n") {
		start := off
		off += len(line) + 1
		if m := glossaryLine.FindStringSubmatchIndex(line); m != nil {
			term, def := line[m[2]:m[3]], line[m[4]:m[5]]
			if n := len(strings.Fields(term)); n >= 1 && n <= 6 && goodDefinition(term, def) {
				s.add(SynthDefinition, "What does "+strings.TrimSpace(term)+" mean?", start+m[2], start+len(line), "")
				continue
			}
		}
		// Defining sentences: split the line into sentences.
		sentStart := 0
		for i := 0; i <= len(line); i++ {
			if i < len(line) && !(line[i] == '.' && (i+1 == len(line) || line[i+1] == ' ')) {
				continue
			}
			end := i
			if i < len(line) {
				end = i + 1
			}
			sent := line[sentStart:end]
			lead := len(sent) - len(strings.TrimLeft(sent, " "))
			s.definingSentence(strings.TrimSpace(sent), start+sentStart+lead)
			sentStart = end
		}
	}
}

// notTerms are "Key: value" labels that are metadata, not glossary terms.
var notTerms = map[string]bool{"owner": true, "author": true, "requester": true, "approver": true, "date": true, "version": true,
	"effective": true, "updated": true, "status": true, "note": true, "contact": true, "email": true, "phone": true, "to": true,
	"from": true, "subject": true, "cc": true, "example": true, "tip": true, "warning": true}

// goodDefinition rejects glossary-shaped lines that are not definitions:
// numbered steps ("Step 4: …", "2. …"), metadata labels and short values.
func goodDefinition(term, def string) bool {
	lt := strings.ToLower(strings.TrimSpace(term))
	if notTerms[lt] || strings.HasPrefix(lt, "step ") || strings.HasPrefix(lt, "phase ") || numberedItem.MatchString(term+" x") {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(lt); unicode.IsDigit(r) {
		return false
	}
	return len(strings.Fields(def)) >= 5 && !strings.HasPrefix(strings.TrimSpace(def), "[")
}

func (s *synthCtx) definingSentence(sent string, start int) {
	loc := definingVerb.FindStringIndex(sent)
	if loc == nil {
		return
	}
	subject := strings.TrimSpace(sent[:loc[0]])
	subject = strings.TrimPrefix(strings.TrimPrefix(subject, "- "), "* ")
	words := strings.Fields(subject)
	if len(words) == 0 || len(words) > 6 || len(sent)-loc[1] < 10 {
		return
	}
	first, _ := utf8.DecodeRuneInString(subject)
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return
	}
	lw := strings.ToLower(words[0])
	if lw == "this" || lw == "it" || lw == "that" || lw == "which" {
		return
	}
	s.add(SynthDefinition, "What does "+subject+" mean?", start, start+len(sent), "")
}

// refusalTopic is a question about a topic, absent from a corpus when none
// of its keywords appears in any document.
type refusalTopic struct {
	topic, question string
	keywords        []string
}

var refusalTopics = []refusalTopic{
	{"cryptocurrency payments", "Can customers pay invoices in cryptocurrency?", []string{"crypto", "bitcoin", "ethereum"}},
	{"the company pension scheme", "How much does the company contribute to the pension scheme?", []string{"pension", "retirement"}},
	{"pet policy", "Can I bring my dog to the office?", []string{"dog", "pet "}},
	{"company car allowance", "How much is the company car allowance?", []string{"company car", "car allowance"}},
	{"stock options", "When do my stock options vest?", []string{"stock option", "vesting", "vest "}},
	{"the office gym", "What are the opening hours of the office gym?", []string{"gym", "fitness"}},
	{"parking permits", "How do I get a parking permit for the office car park?", []string{"parking", "car park"}},
	{"the sabbatical policy", "After how many years can I take a sabbatical?", []string{"sabbatical"}},
	{"mainframe integration", "Does the product integrate with IBM mainframes?", []string{"mainframe"}},
	{"blockchain tracking", "Does the platform record shipments on a blockchain?", []string{"blockchain"}},
	{"drone deliveries", "Can the platform plan drone deliveries?", []string{"drone"}},
	{"the employee referral bonus", "How large is the employee referral bonus?", []string{"referral bonus", "referral"}},
	{"the office canteen", "What time does the canteen serve lunch?", []string{"canteen", "cafeteria"}},
	{"tuition reimbursement", "Does the company pay for a master's degree?", []string{"tuition", "master's degree", "degree"}},
	{"the on-site childcare", "Is there childcare at the head office?", []string{"childcare", "nursery", "daycare"}},
	{"the carbon offsetting programme", "Which carbon offset projects does the company fund?", []string{"carbon offset", "offsetting"}},
	{"the bicycle scheme", "How do I join the cycle-to-work scheme?", []string{"cycle", "bicycle", "bike"}},
	{"quantum-safe encryption", "Is the API protected by post-quantum encryption?", []string{"quantum"}},
	{"the company choir", "When does the company choir rehearse?", []string{"choir"}},
	{"an on-premises edition", "Is there an on-premises edition for air-gapped data centres?", []string{"air-gapped", "on-premises", "on premises"}},
	{"a mobile game", "Does the company publish a mobile game?", []string{"video game", "mobile game"}},
	{"maritime shipping insurance", "Does the product insure ocean freight containers?", []string{"marine insurance", "ocean freight"}},
	{"the volunteering days", "How many paid volunteering days do employees get?", []string{"volunteer"}},
	{"the stock price", "What was the company's share price last quarter?", []string{"share price", "stock price", "nasdaq"}},
}

func refusals(docs []SynthDoc, cfg SynthConfig, n int) []dataset.Record {
	var corpus strings.Builder
	for _, d := range docs {
		corpus.WriteString(strings.ToLower(d.Text))
		corpus.WriteByte('\n')
	}
	all := corpus.String()
	var absent []refusalTopic
	for _, t := range refusalTopics {
		found := false
		for _, k := range t.keywords {
			if strings.Contains(all, k) {
				found = true
				break
			}
		}
		if !found {
			absent = append(absent, t)
		}
	}
	sort.Slice(absent, func(i, j int) bool {
		return seededKey(cfg.Seed, absent[i].question) < seededKey(cfg.Seed, absent[j].question)
	})
	if n > len(absent) {
		n = len(absent)
	}
	out := make([]dataset.Record, 0, n)
	for _, t := range absent[:n] {
		answer := cfg.RefusalAnswer
		answer = strings.ReplaceAll(answer, "%s", t.topic)
		sum := sha256.Sum256([]byte("refusal\x00" + t.question))
		out = append(out, dataset.Record{ID: "syn_" + hex.EncodeToString(sum[:12]), Instruction: t.question, Output: answer,
			Metadata: map[string]any{"synthesis": SynthRefusal, "topic": t.topic, "checked_documents": len(docs)}})
	}
	return out
}
