package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sort"
)

// ErrInvalid marks a file whose header or layout breaks the format.
var ErrInvalid = errors.New("safetensors: invalid file")

// ErrNotFound marks a lookup of a tensor name the file does not hold.
var ErrNotFound = errors.New("safetensors: tensor not found")

// maxHeader bounds the JSON header, as the reference implementation does.
const maxHeader = 100 << 20

// TensorInfo describes one tensor in a file.
type TensorInfo struct {
	DType DType
	Shape []int
	// Offset is the byte offset of the tensor's data in the data region;
	// Size is its length in bytes.
	Offset, Size int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is an open safetensors file. Its tensors are views into a read-only
// memory mapping that stays valid until Close.
type File struct {
	data     []byte // data region (after the header)
	infos    map[string]TensorInfo
	names    []string
	metadata map[string]string
	unmap    func() error
}

// Open memory-maps the file at path and validates its header.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: open: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: stat %s: %w", path, err)
	}
	if st.Size() > int64(^uint(0)>>1) {
		return nil, fmt.Errorf("%w: %s: file too large", ErrInvalid, path)
	}
	b, unmap, err := mapFile(f, int(st.Size()))
	if err != nil {
		return nil, fmt.Errorf("safetensors: map %s: %w", path, err)
	}
	sf, err := Parse(b)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sf.unmap = unmap
	return sf, nil
}

type rawEntry struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// Parse validates b as a complete safetensors file held in memory. The
// returned File refers to b; Close on it is a no-op.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the header length", ErrInvalid, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: header length %d exceeds file (%d bytes) or limit", ErrInvalid, n, len(b))
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	f := &File{data: data, infos: map[string]TensorInfo{}, unmap: func() error { return nil }}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	type span struct {
		name       string
		begin, end uint64
	}
	var spans []span
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: header key is not a string", ErrInvalid)
		}
		if name == "__metadata__" {
			if f.metadata != nil {
				return nil, fmt.Errorf("%w: duplicate __metadata__", ErrInvalid)
			}
			var m map[string]string
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("%w: __metadata__: %v", ErrInvalid, err)
			}
			if m == nil {
				m = map[string]string{}
			}
			f.metadata = m
			continue
		}
		if _, dup := f.infos[name]; dup {
			return nil, fmt.Errorf("%w: duplicate tensor %q", ErrInvalid, name)
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		dt := DType(e.DType)
		if !dt.Valid() {
			return nil, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, name, e.DType)
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[1] < e.DataOffsets[0] {
			return nil, fmt.Errorf("%w: tensor %q: bad data_offsets %v", ErrInvalid, name, e.DataOffsets)
		}
		if e.Shape == nil {
			return nil, fmt.Errorf("%w: tensor %q: missing shape", ErrInvalid, name)
		}
		count := uint64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d > uint64(len(data)) && d > 1<<31 {
				return nil, fmt.Errorf("%w: tensor %q: dimension %d too large", ErrInvalid, name, d)
			}
			shape[i] = int(d)
			hi, lo := bits.Mul64(count, d)
			if hi != 0 || lo > 1<<62 {
				return nil, fmt.Errorf("%w: tensor %q: shape %v too large", ErrInvalid, name, e.Shape)
			}
			count = lo
		}
		size := count * uint64(dt.Size())
		if e.DataOffsets[1]-e.DataOffsets[0] != size {
			return nil, fmt.Errorf("%w: tensor %q: %d bytes for shape %v of %s (want %d)",
				ErrInvalid, name, e.DataOffsets[1]-e.DataOffsets[0], e.Shape, dt, size)
		}
		if e.DataOffsets[1] > uint64(len(data)) {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets %v beyond data (%d bytes)", ErrInvalid, name, e.DataOffsets, len(data))
		}
		f.infos[name] = TensorInfo{DType: dt, Shape: shape, Offset: int64(e.DataOffsets[0]), Size: int64(size)}
		spans = append(spans, span{name, e.DataOffsets[0], e.DataOffsets[1]})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	if rest := header[dec.InputOffset():]; len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after header JSON", ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after header JSON", ErrInvalid)
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos uint64
	for _, s := range spans {
		if s.begin != pos {
			return nil, fmt.Errorf("%w: tensor %q starts at %d, expected %d (gap or overlap)", ErrInvalid, s.name, s.begin, pos)
		}
		pos = s.end
	}
	if pos != uint64(len(data)) {
		return nil, fmt.Errorf("%w: tensors cover %d of %d data bytes", ErrInvalid, pos, len(data))
	}
	f.names = make([]string, 0, len(f.infos))
	for name := range f.infos {
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	if f.metadata == nil {
		f.metadata = map[string]string{}
	}
	return f, nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Info returns the dtype, shape and location of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	t, ok := f.infos[name]
	return t, ok
}

// Metadata returns the file's __metadata__ map (empty when absent).
func (f *File) Metadata() map[string]string { return f.metadata }

// Bytes returns the raw little-endian data of the named tensor as a view of
// the mapping; it must not be modified or used after Close.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.infos[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return f.data[t.Offset : t.Offset+t.Size : t.Offset+t.Size], nil
}

// Float32 returns a converted copy of the named F32, F16, BF16 or F64 tensor
// together with its shape.
func (f *File) Float32(name string) ([]float32, []int, error) {
	t, ok := f.infos[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	switch t.DType {
	case F32, F16, BF16, F64:
	default:
		return nil, nil, fmt.Errorf("safetensors: tensor %q has dtype %s, not a float type", name, t.DType)
	}
	out := make([]float32, t.NumElements())
	decodeFloat32(out, f.data[t.Offset:t.Offset+t.Size], t.DType)
	return out, append([]int(nil), t.Shape...), nil
}

// Close releases the mapping. Views returned by Bytes become invalid.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap = nil
	f.data = nil
	return err
}
