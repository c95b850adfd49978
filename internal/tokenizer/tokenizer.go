package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Tokenizer encodes text to token ids and back as described by a Hugging
// Face tokenizer.json. It is immutable and safe for concurrent use.
type Tokenizer struct {
	source []byte // the tokenizer.json it was parsed from, for Save

	added     []AddedToken
	addedByID map[int]*AddedToken
	addedIDs  map[string]int
	rawAdded  *addedMatcher // added tokens matched on the raw input
	normAdded *addedMatcher // added tokens matched on normalized text

	norm  normalizer
	pre   preTokenizer
	model model
	post  postProcessor
	dec   decoder

	// TokenBytes by id, flat (no per-token pointers for the GC to scan):
	// token id is tokBytes[tokOff[id]:tokOff[id+1]].
	tokBytes []byte
	tokOff   []int32
	tokKnown []bool
	size     int

	bos, eos, pad  int
	addBOS, addEOS bool // from tokenizer_config.json, used when the post-processor adds no tokens
}

// Offset is the byte range [Start, End) of the input that a token covers.
// Special tokens added by the post-processor have an empty range at 0.
type Offset struct {
	Start, End int
}

type fileJSON struct {
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
}

// Load reads a tokenizer from a tokenizer.json file, or from a model folder
// holding tokenizer.json and optionally tokenizer_config.json (for the
// bos/eos/pad token names and add_bos_token/add_eos_token).
func Load(path string) (*Tokenizer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	file := path
	var cfg []byte
	if fi.IsDir() {
		file = filepath.Join(path, "tokenizer.json")
		if b, err := os.ReadFile(filepath.Join(path, "tokenizer_config.json")); err == nil {
			cfg = b
		} else if !os.IsNotExist(err) {
			return nil, fmt.Errorf("load tokenizer: %w", err)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", file, err)
	}
	if cfg != nil {
		if err := t.applyConfig(cfg); err != nil {
			return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
		}
	}
	return t, nil
}

// Parse reads a tokenizer from the bytes of a tokenizer.json file.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if isNull(f.Model) {
		return nil, fmt.Errorf("%w: missing model", ErrFormat)
	}
	t := &Tokenizer{source: data, addedByID: map[int]*AddedToken{}, addedIDs: map[string]int{}}
	var err error
	byteLevel := false
	if t.norm, err = parseNormalizer(f.Normalizer, 0); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, 0, &byteLevel); err != nil {
		return nil, err
	}
	if t.post, err = parsePost(f.PostProcessor, 0); err != nil {
		return nil, err
	}
	if t.dec, err = parseDecoder(f.Decoder, 0); err != nil {
		return nil, err
	}
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, err
	}
	if m, ok := t.model.(*bpe); ok && byteLevel {
		m.setByteLevel()
	}
	t.added = f.AddedTokens
	var rawEntries, normEntries []matchEntry
	for i := range t.added {
		a := &t.added[i]
		if a.ID < 0 || a.ID >= 1<<24 {
			return nil, fmt.Errorf("%w: added token %q has id %d", ErrFormat, a.Content, a.ID)
		}
		if a.Content == "" {
			return nil, fmt.Errorf("%w: added token %d is empty", ErrFormat, a.ID)
		}
		t.addedByID[a.ID] = a
		t.addedIDs[a.Content] = a.ID
		if a.Normalized && t.norm != nil {
			n := t.norm.normalize(span{s: a.Content}, false).s
			if n != "" {
				normEntries = append(normEntries, matchEntry{n, a})
			}
		} else {
			rawEntries = append(rawEntries, matchEntry{a.Content, a})
		}
	}
	t.rawAdded = newAddedMatcher(rawEntries)
	t.normAdded = newAddedMatcher(normEntries)
	t.size = t.model.size()
	for id := range t.addedByID {
		t.size = max(t.size, id+1)
	}
	t.tokOff = make([]int32, t.size+1)
	t.tokKnown = make([]bool, t.size)
	for id := range t.size {
		b := t.computeTokenBytes(id)
		t.tokKnown[id] = b != nil
		t.tokBytes = append(t.tokBytes, b...)
		if len(t.tokBytes) >= 1<<31 {
			return nil, fmt.Errorf("%w: vocabulary too large", ErrFormat)
		}
		t.tokOff[id+1] = int32(len(t.tokBytes))
	}
	t.tokBytes = slices.Clip(t.tokBytes)
	t.bos = t.findToken("<|begin_of_text|>", "<s>", "<bos>", "[CLS]", "<|startoftext|>")
	t.eos = t.findToken("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>", "[SEP]")
	t.pad = t.findToken("<pad>", "[PAD]", "<|pad|>")
	return t, nil
}

func (t *Tokenizer) findToken(names ...string) int {
	for _, n := range names {
		if id, ok := t.TokenToID(n); ok {
			return id
		}
	}
	return -1
}

func parseModel(raw json.RawMessage) (model, error) {
	var j modelJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: model: %v", ErrFormat, err)
	}
	typ := j.Type
	if typ == "" {
		switch {
		case !isNull(j.Merges):
			typ = "BPE"
		case j.MaxInputCharsPerWord != nil:
			typ = "WordPiece"
		case strings.HasPrefix(strings.TrimSpace(string(j.Vocab)), "["):
			typ = "Unigram"
		default:
			return nil, fmt.Errorf("%w: model type missing", ErrFormat)
		}
	}
	switch typ {
	case "BPE":
		var vocab map[string]int
		if err := json.Unmarshal(j.Vocab, &vocab); err != nil {
			return nil, fmt.Errorf("%w: BPE vocab: %v", ErrFormat, err)
		}
		merges, err := parseMerges(j.Merges)
		if err != nil {
			return nil, err
		}
		o := bpeOptions{fuseUnk: j.FuseUnk, byteFallback: j.ByteFallback, ignoreMerges: j.IgnoreMerges}
		if j.UnkToken != nil {
			o.unkToken = *j.UnkToken
		}
		if j.ContinuingSubwordPrefix != nil {
			o.prefix = *j.ContinuingSubwordPrefix
		}
		if j.EndOfWordSuffix != nil {
			o.suffix = *j.EndOfWordSuffix
		}
		return newBPE(vocab, merges, o)
	case "WordPiece":
		var vocab map[string]int
		if err := json.Unmarshal(j.Vocab, &vocab); err != nil {
			return nil, fmt.Errorf("%w: WordPiece vocab: %v", ErrFormat, err)
		}
		vt, err := newVocabTable(vocab)
		if err != nil {
			return nil, err
		}
		m := &wordPiece{vocabTable: vt, unk: -1, prefix: "##", maxChars: 100}
		if j.ContinuingSubwordPrefix != nil {
			m.prefix = *j.ContinuingSubwordPrefix
		}
		if j.MaxInputCharsPerWord != nil {
			m.maxChars = *j.MaxInputCharsPerWord
		}
		unk := "[UNK]"
		if j.UnkToken != nil {
			unk = *j.UnkToken
		}
		if id, ok := vocab[unk]; ok {
			m.unk = id
		}
		m.setMaxLen()
		return m, nil
	case "Unigram":
		return nil, fmt.Errorf("%w: Unigram model (SentencePiece unigram tokenizers are not supported; use a BPE or WordPiece tokenizer)", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: model type %q", ErrUnsupported, typ)
	}
}

// parseMerges reads merges as "a b" strings or as ["a", "b"] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		out := make([][2]string, len(strs))
		for i, s := range strs {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("%w: merge %d %q is not two tokens", ErrFormat, i, s)
			}
			out[i] = [2]string{a, b}
		}
		return out, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		out := make([][2]string, len(pairs))
		for i, p := range pairs {
			if len(p) != 2 {
				return nil, fmt.Errorf("%w: merge %d is not a pair", ErrFormat, i)
			}
			out[i] = [2]string{p[0], p[1]}
		}
		return out, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: merges: %v", ErrFormat, err)
	}
	out := make([][2]string, len(items))
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("%w: merge %d %q is not two tokens", ErrFormat, i, s)
			}
			out[i] = [2]string{a, b}
			continue
		}
		var p []string
		if err := json.Unmarshal(it, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("%w: merge %d is not a pair", ErrFormat, i)
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}

// applyConfig reads tokenizer_config.json.
func (t *Tokenizer) applyConfig(data []byte) error {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("%w: tokenizer_config.json: %v", ErrFormat, err)
	}
	name := func(key string) (string, bool) {
		raw, ok := c[key]
		if !ok || isNull(raw) {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		var obj struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.Content != "" {
			return obj.Content, true
		}
		return "", false
	}
	set := func(key string, dst *int) {
		if raw, ok := c[key]; ok && isNull(raw) {
			*dst = -1
			return
		}
		if s, ok := name(key); ok {
			if id, ok := t.TokenToID(s); ok {
				*dst = id
			} else {
				*dst = -1
			}
		}
	}
	set("bos_token", &t.bos)
	set("eos_token", &t.eos)
	set("pad_token", &t.pad)
	flag := func(key string, dst *bool) {
		if raw, ok := c[key]; ok {
			var b bool
			if json.Unmarshal(raw, &b) == nil {
				*dst = b
			}
		}
	}
	flag("add_bos_token", &t.addBOS)
	flag("add_eos_token", &t.addEOS)
	return nil
}

// Encode returns the token ids of text. With addSpecial the post-processor
// adds its special tokens (BOS and the like); spellings of added tokens in
// the text are matched as those tokens either way.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	toks := t.encode(text, addSpecial, false)
	ids := make([]int, len(toks))
	for i, e := range toks {
		ids[i] = e.id
	}
	return ids
}

// EncodeWithOffsets is Encode that also returns, for every token, the byte
// range of text it covers. Ranges follow the input even through
// normalization (a token of normalized text covers the original characters
// it came from); a byte-level token that holds part of a multi-byte
// character covers just those bytes, so cut text at token boundaries only
// where utf8.RuneStart holds if whole characters are needed.
func (t *Tokenizer) EncodeWithOffsets(text string, addSpecial bool) ([]int, []Offset) {
	toks := t.encode(text, addSpecial, true)
	ids := make([]int, len(toks))
	offs := make([]Offset, len(toks))
	for i, e := range toks {
		ids[i] = e.id
		offs[i] = Offset{e.start, e.end}
	}
	return ids, offs
}

func (t *Tokenizer) encode(text string, addSpecial, track bool) []encTok {
	toks := make([]encTok, 0, len(text)/3+4)
	for _, p := range t.rawAdded.split(text, nil) {
		if p.id >= 0 {
			toks = append(toks, encTok{p.id, p.start, p.end})
			continue
		}
		sp := span{s: text[p.start:p.end], off: p.start}
		first := p.start == 0
		if t.norm != nil {
			sp = t.norm.normalize(sp, track)
		}
		if t.normAdded == nil {
			toks = t.encodeText(sp, first, track, toks)
			continue
		}
		for _, q := range t.normAdded.split(sp.s, nil) {
			if q.id >= 0 {
				o0, o1 := sp.orig(q.start, q.end)
				toks = append(toks, encTok{q.id, o0, o1})
				continue
			}
			toks = t.encodeText(sp.sub(q.start, q.end), first && q.start == 0, track, toks)
		}
	}
	if t.post != nil {
		toks = t.post.process(toks, addSpecial, t)
	}
	if addSpecial && !addsSpecial(t.post) {
		if t.addBOS && t.bos >= 0 {
			toks = append([]encTok{{id: t.bos}}, toks...)
		}
		if t.addEOS && t.eos >= 0 {
			toks = append(toks, encTok{id: t.eos})
		}
	}
	return toks
}

// encodeText pre-tokenizes normalized text and runs the model on each word.
func (t *Tokenizer) encodeText(sp span, first, track bool, toks []encTok) []encTok {
	if sp.s == "" {
		return toks
	}
	words := []span{sp}
	if t.pre != nil {
		words = t.pre.preTokenize(words, ptContext{track: track, first: first})
	}
	var buf []tok
	for _, w := range words {
		buf = t.model.tokenize(w.s, buf[:0])
		for _, m := range buf {
			e := encTok{id: int(m.id)}
			if track {
				e.start, e.end = w.orig(int(m.start), int(m.end))
			}
			toks = append(toks, e)
		}
	}
	return toks
}

// Decode turns ids back into text, dropping special tokens when skipSpecial
// is set. Unknown ids are skipped.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if skipSpecial && t.IsSpecial(id) {
			continue
		}
		if s, ok := t.IDToToken(id); ok {
			tokens = append(tokens, s)
		}
	}
	if t.dec == nil {
		return strings.Join(tokens, " ")
	}
	return strings.Join(t.dec.decodeChain(tokens), "")
}

// TokenToID returns the id of a token string (added tokens first).
func (t *Tokenizer) TokenToID(token string) (int, bool) {
	if id, ok := t.addedIDs[token]; ok {
		return id, true
	}
	return t.model.tokenToID(token)
}

// IDToToken returns the token string of an id.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if a, ok := t.addedByID[id]; ok {
		return a.Content, true
	}
	return t.model.idToToken(id)
}

// VocabSize is one more than the largest id, counting added tokens.
func (t *Tokenizer) VocabSize() int { return t.size }

// BOS returns the beginning-of-sequence id, or -1.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the end-of-sequence id, or -1.
func (t *Tokenizer) EOS() int { return t.eos }

// PAD returns the padding id, or -1.
func (t *Tokenizer) PAD() int { return t.pad }

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool {
	a, ok := t.addedByID[id]
	return ok && a.Special
}

// AddedTokens returns a copy of the added tokens.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added...) }

// TokenBytes returns the raw bytes token id stands for in decoded text (a
// byte-level token's bytes, a byte-fallback token's byte, a SentencePiece
// piece with ▁ as a space, an added token's content). The slice must not be
// modified. It returns nil for an unknown id.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.tokKnown) || !t.tokKnown[id] {
		return nil
	}
	return t.tokBytes[t.tokOff[id]:t.tokOff[id+1]:t.tokOff[id+1]]
}

func (t *Tokenizer) computeTokenBytes(id int) []byte {
	if a, ok := t.addedByID[id]; ok {
		return []byte(a.Content)
	}
	s, ok := t.model.idToToken(id)
	if !ok {
		return nil
	}
	switch m := t.model.(type) {
	case *bpe:
		if m.byteLevel {
			return byteLevelDecode(s)
		}
		if b, ok := parseByteToken(s); ok && m.byteFallback {
			return []byte{b}
		}
		if m.suffix != "" {
			s = strings.ReplaceAll(s, m.suffix, " ")
		}
		return []byte(strings.ReplaceAll(s, "▁", " "))
	case *wordPiece:
		if strings.HasPrefix(s, m.prefix) {
			return []byte(s[len(m.prefix):])
		}
		return []byte(s)
	}
	return []byte(s)
}

// isAdded reports whether id is an added token.
func (t *Tokenizer) isAdded(id int) bool {
	_, ok := t.addedByID[id]
	return ok
}

// Save writes the tokenizer.json this tokenizer was parsed from (for a
// trained tokenizer, the file Train generated).
func (t *Tokenizer) Save(path string) error {
	if err := os.WriteFile(path, t.source, 0o644); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	return nil
}
