// Package grammar constrains decoding to JSON that matches a JSON schema.
//
// Compile turns a schema into a pushdown automaton over bytes (a stack of frames, one
// per open value). NewVocab prepares a tokenizer vocabulary (token id → bytes) as a byte
// trie plus per-token tables for the inside of strings. A Matcher then answers, for the
// text generated so far, which tokens may come next: a token is allowed iff every one of
// its bytes is accepted in sequence. The trie walk shares work between tokens with common
// prefixes and prunes a subtree at its first rejected byte; inside a free-form string the
// tables decide ordinary tokens in one lookup each and only tokens containing quotes,
// backslashes or control bytes are walked.
//
// internal/generate plugs a Matcher in through the Masker interface:
//
//	type Masker interface {
//		Allowed(mask []bool) // mask[id] = token id may come next
//		Accept(id int) error // advance past the sampled token
//		Done() bool          // the value is complete: allow EOS (only EOS when Finished)
//	}
//
// Supported schema keywords: type (name or list), properties, required,
// additionalProperties (false, or a schema for objects without properties), items,
// minItems, maxItems, minLength, maxLength, enum, const, anyOf/oneOf whose alternatives
// begin with different characters, local non-recursive $ref, and {} for any value. Objects with listed
// properties produce only those, each at most once, in any order. Whitespace between
// tokens is allowed in runs of at most four bytes. Unsupported keywords that change the
// set of valid documents (pattern, allOf, …) are compile errors rather than silently
// ignored; numeric bounds (minimum, maximum, multipleOf) are ignored.
package grammar
