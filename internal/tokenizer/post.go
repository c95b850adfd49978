package tokenizer

import (
	"encoding/json"
	"fmt"
)

// encTok is a token of an encoding in progress.
type encTok struct {
	id         int
	start, end int
}

// postProcessor adds the special tokens of a single sequence.
type postProcessor interface {
	process(seq []encTok, addSpecial bool, t *Tokenizer) []encTok
}

type postJSON struct {
	Type           string                     `json:"type"`
	Processors     []json.RawMessage          `json:"processors"`
	Single         []templateItemJSON         `json:"single"`
	SpecialTokens  map[string]templateSpecial `json:"special_tokens"`
	Sep            []json.RawMessage          `json:"sep"`
	Cls            []json.RawMessage          `json:"cls"`
	TrimOffsets    *bool                      `json:"trim_offsets"`
	AddPrefixSpace *bool                      `json:"add_prefix_space"`
}

type templateItemJSON struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

type templateSpecial struct {
	ID  string `json:"id"`
	IDs []int  `json:"ids"`
}

func parsePost(raw json.RawMessage, depth int) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > 16 {
		return nil, fmt.Errorf("%w: post-processor nested too deeply", ErrFormat)
	}
	var j postJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: post-processor: %v", ErrFormat, err)
	}
	switch j.Type {
	case "Sequence":
		var seq seqPost
		for _, r := range j.Processors {
			p, err := parsePost(r, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "TemplateProcessing":
		var tp templatePost
		for _, it := range j.Single {
			switch {
			case it.Sequence != nil:
				tp.items = append(tp.items, nil)
			case it.SpecialToken != nil:
				st, ok := j.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("%w: template special token %q not listed", ErrFormat, it.SpecialToken.ID)
				}
				for _, id := range st.IDs {
					if id < 0 {
						return nil, fmt.Errorf("%w: template special token %q has a negative id", ErrFormat, it.SpecialToken.ID)
					}
				}
				tp.items = append(tp.items, append([]int{}, st.IDs...))
			default:
				return nil, fmt.Errorf("%w: template item needs SpecialToken or Sequence", ErrFormat)
			}
		}
		return tp, nil
	case "BertProcessing", "RobertaProcessing":
		cls, err := tokenPair(j.Cls)
		if err != nil {
			return nil, err
		}
		sep, err := tokenPair(j.Sep)
		if err != nil {
			return nil, err
		}
		return templatePost{items: [][]int{{cls}, nil, {sep}}}, nil
	case "ByteLevel":
		return byteLevelPost{trim: boolOr(j.TrimOffsets, true), addPrefixSpace: boolOr(j.AddPrefixSpace, true)}, nil
	default:
		return nil, fmt.Errorf("%w: post-processor type %q", ErrUnsupported, j.Type)
	}
}

// tokenPair reads a ["[CLS]", 101] pair and returns the id.
func tokenPair(raw []json.RawMessage) (int, error) {
	if len(raw) != 2 {
		return 0, fmt.Errorf("%w: special token pair needs [token, id]", ErrFormat)
	}
	var id int
	if err := json.Unmarshal(raw[1], &id); err != nil || id < 0 {
		return 0, fmt.Errorf("%w: special token pair id", ErrFormat)
	}
	return id, nil
}

type seqPost []postProcessor

func (s seqPost) process(seq []encTok, addSpecial bool, t *Tokenizer) []encTok {
	for _, p := range s {
		seq = p.process(seq, addSpecial, t)
	}
	return seq
}

// templatePost lays out the sequence and special tokens; a nil item is the
// sequence itself.
type templatePost struct{ items [][]int }

func (p templatePost) process(seq []encTok, addSpecial bool, t *Tokenizer) []encTok {
	if !addSpecial {
		return seq
	}
	out := make([]encTok, 0, len(seq)+len(p.items))
	for _, it := range p.items {
		if it == nil {
			out = append(out, seq...)
			continue
		}
		for _, id := range it {
			out = append(out, encTok{id: id})
		}
	}
	return out
}

// byteLevelPost only trims spaces from offsets; ids are unchanged.
type byteLevelPost struct{ trim, addPrefixSpace bool }

func (p byteLevelPost) process(seq []encTok, addSpecial bool, t *Tokenizer) []encTok {
	if !p.trim {
		return seq
	}
	for i := range seq {
		e := &seq[i]
		if t.isAdded(e.id) {
			continue
		}
		b := t.TokenBytes(e.id)
		lead, trail := 0, 0
		for lead < len(b) && isSpaceByte(b[lead]) {
			lead++
		}
		for trail < len(b)-lead && isSpaceByte(b[len(b)-1-trail]) {
			trail++
		}
		if lead > 0 {
			if (i == 0 || e.start == 0) && p.addPrefixSpace && lead == 1 {
				lead = 0
			}
			e.start = min(e.start+lead, e.end)
		}
		if trail > 0 && e.end >= trail {
			e.end = max(e.end-trail, e.start)
		}
	}
	return seq
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// addsSpecial reports whether p adds tokens to a sequence (a template with
// special tokens); if not, tokenizer_config.json's add_bos_token and
// add_eos_token decide.
func addsSpecial(p postProcessor) bool {
	switch p := p.(type) {
	case templatePost:
		for _, it := range p.items {
			if len(it) > 0 {
				return true
			}
		}
	case seqPost:
		for _, q := range p {
			if addsSpecial(q) {
				return true
			}
		}
	}
	return false
}
