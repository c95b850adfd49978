package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// Mode is how [Redact] replaces a span.
type Mode string

// Redaction modes.
const (
	// ModeMask replaces a span by its type in brackets: "[EMAIL]".
	ModeMask Mode = "mask"
	// ModePseudonym replaces a span by the upper-cased type and six hex
	// digits of HMAC-SHA256(key, type, canonical value): "EMAIL_3f9a2c".
	// The same value gets the same pseudonym in every document redacted
	// with the same key, so joins and counts survive redaction.
	ModePseudonym Mode = "pseudonym"
	// ModeRemove deletes the span.
	ModeRemove Mode = "remove"
)

// Config is the processing API's "redact" body.
type Config struct {
	// Enabled says whether the processing job redacts at all. Redact itself
	// ignores it: callers decide whether to call Redact.
	Enabled bool `json:"enabled"`
	// Types lists the types to redact; empty means all.
	Types []Type `json:"types,omitempty"`
	// Mode is "mask" (default), "pseudonym" or "remove".
	Mode Mode `json:"mode,omitempty"`
	// Key is the HMAC key for pseudonyms. It comes from the server's secret
	// store, never from the request body.
	Key []byte `json:"-"`
}

// Validate reports unknown types or modes, and pseudonym mode without a key.
func (c Config) Validate() error {
	for _, t := range c.Types {
		if !t.Valid() {
			return fmt.Errorf("%w: %q", ErrUnknownType, t)
		}
	}
	switch c.Mode {
	case "", ModeMask, ModeRemove:
	case ModePseudonym:
		if len(c.Key) == 0 {
			return ErrNoKey
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnknownMode, c.Mode)
	}
	return nil
}

// Replacement is one redacted span in a [Report]. It holds offsets and the
// replacement, never the original text.
type Replacement struct {
	Type     Type    `json:"type"`
	Detector string  `json:"detector"`
	Score    float64 `json:"score"`
	// Start and End locate the original span in the input text (bytes).
	Start int `json:"start"`
	End   int `json:"end"`
	// OutStart and OutEnd locate the replacement in the output text.
	OutStart    int    `json:"out_start"`
	OutEnd      int    `json:"out_end"`
	Replacement string `json:"replacement"`
}

// Report is the span-level account of one document's redaction.
type Report struct {
	// Mode is the mode applied (mask when pseudonym had no key).
	Mode Mode `json:"mode"`
	// Counts is the number of redacted spans per type.
	Counts map[Type]int `json:"counts"`
	// Spans lists every replacement in text order.
	Spans []Replacement `json:"spans"`
}

// Redact detects the configured types in text and replaces them. A
// pseudonym config without a key falls back to masking (Report.Mode says
// so); use [Config.Validate] to reject such a config up front.
func (d *Detector) Redact(text string, cfg Config) (string, Report) {
	mode := cfg.Mode
	if mode == "" {
		mode = ModeMask
	}
	if mode == ModePseudonym && len(cfg.Key) == 0 {
		mode = ModeMask
	}
	spans := d.Detect(text, cfg.Types...)
	rep := Report{Mode: mode, Counts: make(map[Type]int), Spans: make([]Replacement, 0, len(spans))}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, s := range spans {
		b.WriteString(text[prev:s.Start])
		var repl string
		switch mode {
		case ModeMask:
			repl = "[" + strings.ToUpper(string(s.Type)) + "]"
		case ModePseudonym:
			repl = pseudonym(cfg.Key, s)
		case ModeRemove:
		}
		out := b.Len()
		b.WriteString(repl)
		rep.Spans = append(rep.Spans, Replacement{
			Type: s.Type, Detector: s.Detector, Score: s.Score,
			Start: s.Start, End: s.End, OutStart: out, OutEnd: out + len(repl), Replacement: repl,
		})
		rep.Counts[s.Type]++
		prev = s.End
	}
	b.WriteString(text[prev:])
	return b.String(), rep
}

// pseudonym returns TYPE_xxxxxx from a keyed hash of the span's canonical
// value, so that formatting differences ("+1 (415) 555-0132" and
// "+14155550132") map to the same pseudonym.
func pseudonym(key []byte, s Span) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(s.Type))
	mac.Write([]byte{0})
	mac.Write([]byte(canonical(s)))
	return strings.ToUpper(string(s.Type)) + "_" + hex.EncodeToString(mac.Sum(nil)[:3])
}

func canonical(s Span) string {
	switch s.Type {
	case TypePhone, TypeCreditCard, TypeSSN:
		d := digitsOf(s.Text)
		if s.Type == TypePhone && strings.HasPrefix(strings.TrimSpace(s.Text), "00") {
			d = d[2:]
		}
		return d
	case TypeIBAN:
		return strings.ToUpper(strings.ReplaceAll(s.Text, " ", ""))
	case TypeEmail:
		return strings.ToLower(s.Text)
	case TypePerson:
		return fold(strings.Join(strings.Fields(s.Text), " "))
	}
	return s.Text
}

var defaultDetector = sync.OnceValues(NewDetector)

// Redact redacts text with a detector built on first use from the embedded
// name lists; see [Detector.Redact]. It returns text unchanged, with an
// empty report, only if the embedded lists cannot be read, which a build
// of this package rules out.
func Redact(text string, cfg Config) (string, Report) {
	d, err := defaultDetector()
	if err != nil {
		return text, Report{Mode: cfg.Mode, Counts: map[Type]int{}}
	}
	return d.Redact(text, cfg)
}
