package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sample() []Tensor {
	bf := make([]byte, 4)
	binary.LittleEndian.PutUint16(bf, 0x3f80)     // 1.0
	binary.LittleEndian.PutUint16(bf[2:], 0xc000) // -2.0
	f16 := make([]byte, 6)
	binary.LittleEndian.PutUint16(f16, 0x3c00)     // 1.0
	binary.LittleEndian.PutUint16(f16[2:], 0x0001) // smallest subnormal
	binary.LittleEndian.PutUint16(f16[4:], 0xfc00) // -inf
	return []Tensor{
		F32Tensor("b.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		{Name: "a.bf16", DType: BF16, Shape: []int{2}, Data: bf},
		{Name: "c.f16", DType: F16, Shape: []int{3}, Data: f16},
		{Name: "d.empty", DType: F32, Shape: []int{0, 4}, Data: nil},
		{Name: "e.ids", DType: I64, Shape: []int{1}, Data: make([]byte, 8)},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	meta := map[string]string{"format": "pt"}
	if err := Write(&buf, sample(), meta); err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(buf.Bytes())
	if hl%8 != 0 {
		t.Errorf("header length %d not 8-aligned", hl)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Names(), []string{"a.bf16", "b.weight", "c.f16", "d.empty", "e.ids"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(f.Metadata(), meta) {
		t.Errorf("Metadata = %v", f.Metadata())
	}
	tests := []struct {
		name  string
		want  []float32
		shape []int
	}{
		{"b.weight", []float32{1, 2, 3, 4, 5, 6}, []int{2, 3}},
		{"a.bf16", []float32{1, -2}, []int{2}},
		{"c.f16", []float32{1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1))}, []int{3}},
		{"d.empty", []float32{}, []int{0, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shape, err := f.Float32(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(shape, tc.shape) {
				t.Errorf("Float32 = %v %v, want %v %v", got, shape, tc.want, tc.shape)
			}
		})
	}
	if _, _, err := f.Float32("e.ids"); err == nil {
		t.Error("Float32 on I64 tensor: want error")
	}
	if _, err := f.Bytes("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Bytes(missing) err = %v", err)
	}
	info, ok := f.Info("b.weight")
	if !ok || info.DType != F32 || info.NumElements() != 6 {
		t.Errorf("Info = %+v %v", info, ok)
	}
}

// TestReferenceLayout checks the byte layout against the reference
// implementation's output for {"x": f32 [1]} (header padded with spaces).
func TestReferenceLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{F32Tensor("x", []int{1}, []float32{1})}, nil); err != nil {
		t.Fatal(err)
	}
	hdr := `{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	want = append(want, hdr...)
	want = append(want, 0, 0, 0x80, 0x3f)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got %q\nwant %q", buf.Bytes(), want)
	}
}

func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		file []byte
	}{
		{"short", []byte{1, 2}},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 1000)},
		{"huge header", binary.LittleEndian.AppendUint64(nil, math.MaxUint64)},
		{"not object", build(`[1]`, nil)},
		{"bad json", build(`{"x":`, nil)},
		{"unknown dtype", build(`{"x":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{0})},
		{"size mismatch", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"out of bounds", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4))},
		{"gap", build(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2))},
		{"overlap", build(`{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"y":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, make([]byte, 3))},
		{"uncovered tail", build(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 2))},
		{"duplicate", build(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2))},
		{"negative shape", build(`{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, make([]byte, 1))},
		{"reversed offsets", build(`{"x":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}`, make([]byte, 1))},
		{"overflow shape", build(`{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil)},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil)},
		{"trailing", build(`{} x`, nil)},
		{"missing offsets", build(`{"x":{"dtype":"U8","shape":[1]}}`, make([]byte, 1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.file); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestOpenAndDir(t *testing.T) {
	dir := t.TempDir()
	ts := sample()
	if err := WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"), ts[:2], nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), ts[2:], map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	wm := map[string]string{}
	for i, tt := range ts {
		shard := "model-00001-of-00002.safetensors"
		if i >= 2 {
			shard = "model-00002-of-00002.safetensors"
		}
		wm[tt.Name] = shard
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": wm})
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Names()) != len(ts) {
		t.Errorf("Names = %v", d.Names())
	}
	v, _, err := d.Float32("b.weight")
	if err != nil || v[5] != 6 {
		t.Errorf("Float32 = %v %v", v, err)
	}
	if d.Metadata()["k"] != "v" {
		t.Errorf("Metadata = %v", d.Metadata())
	}

	// An index pointing at the wrong shard is rejected.
	wm["b.weight"] = "model-00002-of-00002.safetensors"
	idx, _ = json.Marshal(map[string]any{"weight_map": wm})
	os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644)
	if _, err := OpenDir(dir); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad index err = %v", err)
	}

	// A single file takes precedence and is memory-mapped.
	if err := WriteFile(filepath.Join(dir, SingleFile), ts, nil); err != nil {
		t.Fatal(err)
	}
	d2, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d2.Bytes("a.bf16")
	if err != nil || len(b) != 4 {
		t.Errorf("Bytes = %v %v", b, err)
	}
	d2.Close()

	if _, err := OpenDir(t.TempDir()); err == nil {
		t.Error("empty dir: want error")
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("garbage!garbage"), 0o644)
	if _, err := Open(bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(garbage) err = %v", err)
	}
}

func TestF16Conversion(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x3555, 0.333251953125},
		{0x0400, float32(math.Ldexp(1, -14))}, {0x03ff, float32(math.Ldexp(1023, -24))}, {0x7c00, float32(math.Inf(1))},
	}
	for _, tc := range tests {
		if got := f16ToF32(tc.h); got != tc.want {
			t.Errorf("f16ToF32(%#x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if got := f16ToF32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("NaN -> %v", got)
	}
}
