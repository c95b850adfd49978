// Package extract turns uploaded files into plain text with structure.
//
// Extract sniffs the format of a file from its leading bytes, its declared
// content type and its extension, then runs the matching extractor: PDF (text
// per page, page numbers kept), DOCX (headings become section paths, tables
// become pipe-separated text), HTML (main content only, links reduced to their
// text), Markdown, CSV, JSON and JSONL (rows become records through a
// Mapping), conversation logs (OpenAI messages or ShareGPT conversations) and
// plain text.
//
// The package owns the defences against hostile input that belong to
// extraction: a size limit checked before reading, zip-bomb limits for DOCX,
// repair of invalid UTF-8 (counted in Document.InvalidUTF8), detection of
// binary data posing as text, and recovery from panics inside the PDF parser.
// Every failure is a *FileError naming the file; its cause matches one of the
// sentinel errors (ErrEncrypted, ErrCorrupt, ErrBinary, ErrTooLarge,
// ErrDecompression, ErrUnsupported) with errors.Is.
//
// The package does no PII redaction, deduplication or language detection;
// internal/pii, internal/dedup and internal/normalize do that on the
// extracted text. Metadata["language"] is only the hint the file declares.
package extract
