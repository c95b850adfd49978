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
//
// Decisions worth knowing:
//   - A dotted quad next to a version word ("version", "build", "firmware",
//     "Chrome", …, within 24 bytes either side) is a version, not an IP
//     address; a network address with a prefix length ("10.0.0.0/8") is
//     reported without the "/8".
//   - Phone numbers without a country code need a recognised national shape
//     (NANP, trunk-0 groups) or a phone word nearby; bare digit runs are
//     order numbers until a cue says otherwise, and an order, invoice,
//     ticket or tracking word right before a number vetoes it.
//   - Password assignments report only the value, never the key name.
//   - Dates are dates of birth only after a birth cue ("DOB", "born on",
//     "date of birth", "geboren am", …).
package pii
