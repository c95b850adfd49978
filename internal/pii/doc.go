// Package pii owns the detection and redaction of personal and secret data
// in document text: emails, phone numbers, payment cards, IBANs, US social
// security numbers, IP addresses, dates of birth in context, street
// addresses, credentials and person names.
//
// A [Detector] finds [Span]s (byte offsets into the text, a type, a score
// and the detector that fired); overlapping candidates are resolved so that
// the most specific type wins, then the longest span. [Redact] replaces the
// spans with a mask ("[EMAIL]"), a keyed pseudonym ("EMAIL_3f9a2c", stable
// for the same value and key) or nothing, and returns a span-level [Report]
// that never contains the original text.
//
// Detection is rule-based: regular expressions and scanners for candidates,
// then validation (Luhn and issuer ranges for cards, ISO 13616 mod-97 and
// country lengths for IBANs, SSA rules for SSNs, net/netip for addresses)
// and context words for the ambiguous types (phone numbers, dates of birth,
// names). Names use cue words and an embedded list of given and family names.
package pii
