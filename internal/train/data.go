package train

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrData marks a training record that cannot be used.
var ErrData = errors.New("train: invalid record")

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Record is one line of a training file: an instruction record
// {instruction, input, output}, a chat record {messages}, or a preference
// record {prompt, chosen, rejected}.
type Record struct {
	Instruction string    `json:"instruction,omitempty"`
	Input       string    `json:"input,omitempty"`
	Output      string    `json:"output,omitempty"`
	Messages    []Message `json:"messages,omitempty"`
	Prompt      string    `json:"prompt,omitempty"`
	Chosen      string    `json:"chosen,omitempty"`
	Rejected    string    `json:"rejected,omitempty"`
}

// ParseRecords reads JSON lines (blank lines skipped).
func ParseRecords(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []Record
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(s), &rec); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrData, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("train: read records: %w", err)
	}
	return out, nil
}

// Example is one tokenised training sequence: row t reads Tokens[t] and
// predicts Targets[t] (< 0: no loss on that row).
type Example struct {
	Tokens  []int
	Targets []int
}

// FromPromptResponse builds the example that learns response after prompt:
// loss only on response tokens, truncated to maxLen rows (0: no limit).
func FromPromptResponse(prompt, response []int, maxLen int) (Example, error) {
	seq := append(append([]int(nil), prompt...), response...)
	if len(seq) < 2 || len(response) == 0 {
		return Example{}, fmt.Errorf("%w: empty prompt or response", ErrData)
	}
	n := len(seq) - 1
	if maxLen > 0 && n > maxLen {
		n = maxLen
	}
	ex := Example{Tokens: seq[:n], Targets: make([]int, n)}
	for t := 0; t < n; t++ {
		ex.Targets[t] = seq[t+1]
		if t+1 < len(prompt) {
			ex.Targets[t] = -1
		}
	}
	if len(prompt) > n {
		return Example{}, fmt.Errorf("%w: prompt of %d tokens leaves no response within %d", ErrData, len(prompt), maxLen)
	}
	return ex, nil
}

// Formatter turns records into token sequences.
type Formatter struct {
	// Encode tokenises text (special tokens in the text are recognised, none added).
	Encode func(text string) []int
	// Render applies the model's chat template (addGenerationPrompt adds
	// the assistant header); nil uses the plain "### Instruction/### Response"
	// format.
	Render func(msgs []Message, addGenerationPrompt bool) (string, error)
	BOS    int // prepended in the plain format; < 0: none
	EOS    int // appended after the response in the plain format; < 0: none
	MaxLen int // rows per example; 0: no limit
}

// Prompt returns the prompt and response texts of an SFT record. With a
// chat template the loss covers the final assistant message.
func (f Formatter) Prompt(r Record) (prompt, response string, err error) {
	msgs := r.Messages
	if len(msgs) == 0 {
		if r.Instruction == "" && r.Prompt == "" {
			return "", "", fmt.Errorf("%w: needs instruction/output or messages", ErrData)
		}
		user := r.Instruction
		if user == "" {
			user = r.Prompt
		}
		if r.Input != "" {
			user += "\n\n" + r.Input
		}
		msgs = []Message{{Role: "user", Content: user}, {Role: "assistant", Content: r.Output}}
	}
	last := msgs[len(msgs)-1]
	if last.Role != "assistant" {
		return "", "", fmt.Errorf("%w: the last message must be the assistant's", ErrData)
	}
	if f.Render == nil {
		var b strings.Builder
		for _, m := range msgs[:len(msgs)-1] {
			switch m.Role {
			case "assistant":
				b.WriteString("### Response:\n" + m.Content + "\n\n")
			case "system":
				b.WriteString(m.Content + "\n\n")
			default:
				b.WriteString("### Instruction:\n" + m.Content + "\n\n")
			}
		}
		b.WriteString("### Response:\n")
		return b.String(), last.Content, nil
	}
	p, err := f.Render(msgs[:len(msgs)-1], true)
	if err != nil {
		return "", "", fmt.Errorf("train: render prompt: %w", err)
	}
	full, err := f.Render(msgs, false)
	if err != nil {
		return "", "", fmt.Errorf("train: render conversation: %w", err)
	}
	if !strings.HasPrefix(full, p) {
		return "", "", fmt.Errorf("%w: chat template output does not extend the prompt", ErrData)
	}
	return p, full[len(p):], nil
}

// encodePair tokenises a prompt and response as the format wants.
func (f Formatter) encodePair(prompt, response string) ([]int, []int) {
	pt := f.Encode(prompt)
	rt := f.Encode(response)
	if f.Render == nil {
		if f.BOS >= 0 {
			pt = append([]int{f.BOS}, pt...)
		}
		if f.EOS >= 0 {
			rt = append(rt, f.EOS)
		}
	}
	return pt, rt
}

// SFT formats one instruction or chat record.
func (f Formatter) SFT(r Record) (Example, error) {
	p, resp, err := f.Prompt(r)
	if err != nil {
		return Example{}, err
	}
	pt, rt := f.encodePair(p, resp)
	return FromPromptResponse(pt, rt, f.MaxLen)
}

// Pair is a tokenised preference record.
type Pair struct {
	Chosen, Rejected Example
}

// Preference formats a {prompt, chosen, rejected} record.
func (f Formatter) Preference(r Record) (Pair, error) {
	if r.Prompt == "" || r.Chosen == "" || r.Rejected == "" {
		return Pair{}, fmt.Errorf("%w: preference records need prompt, chosen and rejected", ErrData)
	}
	var out Pair
	for i, resp := range []string{r.Chosen, r.Rejected} {
		p, rs, err := f.Prompt(Record{Messages: []Message{{Role: "user", Content: r.Prompt}, {Role: "assistant", Content: resp}}})
		if err != nil {
			return Pair{}, err
		}
		pt, rt := f.encodePair(p, rs)
		ex, err := FromPromptResponse(pt, rt, f.MaxLen)
		if err != nil {
			return Pair{}, err
		}
		if i == 0 {
			out.Chosen = ex
		} else {
			out.Rejected = ex
		}
	}
	return out, nil
}

// PromptTokens returns the prompt tokens of an SFT record as SFT encodes
// them, for records whose answer is to be generated (sequence-level
// distillation): the record's own answer, if any, is ignored, and a chat
// record may end with the user's message.
func (f Formatter) PromptTokens(r Record) ([]int, error) {
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role != "assistant" {
		r.Messages = append(r.Messages[:n:n], Message{Role: "assistant"})
	}
	p, _, err := f.Prompt(r)
	if err != nil {
		return nil, err
	}
	pt, _ := f.encodePair(p, "")
	if len(pt) == 0 {
		return nil, fmt.Errorf("%w: empty prompt", ErrData)
	}
	return pt, nil
}
