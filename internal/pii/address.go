package pii

import (
	"regexp"
	"strings"
)

const (
	// Street suffixes of US and UK addresses; abbreviations may take a dot.
	streetSuffix = `(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Way|Terrace|Parkway|Circle|Highway|Square|Close|Crescent|Gardens|Grove|Mews|Row|Hill|Loop|Trail|Walk|Alley|Plaza|Park|Wharf|Quay|Parade)\b|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Cir|Hwy|Sq|Cres)\b\.?)`
	capWord      = `[A-Z][A-Za-z'’\-]*`
	unit         = `(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|#)\.?\s*#?[A-Za-z0-9\-]{1,6})?`
	usStateZip   = `[A-Z]{2}\s+[0-9]{5}(?:-[0-9]{4})?`
	ukPostcode   = `[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}`
	eircode      = `(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W)\s?[0-9AC-FHKNPRTV-Y]{4}`
	cityTail     = `(?:,\s*` + capWord + `(?:\s+` + capWord + `){0,2},?\s+(?:` + usStateZip + `|` + ukPostcode + `))?`
	deWord       = `[A-ZÄÖÜ][a-zäöüß]+`
)

// Patterns anchored at the start of a house number.
var numberAddressREs = []struct {
	name string
	re   *regexp.Regexp
}{
	// 350 Fifth Avenue, Suite 4100, New York, NY 10118 / 221B Baker Street, London NW1 6XE
	{"address_us_uk", regexp.MustCompile(`^[0-9]{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:` + capWord + `\s+){0,3}(?:` + capWord + `|[0-9]{1,3}(?:st|nd|rd|th))\s+` + streetSuffix + `(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?` + unit + cityTail)},
	// 9 Kingsway, Manchester M1 1AA: any street name when a UK postcode follows.
	// 23 Harbour View, Dun Laoghaire, A96 K2X4: the same with an Irish Eircode.
	{"address_uk", regexp.MustCompile(`^[0-9]{1,4}[A-Z]?\s+(?:` + capWord + `\s+){0,3}` + capWord + `,\s+` + capWord + `(?:\s+` + capWord + `)?,?\s+(?:` + ukPostcode + `|` + eircode + `)\b`)},
	// 4 Rue de Rivoli
	{"address_fr", regexp.MustCompile(`^[0-9]{1,4}(?:\s?(?:bis|ter))?,?\s+(?:[Rr]ue|[Aa]venue|[Bb]oulevard|[Pp]lace|[Cc]hemin|[Aa]llée|[Qq]uai|[Ii]mpasse)\s+(?:(?:de\s+la|de\s+l'|de|du|des|d')\s*)?` + capWord + `(?:\s+` + capWord + `){0,2}`)},
}

var (
	// PO Box 1234, Austin, TX 78701
	poBoxRE = regexp.MustCompile(`\bP\.?\s?O\.?\s+Box\s+[0-9]{1,6}` + cityTail)
	// Hauptstraße 12, 10115 Berlin / Lindenweg 7a, anchored at the street word.
	deStreetRE = regexp.MustCompile(`^` + deWord + `(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|markt|kai|steig|pfad)\s+[0-9]{1,4}\s?[a-z]?\b(?:,\s*[0-9]{5}\s+` + deWord + `(?:\s+[a-zäöüß]+)?)?`)
	// Am Sandtorkai 5, 20457 Hamburg: any street words when a five-digit
	// postcode and a town follow; run on a window before the postcode.
	dePostcodeRE = regexp.MustCompile(`(?:` + deWord + `\s+){0,3}` + deWord + `\s+[0-9]{1,4}[a-z]?,\s*[0-9]{5}\s+` + deWord)
)

var deSuffixes = []string{"straße", "strasse", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "chaussee", "markt", "kai", "steig", "pfad"}

// deStreetWord reports a word ending in a German street suffix ("str."
// when a dot follows at end).
func deStreetWord(w, text string, end int) bool {
	for _, s := range deSuffixes {
		if len(w) > len(s) && strings.HasSuffix(w, s) {
			return true
		}
	}
	return strings.HasSuffix(w, "str") && end < len(text) && text[end] == '.'
}

func detectAddresses(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	for _, pos := range x.numStarts {
		// Cheap shape check: digits, an optional letter, a space or comma,
		// then a letter ("221B Baker", "4, rue").
		i := runEnd(text, pos)
		if i-pos > 6 {
			continue
		}
		if i < len(text) && isUpper(text[i]) {
			i++
		}
		if i < len(text) && text[i] == ',' {
			i++
		}
		if i+1 >= len(text) || (text[i] != ' ' && text[i] != '\t' && text[i] != '\n') || !isLetter(text[i+1]) {
			continue
		}
		for _, a := range numberAddressREs {
			if m := anchored(a.re, text, pos, 160); m != nil {
				out = append(out, span(TypeAddress, text, m[0], m[1], 0.8, a.name))
			}
		}
	}
	if x.containsAny("box") {
		for _, m := range poBoxRE.FindAllStringIndex(text, -1) {
			out = append(out, span(TypeAddress, text, m[0], m[1], 0.8, "address_po_box"))
		}
	}
	for _, tok := range x.tokens() {
		w := x.lower[tok.start:tok.end]
		if !tok.name || !deStreetWord(w, text, tok.end) {
			continue
		}
		if m := anchored(deStreetRE, text, tok.start, 120); m != nil {
			out = append(out, span(TypeAddress, text, m[0], m[1], 0.8, "address_de"))
		}
	}
	// ", 12345 Town": look back from each German-style postcode.
	for _, pos := range x.numStarts {
		comma := pos >= 1 && text[pos-1] == ',' || pos >= 2 && text[pos-1] == ' ' && text[pos-2] == ','
		if !comma || runEnd(text, pos)-pos != 5 {
			continue
		}
		w := max(0, pos-80)
		for _, m := range dePostcodeRE.FindAllStringIndex(text[w:min(len(text), pos+40)], -1) {
			if w+m[1] > pos && (w+m[0] == 0 || !isLetter(text[w+m[0]-1])) {
				out = append(out, span(TypeAddress, text, w+m[0], w+m[1], 0.8, "address_de_postcode"))
			}
		}
	}
	return out
}
