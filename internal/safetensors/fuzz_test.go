package safetensors

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the parser: it must return an error or a
// File whose every tensor can be read back, never panic.
func FuzzOpen(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, sample(), map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add(build(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{7}))
	f.Add(build(`{}`, nil))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := Parse(b)
		if err != nil {
			return
		}
		var ts []Tensor
		for _, n := range sf.Names() {
			info, _ := sf.Info(n)
			data, err := sf.Bytes(n)
			if err != nil || int64(len(data)) != info.Size {
				t.Fatalf("Bytes(%q) = %d bytes, %v; info %+v", n, len(data), err, info)
			}
			switch info.DType {
			case F32, F16, BF16, F64:
				if _, _, err := sf.Float32(n); err != nil {
					t.Fatal(err)
				}
			}
			ts = append(ts, Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: data})
		}
		var out bytes.Buffer
		if err := Write(&out, ts, sf.Metadata()); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Parse(out.Bytes()); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
