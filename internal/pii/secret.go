package pii

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

var secretREs = []struct {
	name  string
	re    *regexp.Regexp
	score float64
}{
	{"private_key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), 0.99},
	{"aws_access_key", regexp.MustCompile(`(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}`), 0.97},
	{"github_token", regexp.MustCompile(`(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}`), 0.99},
	{"github_token", regexp.MustCompile(`github_pat_[A-Za-z0-9_]{60,255}`), 0.99},
	{"slack_token", regexp.MustCompile(`xox[abprs]-[A-Za-z0-9\-]{10,250}`), 0.98},
	{"slack_token", regexp.MustCompile(`xapp-[0-9]-[A-Za-z0-9\-]{10,250}`), 0.98},
	{"stripe_key", regexp.MustCompile(`(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}`), 0.97},
	{"jwt", regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`), 0.95},
}

// assignRE finds credential assignments: a key naming a password, secret,
// token or API key, then ':' or '=', then the value (quoted or bare).
var assignRE = regexp.MustCompile(`(?i)(?:[a-z0-9]+[_.\- ])*(?:password|passwd|passwort|passphrase|pwd|pass|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?)(?:[_.\-]?[a-z0-9]+)*["']?[ \t]*[:=][ \t]*(["']?)([^\s"'&,;<>]{4,200})`)

// awsSecretRE is a 40-character AWS secret access key; reported only near
// "aws" and "secret".
var awsSecretRE = regexp.MustCompile(`[A-Za-z0-9/+=]{40}`)

func detectSecrets(_ *Detector, text string, out []Span) []Span {
	for _, r := range secretREs {
		for _, m := range r.re.FindAllStringIndex(text, -1) {
			s, e := m[0], m[1]
			if r.name != "private_key" && ((s > 0 && isAlnum(text[s-1])) || (e < len(text) && isAlnum(text[e]))) {
				continue
			}
			if r.name == "jwt" && !jwtHeader(text[s:e]) {
				continue
			}
			out = append(out, span(TypeSecret, text, s, e, r.score, r.name))
		}
	}
	for _, m := range assignRE.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > 0 && isAlnum(text[m[0]-1]) {
			continue
		}
		s, e := m[4], m[5]
		if quote := text[m[2]:m[3]]; quote != "" {
			// A quoted value runs to its closing quote on the same line.
			k := strings.IndexAny(text[s:min(len(text), s+200)], quote+"\n")
			if k < 0 || text[s+k] != quote[0] {
				continue
			}
			e = s + k
		} else {
			for e > s && strings.IndexByte(".,)]}", text[e-1]) >= 0 {
				e--
			}
		}
		v := text[s:e]
		if e-s < 4 || placeholder(v) {
			continue
		}
		out = append(out, span(TypeSecret, text, s, e, 0.85, "password_assignment"))
	}
	for _, m := range awsSecretRE.FindAllStringIndex(text, -1) {
		s, e := m[0], m[1]
		if (s > 0 && (isAlnum(text[s-1]) || strings.IndexByte("/+=", text[s-1]) >= 0)) || (e < len(text) && (isAlnum(text[e]) || strings.IndexByte("/+=", text[e]) >= 0)) {
			continue
		}
		ctx := before(text, s, 64)
		if strings.Contains(ctx, "aws") || strings.Contains(strings.ReplaceAll(ctx, "_", ""), "secretaccesskey") {
			out = append(out, span(TypeSecret, text, s, e, 0.95, "aws_secret_key"))
		}
	}
	return out
}

// placeholder reports values that stand for a secret without being one:
// masks, variable references, template markers and JSON literals.
func placeholder(v string) bool {
	switch strings.ToLower(v) {
	case "null", "none", "true", "false", "nil", "empty", "required", "optional", "string", "redacted", "hidden", "xxxx", "xxxxxx", "xxxxxxxx":
		return true
	}
	if strings.IndexByte("$<{%*[(", v[0]) >= 0 {
		return true
	}
	if strings.Trim(v, "*xX•.#") == "" {
		return true
	}
	return strings.HasPrefix(v, "[") || strings.Contains(v, "{{")
}

// jwtHeader reports whether the first part of tok is base64url JSON with
// an "alg" or "typ" member.
func jwtHeader(tok string) bool {
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	_, alg := m["alg"]
	_, typ := m["typ"]
	return alg || typ
}
