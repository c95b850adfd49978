package pii

import (
	"regexp"
)

const (
	// Street suffixes of US and UK addresses.
	streetSuffix = `(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Way|Terrace|Parkway|Circle|Highway|Square|Close|Crescent|Gardens|Grove|Mews|Row|Hill|Loop|Trail|Walk|Alley|Plaza|Park|Wharf|Quay|Parade)\b|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Cir|Hwy|Sq|Cres)\b\.?)`
	capWord      = `[A-Z][A-Za-z'’\-]*`
	unit         = `(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|#)\.?\s*#?[A-Za-z0-9\-]{1,6})?`
	usStateZip   = `[A-Z]{2}\s+[0-9]{5}(?:-[0-9]{4})?`
	ukPostcode   = `[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}`
	cityTail     = `(?:,\s*` + capWord + `(?:\s+` + capWord + `){0,2},?\s+(?:` + usStateZip + `|` + ukPostcode + `))?`
)

var addressREs = []struct {
	name string
	re   *regexp.Regexp
}{
	// 350 Fifth Avenue, Suite 4100, New York, NY 10118 / 221B Baker Street, London NW1 6XE
	{"address_us_uk", regexp.MustCompile(`\b[0-9]{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:` + capWord + `\s+){0,3}(?:` + capWord + `|[0-9]{1,3}(?:st|nd|rd|th))\s+` + streetSuffix + unit + cityTail)},
	// 9 Kingsway, Manchester M1 1AA: any street name when a UK postcode follows.
	{"address_uk", regexp.MustCompile(`\b[0-9]{1,4}[A-Z]?\s+(?:` + capWord + `\s+){0,3}` + capWord + `,\s+` + capWord + `(?:\s+` + capWord + `)?\s+` + ukPostcode + `\b`)},
	// PO Box 1234, Austin, TX 78701
	{"address_po_box", regexp.MustCompile(`\bP\.?\s?O\.?\s+Box\s+[0-9]{1,6}` + cityTail)},
	// Hauptstraße 12, 10115 Berlin / Lindenweg 7a
	{"address_de", regexp.MustCompile(`\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|markt|kai|steig|pfad)\s+[0-9]{1,4}\s?[a-z]?\b(?:,\s*[0-9]{5}\s+[A-ZÄÖÜ][a-zäöüß]+(?:\s+[a-zäöüß]+)?)?`)},
	// Am Sandtorkai 5, 20457 Hamburg: any street words when a five-digit
	// postcode and a town follow.
	{"address_de_postcode", regexp.MustCompile(`\b(?:[A-ZÄÖÜ][a-zäöüß]+\s+){0,3}[A-ZÄÖÜ][a-zäöüß]+\s+[0-9]{1,4}[a-z]?,\s*[0-9]{5}\s+[A-ZÄÖÜ][a-zäöüß]+`)},
	// 4 Rue de Rivoli
	{"address_fr", regexp.MustCompile(`\b[0-9]{1,4}(?:\s?(?:bis|ter))?,?\s+(?:[Rr]ue|[Aa]venue|[Bb]oulevard|[Pp]lace|[Cc]hemin|[Aa]llée|[Qq]uai|[Ii]mpasse)\s+(?:(?:de\s+la|de\s+l'|de|du|des|d')\s*)?` + capWord + `(?:\s+` + capWord + `){0,2}`)},
}

func detectAddresses(_ *Detector, text string, out []Span) []Span {
	for _, a := range addressREs {
		for _, m := range a.re.FindAllStringIndex(text, -1) {
			out = append(out, span(TypeAddress, text, m[0], m[1], 0.8, a.name))
		}
	}
	return out
}
