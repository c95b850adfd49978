package dataset

import (
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemas are the JSON Schemas (2020-12) every imported line is validated
// against, after format conversion. Unknown top-level fields are rejected so a
// typo ("ouput") is reported instead of silently dropping the answer.
var schemas = map[Kind]string{
	KindDocuments: `{
  "type": "object", "additionalProperties": false, "required": ["text"],
  "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 512},
    "text": {"type": "string", "minLength": 1},
    "metadata": {"type": "object"}
  }}`,
	KindInstruction: `{
  "type": "object", "additionalProperties": false, "required": ["instruction", "output"],
  "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 512},
    "instruction": {"type": "string", "minLength": 1},
    "input": {"type": "string"},
    "output": {"type": "string", "minLength": 1},
    "metadata": {"type": "object"}
  }}`,
	KindPreference: `{
  "type": "object", "additionalProperties": false, "required": ["prompt", "chosen", "rejected"],
  "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 512},
    "prompt": {"type": "string", "minLength": 1},
    "chosen": {"type": "string", "minLength": 1},
    "rejected": {"type": "string", "minLength": 1},
    "metadata": {"type": "object"}
  }}`,
	KindChat: `{
  "type": "object", "additionalProperties": false, "required": ["messages"],
  "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 512},
    "messages": {
      "type": "array", "minItems": 1,
      "items": {
        "type": "object", "additionalProperties": false, "required": ["role"],
        "properties": {
          "role": {"enum": ["system", "user", "assistant", "tool"]},
          "content": {"type": ["string", "null"]},
          "name": {"type": "string"},
          "tool_calls": {"type": "array"},
          "tool_call_id": {"type": "string"}
        }
      }
    },
    "metadata": {"type": "object"}
  }}`,
}

var (
	compileOnce sync.Once
	compiled    map[Kind]*jsonschema.Schema
	compileErr  error
)

// Schema returns the JSON Schema source that records of kind k must satisfy.
func Schema(k Kind) (string, bool) {
	s, ok := schemas[k]
	return s, ok
}

func schemaFor(k Kind) (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		compiled = make(map[Kind]*jsonschema.Schema, len(schemas))
		for kind, src := range schemas {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
			if err != nil {
				compileErr = fmt.Errorf("dataset: schema %s: %w", kind, err)
				return
			}
			url := "whet://dataset/" + string(kind) + ".json"
			if err := c.AddResource(url, doc); err != nil {
				compileErr = fmt.Errorf("dataset: schema %s: %w", kind, err)
				return
			}
			s, err := c.Compile(url)
			if err != nil {
				compileErr = fmt.Errorf("dataset: schema %s: %w", kind, err)
				return
			}
			compiled[kind] = s
		}
	})
	if compileErr != nil {
		return nil, compileErr
	}
	s, ok := compiled[k]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrKind, k)
	}
	return s, nil
}

// SchemaFieldErrors flattens a JSON Schema validation error into (JSON
// pointer, message) pairs, leaves only: the most specific causes name the
// field that is wrong. Line is left 0. Other errors become one pair with an
// empty field.
func SchemaFieldErrors(err error) []LineError {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []LineError{{Field: "", Message: err.Error()}}
	}
	var out []LineError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			msg := e.Error()
			// The library prefixes a location line; keep the last line, the reason.
			if i := strings.LastIndex(msg, "\n"); i >= 0 {
				msg = strings.TrimSpace(msg[i+1:])
			}
			msg = strings.TrimPrefix(msg, "- ")
			if j := strings.Index(msg, ": "); j >= 0 && strings.HasPrefix(msg, "at '") {
				msg = msg[j+2:]
			}
			loc := e.InstanceLocation
			switch k := e.ErrorKind.(type) {
			case *kind.AdditionalProperties:
				for _, p := range k.Properties {
					out = append(out, LineError{Field: pointer(append(loc[:len(loc):len(loc)], p)), Message: "unknown field"})
				}
				return
			case *kind.Required:
				for _, p := range k.Missing {
					out = append(out, LineError{Field: pointer(append(loc[:len(loc):len(loc)], p)), Message: "required field is missing"})
				}
				return
			}
			out = append(out, LineError{Field: pointer(loc), Message: msg})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func pointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, p := range loc {
		b.WriteByte('/')
		p = strings.ReplaceAll(p, "~", "~0")
		b.WriteString(strings.ReplaceAll(p, "/", "~1"))
	}
	return b.String()
}
