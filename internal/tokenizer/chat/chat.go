package chat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of these.
var (
	// ErrSyntax reports a template that does not parse.
	ErrSyntax = errors.New("chat: template syntax error")
	// ErrRender reports a failure while rendering (undefined value, bad operand, …).
	ErrRender = errors.New("chat: render error")
	// ErrRaised reports a template that called raise_exception; see RaiseError.
	ErrRaised = errors.New("chat: template raised an exception")
	// ErrNoTemplate reports a tokenizer folder without a chat template.
	ErrNoTemplate = errors.New("chat: no chat template")
	// ErrSpans reports a template whose output for a prefix of the conversation is not a
	// prefix of the whole, so assistant spans cannot be located.
	ErrSpans = errors.New("chat: assistant spans not derivable")
)

// RaiseError is the error a template's raise_exception(message) produces. The message is
// written by the template author for users, so it is safe to show.
type RaiseError struct{ Message string }

func (e *RaiseError) Error() string { return ErrRaised.Error() + ": " + e.Message }

// Is makes errors.Is(err, ErrRaised) true.
func (e *RaiseError) Is(target error) bool { return target == ErrRaised }

// Message is one chat turn, in the shape Hugging Face templates expect (OpenAI-style).
// An assistant message with ToolCalls and empty Content is given to the template with
// content None, as OpenAI clients send it.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	// Extra holds further message fields some templates read (reasoning_content,
	// thinking, …), passed after the fields above in key order.
	Extra map[string]json.RawMessage `json:"-"`
}

// ToolCall is one function call made by the assistant.
type ToolCall struct {
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments as JSON. Templates such as
// Llama 3.1 and Qwen2.5 serialise an object with tojson, so callers holding OpenAI's
// string-encoded arguments should decode them to the object first (as vLLM does);
// a JSON string is passed to the template as a string.
type FunctionCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Input is everything a template render sees.
type Input struct {
	Messages []Message
	// Tools are JSON-schema function definitions ({"type":"function","function":{…}}),
	// passed to the template in order; nil renders with tools=None.
	Tools []json.RawMessage
	// AddGenerationPrompt appends the header that starts an assistant turn.
	AddGenerationPrompt bool
	// Kwargs are extra template variables (date_string, tools_in_user_message, …).
	// Values may be Go values or json.RawMessage; Go maps are passed sorted by key.
	Kwargs map[string]any
	// TemplateName selects one of several named templates; "" picks "tool_use" when
	// Tools is non-empty and such a template exists, else "default".
	TemplateName string
	// Now is the clock strftime_now reads; the zero value means time.Now.
	Now time.Time
}

// Template is a parsed chat template (or a set of named ones) with the special tokens of
// its tokenizer.
type Template struct {
	sources map[string]string
	parsed  map[string][]node
	hash    string
	// BOS and EOS are passed to the template as bos_token and eos_token.
	BOS, EOS string
	// Extra special tokens (unk_token, pad_token, …) passed as template variables.
	Special map[string]string
}

// Parse parses a single template source, registered under the name "default".
func Parse(src string) (*Template, error) {
	return ParseNamed(map[string]string{"default": src})
}

// ParseNamed parses a set of named templates (tokenizer_config.json's list form).
func ParseNamed(named map[string]string) (*Template, error) {
	if len(named) == 0 {
		return nil, ErrNoTemplate
	}
	t := &Template{sources: map[string]string{}, parsed: map[string][]node{}, Special: map[string]string{}}
	names := make([]string, 0, len(named))
	for name := range named {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		src := named[name]
		nodes, err := parseTemplate(src)
		if err != nil {
			return nil, fmt.Errorf("parse template %q: %w", name, err)
		}
		t.sources[name] = src
		t.parsed[name] = nodes
		if len(named) > 1 {
			h.Write([]byte(name))
			h.Write([]byte{0})
		}
		h.Write([]byte(src))
		if len(named) > 1 {
			h.Write([]byte{0})
		}
	}
	t.hash = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return t, nil
}

// Hash identifies the template source(s): "sha256:" + the hex SHA-256 of the source for a
// single template, or of name\0source\0 pairs in name order for several. Training and
// serving record it to prove they used the same template.
func (t *Template) Hash() string { return t.hash }

// Names lists the named templates, sorted.
func (t *Template) Names() []string {
	out := make([]string, 0, len(t.sources))
	for n := range t.sources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Source returns the source of the named template.
func (t *Template) Source(name string) (string, bool) {
	s, ok := t.sources[name]
	return s, ok
}

// tokenizerConfig is the part of tokenizer_config.json this package reads.
type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	UNK          json.RawMessage `json:"unk_token"`
	PAD          json.RawMessage `json:"pad_token"`
}

// FromTokenizerConfig loads the chat template of a Hugging Face model folder: the
// chat_template.jinja file when present, else tokenizer_config.json's chat_template
// (a string, or a list of {"name","template"} objects), with its bos/eos tokens.
func FromTokenizerConfig(dir string) (*Template, error) {
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, fmt.Errorf("chat: read tokenizer config: %w", err)
	}
	var cfg tokenizerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("chat: parse tokenizer_config.json: %w", err)
	}
	named := map[string]string{}
	if src, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
		named["default"] = string(src)
	} else if len(cfg.ChatTemplate) > 0 && string(cfg.ChatTemplate) != "null" {
		var one string
		if err := json.Unmarshal(cfg.ChatTemplate, &one); err == nil {
			named["default"] = one
		} else {
			var list []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(cfg.ChatTemplate, &list); err != nil {
				return nil, fmt.Errorf("chat: chat_template is neither a string nor a list of named templates: %w", err)
			}
			for _, e := range list {
				named[e.Name] = e.Template
			}
		}
	}
	if len(named) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoTemplate, dir)
	}
	t, err := ParseNamed(named)
	if err != nil {
		return nil, err
	}
	t.BOS = specialToken(cfg.BOS)
	t.EOS = specialToken(cfg.EOS)
	if s := specialToken(cfg.UNK); s != "" {
		t.Special["unk_token"] = s
	}
	if s := specialToken(cfg.PAD); s != "" {
		t.Special["pad_token"] = s
	}
	return t, nil
}

// specialToken reads a token given as a string or as an AddedToken object.
func specialToken(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// pick chooses the template to render, as transformers does.
func (t *Template) pick(in Input) (string, []node, error) {
	name := in.TemplateName
	if name == "" {
		if _, ok := t.parsed["tool_use"]; ok && len(in.Tools) > 0 {
			name = "tool_use"
		} else if _, ok := t.parsed["default"]; ok {
			name = "default"
		} else if len(t.parsed) == 1 {
			for n := range t.parsed {
				name = n
			}
		}
	}
	nodes, ok := t.parsed[name]
	if !ok {
		return "", nil, fmt.Errorf("%w named %q (have %s)", ErrNoTemplate, name, strings.Join(t.Names(), ", "))
	}
	return name, nodes, nil
}

// Render renders the conversation.
func (t *Template) Render(in Input) (string, error) {
	_, nodes, err := t.pick(in)
	if err != nil {
		return "", err
	}
	out, _, err := t.render(nodes, in, in.Messages, in.AddGenerationPrompt)
	return out, err
}

// render returns the output and the byte ranges of {% generation %} blocks.
func (t *Template) render(nodes []node, in Input, msgs []Message, addGen bool) (string, [][2]int, error) {
	r := &renderer{now: time.Now}
	if !in.Now.IsZero() {
		now := in.Now
		r.now = func() time.Time { return now }
	}
	root := newScope(nil)
	for k, v := range r.globals() {
		root.vars[k] = v
	}
	for k, v := range t.Special {
		root.vars[k] = v
	}
	// Like transformers' special_tokens_map, only tokens that are set are defined.
	if t.BOS != "" {
		root.vars["bos_token"] = t.BOS
	}
	if t.EOS != "" {
		root.vars["eos_token"] = t.EOS
	}
	root.vars["documents"] = nil
	for k, v := range in.Kwargs {
		c, err := FromGo(v)
		if err != nil {
			return "", nil, fmt.Errorf("chat: kwarg %q: %w", k, err)
		}
		root.vars[k] = c
	}
	mv, err := messagesValue(msgs)
	if err != nil {
		return "", nil, err
	}
	root.vars["messages"] = mv
	if len(in.Tools) > 0 {
		tools := make([]Value, len(in.Tools))
		for i, raw := range in.Tools {
			if tools[i], err = ParseJSON(raw); err != nil {
				return "", nil, fmt.Errorf("chat: tool %d: %w", i, err)
			}
		}
		root.vars["tools"] = tools
	} else {
		root.vars["tools"] = nil
	}
	root.vars["add_generation_prompt"] = addGen
	r.root = root
	if err := r.renderNodes(nodes, newScope(root)); err != nil {
		if err == errBreak || err == errContinue {
			return "", nil, fmt.Errorf("%w: break or continue outside a loop", ErrRender)
		}
		return "", nil, err
	}
	return r.out.String(), r.gen, nil
}

// messagesValue converts messages to template values with keys in the order
// role, content, name, tool_calls, tool_call_id (only those that are set).
func messagesValue(msgs []Message) ([]Value, error) {
	out := make([]Value, len(msgs))
	for i, m := range msgs {
		mv := NewMap()
		mv.Set("role", m.Role)
		if m.Content == "" && len(m.ToolCalls) > 0 {
			mv.Set("content", nil)
		} else {
			mv.Set("content", m.Content)
		}
		if m.Name != "" {
			mv.Set("name", m.Name)
		}
		if len(m.ToolCalls) > 0 {
			calls := make([]Value, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				c := NewMap()
				if tc.ID != "" {
					c.Set("id", tc.ID)
				}
				typ := tc.Type
				if typ == "" {
					typ = "function"
				}
				c.Set("type", typ)
				f := NewMap()
				f.Set("name", tc.Function.Name)
				var args Value = NewMap()
				if len(tc.Function.Arguments) > 0 {
					var err error
					if args, err = ParseJSON(tc.Function.Arguments); err != nil {
						return nil, fmt.Errorf("chat: message %d tool call %d arguments: %w", i, j, err)
					}
				}
				f.Set("arguments", args)
				c.Set("function", f)
				calls[j] = c
			}
			mv.Set("tool_calls", calls)
		}
		if m.ToolCallID != "" {
			mv.Set("tool_call_id", m.ToolCallID)
		}
		keys := make([]string, 0, len(m.Extra))
		for k := range m.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := ParseJSON(m.Extra[k])
			if err != nil {
				return nil, fmt.Errorf("chat: message %d field %q: %w", i, k, err)
			}
			mv.Set(k, v)
		}
		out[i] = mv
	}
	return out, nil
}

// Span is a byte range [Start, End) of rendered text produced for one assistant message:
// its content plus whatever the template emits to close the turn (end-of-turn token), but
// not the generation prompt header before it. SFT masks the loss to these ranges.
type Span struct {
	Message    int // index into Input.Messages
	Start, End int
}

// RenderWithSpans renders the conversation and locates every assistant message in the
// output. Templates that mark assistant text with {% generation %} blocks (as
// transformers' return_assistant_tokens_mask expects) give those blocks, matched to the
// assistant messages in order (Message is -1 when the counts differ). Otherwise the span
// of message i runs from the end of messages[:i] rendered with a generation prompt to the
// end of messages[:i+1] rendered without one; templates for which those renders are not
// prefixes of the full output (Mistral's tool block, which moves to the last user
// message, for instance) yield ErrSpans.
func (t *Template) RenderWithSpans(in Input) (string, []Span, error) {
	_, nodes, err := t.pick(in)
	if err != nil {
		return "", nil, err
	}
	full, gen, err := t.render(nodes, in, in.Messages, in.AddGenerationPrompt)
	if err != nil {
		return "", nil, err
	}
	var spans []Span
	if len(gen) > 0 {
		var assistant []int
		for i, m := range in.Messages {
			if m.Role == "assistant" {
				assistant = append(assistant, i)
			}
		}
		for k, g := range gen {
			msg := -1
			if len(gen) == len(assistant) {
				msg = assistant[k]
			}
			spans = append(spans, Span{Message: msg, Start: g[0], End: g[1]})
		}
		return full, spans, nil
	}
	for i, m := range in.Messages {
		if m.Role != "assistant" {
			continue
		}
		head, _, err := t.render(nodes, in, in.Messages[:i], true)
		if err != nil {
			return "", nil, fmt.Errorf("%w: render messages before %d: %v", ErrSpans, i, err)
		}
		upto, _, err := t.render(nodes, in, in.Messages[:i+1], false)
		if err != nil {
			return "", nil, fmt.Errorf("%w: render messages through %d: %v", ErrSpans, i, err)
		}
		if !strings.HasPrefix(upto, head) || !strings.HasPrefix(full, upto) {
			return "", nil, fmt.Errorf("%w: output for message %d is not a prefix of the conversation", ErrSpans, i)
		}
		spans = append(spans, Span{Message: i, Start: len(head), End: len(upto)})
	}
	return full, spans, nil
}
