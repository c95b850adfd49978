package tokenizer

// knownScanner returns a hand-written scanner for a well-known pre-tokenizer
// pattern, or nil to use the regex engine.
func knownScanner(pat string) matcher {
	return nil
}
