package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind is what a dataset holds.
type Kind string

// The dataset kinds.
const (
	KindDocuments   Kind = "documents"
	KindInstruction Kind = "instruction"
	KindPreference  Kind = "preference"
	KindChat        Kind = "chat"
)

// ErrKind reports an unknown dataset kind.
var ErrKind = errors.New("dataset: unknown kind")

// ParseKind validates a kind name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindDocuments, KindInstruction, KindPreference, KindChat:
		return k, nil
	}
	return "", fmt.Errorf("%w %q (want documents, instruction, preference or chat)", ErrKind, s)
}

// Message is one chat turn in the OpenAI message format.
type Message struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// Record is one dataset row. Which fields are set depends on the kind:
// documents use ID and Text; instruction uses Instruction, Input and Output;
// preference uses Prompt, Chosen and Rejected; chat uses Messages. Metadata
// is free-form on every kind.
type Record struct {
	ID          string         `json:"id,omitempty"`
	Text        string         `json:"text,omitempty"`
	Instruction string         `json:"instruction,omitempty"`
	Input       string         `json:"input,omitempty"`
	Output      string         `json:"output,omitempty"`
	Prompt      string         `json:"prompt,omitempty"`
	Chosen      string         `json:"chosen,omitempty"`
	Rejected    string         `json:"rejected,omitempty"`
	Messages    []Message      `json:"messages,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Digest is the record's content address: "sha256:" and the hex SHA-256 of
// its canonical JSON. Two records with the same content have the same digest
// whatever key order or whitespace their source lines used.
func (r *Record) Digest() string {
	b, err := Canonical(r)
	if err != nil {
		// A Record always marshals: its fields are strings, slices of
		// strings and JSON-decoded metadata.
		panic(fmt.Sprintf("dataset: canonical record: %v", err))
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Key is the record's stable identity used for splits and mixing: its ID when
// it has one, otherwise its digest.
func (r *Record) Key() string {
	if r.ID != "" {
		return r.ID
	}
	return r.Digest()
}

// Length is the number of characters of content in the record, used for
// length histograms and quality filters.
func (r *Record) Length() int {
	n := len([]rune(r.Text)) + len([]rune(r.Instruction)) + len([]rune(r.Input)) + len([]rune(r.Output)) +
		len([]rune(r.Prompt)) + len([]rune(r.Chosen)) + len([]rune(r.Rejected))
	for _, m := range r.Messages {
		n += len([]rune(m.Content))
	}
	return n
}
