package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonlOrChat tells conversation logs from other JSON Lines by the first
// object: a "messages" or "conversations" array, or OpenAI preference
// fine-tuning lines ("input" with "messages").
func jsonlOrChat(data []byte) Format {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe struct {
			Messages      json.RawMessage `json:"messages"`
			Conversations json.RawMessage `json:"conversations"`
			Input         struct {
				Messages json.RawMessage `json:"messages"`
			} `json:"input"`
		}
		if json.Unmarshal(line, &probe) != nil {
			return FormatJSONL
		}
		isArr := func(r json.RawMessage) bool { return len(r) > 0 && r[0] == '[' }
		if isArr(probe.Messages) || isArr(probe.Conversations) || isArr(probe.Input.Messages) {
			return FormatChat
		}
		return FormatJSONL
	}
	return FormatJSONL
}

// shareGPTRoles maps ShareGPT "from" values to OpenAI roles.
var shareGPTRoles = map[string]string{
	"human": "user", "user": "user", "gpt": "assistant", "chatgpt": "assistant", "assistant": "assistant",
	"bing": "assistant", "bard": "assistant", "model": "assistant", "system": "system", "tool": "tool",
	"function": "tool", "function_call": "assistant", "observation": "tool",
}

// extractChat reads conversation logs, one conversation per line, in OpenAI
// messages format ({"messages":[{"role","content"}]}), ShareGPT
// ({"conversations":[{"from","value"}]}) or OpenAI preference format
// ({"input":{"messages"},"preferred_output","non_preferred_output"}). A
// "candidates" array of answers with a "preferred" index is accepted too.
// Every other field (feedback, ratings, ids, timestamps) is kept in the
// record metadata with dotted paths.
func extractChat(ctx context.Context, text string, lim Limits) (*Document, error) {
	var b builder
	doc := &Document{Metadata: map[string]string{}}
	err := eachLine(ctx, text, lim, func(n int, line []byte) error {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return &FileError{Line: n, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
		}
		rec, err := chatRecord(obj)
		if err != nil {
			return &FileError{Line: n, Err: err}
		}
		if rec.ID == "" {
			rec.ID = "line-" + strconv.Itoa(n)
		}
		b.closeSection()
		b.sep()
		rec.Start = b.sb.Len()
		b.cur = &Section{Path: []string{rec.ID}, Start: rec.Start}
		b.sb.WriteString(rec.Text)
		b.pending = rec.Text != ""
		rec.End = b.sb.Len()
		doc.Records = append(doc.Records, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	built := b.document()
	doc.Text, doc.Sections = built.Text, built.Sections
	return doc, nil
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	From    string          `json:"from"`
	Value   string          `json:"value"`
}

func chatRecord(obj map[string]json.RawMessage) (Record, error) {
	rec := Record{Metadata: map[string]string{}, Fields: map[string]string{}, Preferred: -1}
	var msgs []wireMessage
	consumed := map[string]bool{}
	switch {
	case obj["messages"] != nil:
		if err := json.Unmarshal(obj["messages"], &msgs); err != nil {
			return rec, fmt.Errorf("%w: messages: %v", ErrCorrupt, err)
		}
		consumed["messages"] = true
	case obj["conversations"] != nil:
		if err := json.Unmarshal(obj["conversations"], &msgs); err != nil {
			return rec, fmt.Errorf("%w: conversations: %v", ErrCorrupt, err)
		}
		consumed["conversations"] = true
	case obj["input"] != nil:
		var in struct {
			Messages []wireMessage `json:"messages"`
		}
		if err := json.Unmarshal(obj["input"], &in); err != nil {
			return rec, fmt.Errorf("%w: input: %v", ErrCorrupt, err)
		}
		msgs = in.Messages
		consumed["input"] = true
	default:
		return rec, fmt.Errorf("%w: no messages, conversations or input.messages", ErrCorrupt)
	}
	for _, m := range msgs {
		rec.Messages = append(rec.Messages, toMessage(m))
	}
	// Preference pairs: OpenAI preference format, or candidates + preferred.
	if obj["preferred_output"] != nil || obj["non_preferred_output"] != nil {
		for _, key := range []string{"preferred_output", "non_preferred_output"} {
			var out []wireMessage
			if raw := obj[key]; raw != nil {
				if err := json.Unmarshal(raw, &out); err != nil {
					return rec, fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
				}
			}
			var last Message
			if len(out) > 0 {
				last = toMessage(out[len(out)-1])
			}
			rec.Candidates = append(rec.Candidates, last)
			consumed[key] = true
		}
		rec.Preferred = 0
	} else if raw := obj["candidates"]; raw != nil {
		var cands []wireMessage
		if err := json.Unmarshal(raw, &cands); err != nil {
			return rec, fmt.Errorf("%w: candidates: %v", ErrCorrupt, err)
		}
		for _, c := range cands {
			rec.Candidates = append(rec.Candidates, toMessage(c))
		}
		consumed["candidates"] = true
		if p := obj["preferred"]; p != nil {
			var idx int
			if err := json.Unmarshal(p, &idx); err != nil || idx < 0 || idx >= len(cands) {
				return rec, fmt.Errorf("%w: preferred must index candidates (0..%d)", ErrCorrupt, len(cands)-1)
			}
			rec.Preferred = idx
			consumed["preferred"] = true
		}
	}
	// Every other field is metadata: ids, timestamps, feedback, ratings.
	rest := map[string]any{}
	for k, raw := range obj {
		if consumed[k] {
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return rec, fmt.Errorf("%w: %s: %v", ErrCorrupt, k, err)
		}
		rest[k] = v
	}
	flat, _ := flatten(rest)
	for k, v := range flat {
		rec.Metadata[k] = v
		rec.Fields[k] = v
	}
	for _, k := range []string{"id", "conversation_id", "_id"} {
		if v := rec.Metadata[k]; v != "" {
			rec.ID = v
			break
		}
	}
	rec.Text = renderChat(rec)
	return rec, nil
}

func toMessage(m wireMessage) Message {
	role := strings.ToLower(m.Role)
	content := m.Value
	if m.From != "" && role == "" {
		role = shareGPTRoles[strings.ToLower(m.From)]
		if role == "" {
			role = strings.ToLower(m.From)
		}
	}
	if len(m.Content) > 0 {
		content = contentText(m.Content)
	}
	return Message{Role: role, Content: content}
}

// contentText reads an OpenAI content field: a string or an array of parts
// of which the text parts are kept.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var texts []string
		for _, p := range parts {
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
		}
		return strings.Join(texts, "\n")
	}
	return ""
}

// renderChat writes a conversation as "role: content" lines; candidate
// answers are listed after it.
func renderChat(rec Record) string {
	var b strings.Builder
	for i, m := range rec.Messages {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(m.Content))
	}
	for i, c := range rec.Candidates {
		b.WriteString("\n")
		label := "candidate " + strconv.Itoa(i+1)
		if i == rec.Preferred {
			label += " (preferred)"
		}
		b.WriteString(label)
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(c.Content))
	}
	return b.String()
}
