package tokenizer

import "errors"

// ErrFormat reports a tokenizer.json file that is malformed or inconsistent.
var ErrFormat = errors.New("tokenizer: invalid tokenizer.json")

// ErrUnsupported reports a component of tokenizer.json that this package does
// not implement (for example the Unigram model or the Precompiled normalizer).
var ErrUnsupported = errors.New("tokenizer: unsupported component")
