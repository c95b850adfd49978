// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then
// the raw little-endian tensor data.
//
// Open memory-maps a file and validates its header completely before any
// tensor is handed out, so a truncated or hostile file yields an error wrapping
// ErrInvalid rather than a panic. OpenDir opens a Hugging Face model folder
// holding either one model.safetensors or a sharded set described by
// model.safetensors.index.json and gives a single lookup over all shards.
// Write produces files byte-compatible with the reference implementation's
// layout (sorted names, header padded with spaces to 8 bytes).
package safetensors
