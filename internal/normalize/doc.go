// Package normalize owns the text clean-up that runs before redaction and
// deduplication: Unicode NFKC and whitespace normalisation ([Text]),
// removal of boilerplate lines repeated across the documents of one source
// ([Boilerplate]), quality filters that say why a document was dropped
// ([Filters]), and offline language identification ([LanguageDetector]).
//
// Everything here is pure computation over strings: no I/O, no global state.
// The language models are built from text embedded in the binary, so
// detection needs no download.
package normalize
