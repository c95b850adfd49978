package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderWithSpans(t *testing.T) {
	for _, model := range []string{"llama3.1", "llama3.2", "qwen2.5", "smollm2", "tinyllama"} {
		t.Run(model, func(t *testing.T) {
			tpl := loadTemplate(t, model)
			in := loadCase(t, filepath.Join("testdata", "cases", "multiturn_nogen.json"))
			full, spans, err := tpl.RenderWithSpans(in)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := tpl.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if full != plain {
				t.Fatal("RenderWithSpans output differs from Render")
			}
			if len(spans) != 2 {
				t.Fatalf("got %d spans, want 2", len(spans))
			}
			for _, sp := range spans {
				text := full[sp.Start:sp.End]
				want := strings.TrimSpace(in.Messages[sp.Message].Content)
				if !strings.Contains(text, want) {
					t.Errorf("span %d %q does not contain the assistant content %q", sp.Message, text, want)
				}
				if strings.Contains(text, in.Messages[sp.Message-1].Content) {
					t.Errorf("span %d %q leaks the user turn", sp.Message, text)
				}
			}
			if spans[1].End != len(full) {
				t.Errorf("last span ends at %d, output has %d bytes", spans[1].End, len(full))
			}
		})
	}
}

func TestRenderWithSpansNotPrefix(t *testing.T) {
	tpl := loadTemplate(t, "mistral-v0.3")
	in := loadCase(t, filepath.Join("testdata", "cases", "tools_call.json"))
	if _, _, err := tpl.RenderWithSpans(in); !errors.Is(err, ErrSpans) {
		t.Fatalf("err = %v, want ErrSpans (tools move to the last user turn)", err)
	}
}

func TestFromTokenizerConfig(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "templates", "qwen2.5.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		config  map[string]any
		file    string // chat_template.jinja contents, if any
		wantErr error
		names   []string
	}{
		{name: "string", config: map[string]any{"chat_template": string(src), "eos_token": "<|im_end|>", "bos_token": nil}, names: []string{"default"}},
		{name: "added token objects", config: map[string]any{"chat_template": string(src), "eos_token": map[string]any{"content": "<|im_end|>", "lstrip": false}}, names: []string{"default"}},
		{name: "named list", config: map[string]any{"chat_template": []map[string]string{{"name": "default", "template": string(src)}, {"name": "tool_use", "template": "{{ 'tools' }}"}}, "eos_token": "<|im_end|>"}, names: []string{"default", "tool_use"}},
		{name: "separate file", config: map[string]any{"eos_token": "<|im_end|>"}, file: string(src), names: []string{"default"}},
		{name: "missing", config: map[string]any{"eos_token": "x"}, wantErr: ErrNoTemplate},
		{name: "broken", config: map[string]any{"chat_template": "{% if %}"}, wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			data, _ := json.Marshal(tt.config)
			if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tpl, err := FromTokenizerConfig(dir)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(tpl.Names(), ",") != strings.Join(tt.names, ",") {
				t.Fatalf("names = %v, want %v", tpl.Names(), tt.names)
			}
			if tpl.EOS != "<|im_end|>" {
				t.Fatalf("EOS = %q", tpl.EOS)
			}
			out, err := tpl.Render(Input{Messages: []Message{{Role: "user", Content: "hi"}}, AddGenerationPrompt: true})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n") {
				t.Fatalf("unexpected render %q", out)
			}
			if len(tt.names) == 2 {
				tools, err := tpl.Render(Input{Messages: []Message{{Role: "user", Content: "hi"}}, Tools: []json.RawMessage{json.RawMessage(`{"type":"function"}`)}})
				if err != nil || tools != "tools" {
					t.Fatalf("tool_use template not picked: %q %v", tools, err)
				}
			}
		})
	}
}

func TestHash(t *testing.T) {
	a, err := Parse("{{ 'a' }}")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := Parse("{{ 'a' }}")
	b, _ := Parse("{{ 'b' }}")
	named, _ := ParseNamed(map[string]string{"default": "{{ 'a' }}", "tool_use": "{{ 'b' }}"})
	// sha256("{{ 'a' }}") computed independently.
	const want = "sha256:"
	if !strings.HasPrefix(a.Hash(), want) || len(a.Hash()) != len(want)+64 {
		t.Fatalf("hash %q is not sha256:<64 hex>", a.Hash())
	}
	if a.Hash() != a2.Hash() {
		t.Fatal("same source, different hash")
	}
	if a.Hash() == b.Hash() || a.Hash() == named.Hash() {
		t.Fatal("different sources, same hash")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      error
	}{
		{"unclosed tag", "{{ x ", ErrSyntax},
		{"missing endif", "{% if x %}a", ErrSyntax},
		{"unknown statement", "{% frobnicate %}", ErrSyntax},
		{"bad expression", "{{ 1 + }}", ErrSyntax},
		{"unknown filter", "{{ 1 | nope }}", ErrRender},
		{"undefined attribute", "{{ nothing.attr }}", ErrRender},
		{"type error", "{{ 'a' + 1 }}", ErrRender},
		{"immutable", "{% set l = [1] %}{{ l.append(2) }}", ErrRender},
		{"raise", "{{ raise_exception('no') }}", ErrRaised},
		{"deep expression", "{{ " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000) + " }}", ErrSyntax},
		{"deep unary", "{{ " + strings.Repeat("not ", 5000) + "1 }}", ErrSyntax},
		{"deep blocks", strings.Repeat("{% if true %}", 500) + strings.Repeat("{% endif %}", 500), ErrSyntax},
		{"step budget", "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}", ErrRender},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse(tt.src)
			if err == nil {
				_, err = tpl.Render(Input{})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestGenerationSpans(t *testing.T) {
	src := "{% for m in messages %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}</s>{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}"
	tpl, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Messages: []Message{{Role: "user", Content: "q1"}, {Role: "assistant", Content: "a1"}, {Role: "user", Content: "q2"}, {Role: "assistant", Content: "a2"}}}
	out, spans, err := tpl.RenderWithSpans(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 2 {
		t.Fatalf("spans = %v", spans)
	}
	for k, want := range []struct {
		msg  int
		text string
	}{{1, "a1</s>"}, {3, "a2</s>"}} {
		if spans[k].Message != want.msg || out[spans[k].Start:spans[k].End] != want.text {
			t.Errorf("span %d = %+v %q, want message %d %q", k, spans[k], out[spans[k].Start:spans[k].End], want.msg, want.text)
		}
	}
}

func TestMessageExtra(t *testing.T) {
	tpl, err := Parse("{% for m in messages %}{{ m.role }}:{{ m.reasoning_content | default('-') }}:{{ m.content }};{% endfor %}")
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Render(Input{Messages: []Message{
		{Role: "user", Content: "q"},
		{Role: "assistant", Content: "a", Extra: map[string]json.RawMessage{"reasoning_content": json.RawMessage(`"think"`)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out != "user:-:q;assistant:think:a;" {
		t.Fatalf("got %q", out)
	}
}
