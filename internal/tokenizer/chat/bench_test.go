package chat

import (
	"path/filepath"
	"testing"
)

// BenchmarkRender renders the tools_call conversation (6 messages, one tool definition)
// with each template; serving renders once per request.
func BenchmarkRender(b *testing.B) {
	for _, model := range []string{"llama3.1", "qwen2.5", "mistral-v0.3"} {
		b.Run(model, func(b *testing.B) {
			t := &testing.T{}
			tpl := loadTemplate(t, model)
			in := loadCase(t, filepath.Join("testdata", "cases", "tools_call.json"))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tpl.Render(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses the Llama 3.1 template (done once per model load).
func BenchmarkParse(b *testing.B) {
	t := &testing.T{}
	src := loadTemplate(t, "llama3.1").sources["default"]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
