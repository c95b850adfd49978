package pii

import (
	"net/netip"
	"regexp"
	"strings"
)

var (
	ipv4RE = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}`)
	ipv6RE = regexp.MustCompile(`^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*`)
)

// versionCues mark a dotted quad as a version or build number rather than
// an address: "version 1.2.3.4", "Chrome 120.0.6099.109", "hotfix 1.2.3.4
// for the firmware". A dotted quad in such a context is not reported.
var versionCues = []string{"version", "ver", "release", "firmware", "build", "hotfix", "patch", "update",
	"upgrade", "chrome", "firefox", "safari", "edge", "python", "node", "sdk", "kernel", "driver", "rev", "revision"}

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func detectIPs(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	for _, pos := range x.numStarts {
		m := anchored(ipv4RE, text, pos, 15)
		if m == nil {
			continue
		}
		s, e := m[0], m[1]
		if s > 0 && (isAlnum(text[s-1]) || text[s-1] == '.' || text[s-1] == '-') {
			continue
		}
		if e < len(text) && (isAlnum(text[e]) || (text[e] == '.' && e+1 < len(text) && isDigit(text[e+1]))) {
			continue
		}
		addr, err := netip.ParseAddr(text[s:e])
		if err != nil || !addr.Is4() {
			continue
		}
		if containsWord(before(text, s, 24), versionCues...) || containsWord(after(text, e, 24), versionCues...) {
			continue
		}
		out = append(out, span(TypeIPAddress, text, s, e, 0.95, "ipv4"))
	}
	// IPv6: from each ':' back to the start of its hex-and-colon token.
	lastEnd := 0
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], ':')
		if k < 0 {
			break
		}
		c := off + k
		off = c + 1
		if c < lastEnd {
			continue
		}
		s := c
		for s > 0 && (isHex(text[s-1]) || text[s-1] == ':') {
			s--
		}
		m := anchored(ipv6RE, text, s, 64)
		if m == nil {
			continue
		}
		e := m[1]
		lastEnd = e
		if s > 0 && (isAlnum(text[s-1]) || text[s-1] == '.') {
			continue
		}
		// Trailing colons and dots belong to the sentence ("…::1: ok").
		for e > s && (text[e-1] == ':' && !strings.HasSuffix(text[s:e], "::") || text[e-1] == '.') {
			e--
		}
		if e < len(text) && isAlnum(text[e]) {
			continue
		}
		cand := text[s:e]
		if strings.Count(cand, ":") < 2 {
			continue
		}
		addr, err := netip.ParseAddr(cand)
		if err != nil || !addr.Is6() {
			continue
		}
		if !strings.Contains(cand, "::") && strings.Count(cand, ":") < 7 && !strings.Contains(cand, ".") {
			continue
		}
		out = append(out, span(TypeIPAddress, text, s, e, 0.95, "ipv6"))
	}
	return out
}
