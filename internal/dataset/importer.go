package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// LineError is one problem with one line of an imported JSONL file. Field is
// a JSON pointer into the line's object ("/messages/0/role"); "/" means the
// whole line.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e LineError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// ImportOptions bound an import. The zero value is usable.
type ImportOptions struct {
	MaxLineBytes int // longest accepted line; default 16 MiB
	MaxErrors    int // stop collecting errors after this many; default 1000
}

// ImportResult summarises an import.
type ImportResult struct {
	Lines     int            `json:"lines"`     // non-empty lines read
	Accepted  int            `json:"accepted"`  // records passed to the callback
	Converted map[string]int `json:"converted"` // lines converted from another format, by format (sharegpt, alpaca, trl)
	Errors    []LineError    `json:"errors"`    // per-line problems, at most MaxErrors
	Rejected  int            `json:"rejected"`  // lines with at least one error
}

// ErrTooManyErrors is returned by Import when a file has more bad lines than
// MaxErrors; the result still holds the first MaxErrors.
var ErrTooManyErrors = errors.New("dataset: too many invalid lines")

// Import reads JSONL records of kind k from r, converting ShareGPT and Alpaca
// lines to the kind's native shape, validating each line against the kind's
// JSON Schema, and calling fn for every valid record in file order. Invalid
// lines are reported in the result and skipped; an error from fn stops the
// import and is returned.
func Import(r io.Reader, k Kind, opts ImportOptions, fn func(line int, rec Record) error) (*ImportResult, error) {
	schema, err := schemaFor(k)
	if err != nil {
		return nil, err
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 16 << 20
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = 1000
	}
	res := &ImportResult{Converted: map[string]int{}}
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	for {
		line, tooLong, err := readLine(br, opts.MaxLineBytes)
		if err == io.EOF && len(line) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			return res, fmt.Errorf("dataset: read line %d: %w", lineNo+1, err)
		}
		lineNo++
		eof := err == io.EOF
		line = bytes.TrimSpace(line)
		if len(line) == 0 && !tooLong {
			if eof {
				break
			}
			continue
		}
		res.Lines++
		var lineErrs []LineError
		var rec Record
		switch {
		case tooLong:
			lineErrs = []LineError{{Field: "/", Message: fmt.Sprintf("line longer than %d bytes", opts.MaxLineBytes)}}
		case !utf8.Valid(line):
			lineErrs = []LineError{{Field: "/", Message: "line is not valid UTF-8"}}
		default:
			rec, lineErrs = decodeLine(line, k, schema, res.Converted)
		}
		if len(lineErrs) > 0 {
			res.Rejected++
			for _, le := range lineErrs {
				if len(res.Errors) >= opts.MaxErrors {
					return res, fmt.Errorf("%w: more than %d", ErrTooManyErrors, opts.MaxErrors)
				}
				le.Line = lineNo
				res.Errors = append(res.Errors, le)
			}
		} else {
			if err := fn(lineNo, rec); err != nil {
				return res, err
			}
			res.Accepted++
		}
		if eof {
			break
		}
	}
	return res, nil
}

// readLine returns the next line without its newline. A line longer than max
// is consumed and reported as tooLong with no content.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(buf)+len(chunk) > max {
			tooLong = true
			buf = nil
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if err != nil {
			return buf, tooLong, err
		}
		if !isPrefix {
			return buf, tooLong, nil
		}
	}
}

func decodeLine(line []byte, k Kind, schema *jsonschema.Schema, converted map[string]int) (Record, []LineError) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return Record{}, []LineError{{Field: "/", Message: "invalid JSON: " + err.Error()}}
	}
	if dec.More() {
		return Record{}, []LineError{{Field: "/", Message: "more than one JSON value on the line"}}
	}
	if obj == nil {
		return Record{}, []LineError{{Field: "/", Message: "line is not a JSON object"}}
	}
	obj, format, errs := convert(obj, k)
	if len(errs) > 0 {
		return Record{}, errs
	}
	if format != "" {
		converted[format]++
	}
	if err := schema.Validate(obj); err != nil {
		return Record{}, SchemaFieldErrors(err)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return Record{}, []LineError{{Field: "/", Message: err.Error()}}
	}
	var rec Record
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&rec); err != nil {
		return Record{}, []LineError{{Field: "/", Message: err.Error()}}
	}
	return rec, nil
}

// shareGPTRoles maps ShareGPT speaker names to OpenAI roles.
var shareGPTRoles = map[string]string{
	"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
	"bot": "assistant", "model": "assistant", "tool": "tool", "observation": "tool", "function_response": "tool",
}

// convert turns ShareGPT, Alpaca and TRL conversational lines into the native
// shape of kind k. It returns the format it converted from ("" for native).
func convert(obj map[string]any, k Kind) (map[string]any, string, []LineError) {
	switch k {
	case KindChat:
		if conv, ok := obj["conversations"]; ok {
			turns, ok := conv.([]any)
			if !ok {
				return nil, "", []LineError{{Field: "/conversations", Message: "must be an array"}}
			}
			msgs := make([]any, 0, len(turns))
			for i, t := range turns {
				turn, ok := t.(map[string]any)
				if !ok {
					return nil, "", []LineError{{Field: fmt.Sprintf("/conversations/%d", i), Message: "must be an object"}}
				}
				from, _ := turn["from"].(string)
				role, ok := shareGPTRoles[strings.ToLower(from)]
				if !ok {
					return nil, "", []LineError{{Field: fmt.Sprintf("/conversations/%d/from", i), Message: fmt.Sprintf("unknown speaker %q", from)}}
				}
				value, ok := turn["value"].(string)
				if !ok {
					return nil, "", []LineError{{Field: fmt.Sprintf("/conversations/%d/value", i), Message: "must be a string"}}
				}
				msgs = append(msgs, map[string]any{"role": role, "content": value})
			}
			out := map[string]any{"messages": msgs}
			copyKnown(out, obj, "id", "metadata")
			if sys, ok := obj["system"].(string); ok && sys != "" {
				out["messages"] = append([]any{map[string]any{"role": "system", "content": sys}}, msgs...)
			}
			return out, "sharegpt", nil
		}
		if _, ok := obj["instruction"]; ok {
			ins, _ := obj["instruction"].(string)
			in, _ := obj["input"].(string)
			outText, ok := obj["output"].(string)
			if !ok {
				return nil, "", []LineError{{Field: "/output", Message: "alpaca line needs a string output"}}
			}
			user := ins
			if in != "" {
				user = ins + "\n\n" + in
			}
			out := map[string]any{"messages": []any{
				map[string]any{"role": "user", "content": user},
				map[string]any{"role": "assistant", "content": outText},
			}}
			copyKnown(out, obj, "id", "metadata")
			return out, "alpaca", nil
		}
	case KindPreference:
		// TRL's conversational preference format: prompt, chosen and rejected
		// are message lists; keep the user prompt and the assistant answers.
		p, pok := obj["prompt"].([]any)
		c, cok := obj["chosen"].([]any)
		r, rok := obj["rejected"].([]any)
		if pok || cok || rok {
			out := map[string]any{}
			copyKnown(out, obj, "id", "metadata")
			var errs []LineError
			pick := func(field string, list []any, ok bool, role string) {
				if !ok {
					out[field] = obj[field]
					return
				}
				text, good := lastContent(list, role)
				if !good {
					errs = append(errs, LineError{Field: "/" + field, Message: "message list has no " + role + " message with string content"})
					return
				}
				out[field] = text
			}
			pick("prompt", p, pok, "user")
			pick("chosen", c, cok, "assistant")
			pick("rejected", r, rok, "assistant")
			if len(errs) > 0 {
				return nil, "", errs
			}
			return out, "trl", nil
		}
	}
	return obj, "", nil
}

func lastContent(list []any, role string) (string, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		m, ok := list[i].(map[string]any)
		if !ok {
			continue
		}
		if r, _ := m["role"].(string); r == role {
			s, ok := m["content"].(string)
			return s, ok
		}
	}
	return "", false
}

func copyKnown(dst, src map[string]any, keys ...string) {
	for _, k := range keys {
		if v, ok := src[k]; ok {
			dst[k] = v
		}
	}
}
