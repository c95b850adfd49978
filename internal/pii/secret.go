package pii

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

// secretREs are anchored patterns tried where one of their prefixes (in
// the lower-cased text) occurs.
var secretREs = []struct {
	name     string
	prefixes []string
	window   int
	re       *regexp.Regexp
	score    float64
}{
	{"private_key", []string{"begin "}, 1 << 16, regexp.MustCompile(`^-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), 0.99},
	{"aws_access_key", []string{"akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka"}, 20, regexp.MustCompile(`^(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}`), 0.97},
	{"github_token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, 260, regexp.MustCompile(`^(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}`), 0.99},
	{"github_token", []string{"github_pat_"}, 270, regexp.MustCompile(`^github_pat_[A-Za-z0-9_]{60,255}`), 0.99},
	{"slack_token", []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"}, 260, regexp.MustCompile(`^xox[abprs]-[A-Za-z0-9\-]{10,250}`), 0.98},
	{"slack_token", []string{"xapp-"}, 260, regexp.MustCompile(`^xapp-[0-9]-[A-Za-z0-9\-]{10,250}`), 0.98},
	{"stripe_key", []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"}, 110, regexp.MustCompile(`^(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}`), 0.97},
	{"jwt", []string{"eyj"}, 8192, regexp.MustCompile(`^eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`), 0.95},
}

// secretPrefixes maps each secret prefix to its patterns.
var secretPrefixes, secretByPrefix = func() (prefixTable, map[string][]int) {
	by := make(map[string][]int)
	var all []string
	for i, r := range secretREs {
		for _, p := range r.prefixes {
			if by[p] == nil {
				all = append(all, p)
			}
			by[p] = append(by[p], i)
		}
	}
	return newPrefixTable(all...), by
}()

var (
	assignTable = newPrefixTable(assignKeywords...)
	awsCues     = newPrefixTable("aws", "secretaccesskey", "secret_access_key", "secret-access-key", "secret access key")
)

// Credential assignments: a key naming a password, secret, token or API
// key, then ':' or '=', then the value (quoted or bare). The scan starts at
// each keyword found in the lower-cased text.
var (
	assignKeywords = []string{"password", "passwd", "passwort", "passphrase", "pwd", "pass", "secret", "token",
		"api_key", "api-key", "apikey", "access_key", "access-key", "accesskey", "private_key", "credential"}
	assignRE = regexp.MustCompile(`(?i)^(?:password|passwd|passwort|passphrase|pwd|pass|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?)(?:[_.\-]?[a-z0-9]+)*["']?[ \t]*[:=][ \t]*(["']?)([^\s"'&,;<>` + "`" + `]{4,200})`)
)

func detectSecrets(_ *Detector, x *doc, out []Span) []Span {
	text := x.text
	wordStarts(secretPrefixes, x, func(at int, p string) {
		for _, i := range secretByPrefix[p] {
			r := secretREs[i]
			if r.name == "private_key" {
				// The word BEGIN follows five dashes.
				if at < 5 || text[at-5:at] != "-----" {
					continue
				}
				at -= 5
			}
			m := anchored(r.re, text, at, r.window)
			if m == nil {
				continue
			}
			s, e := m[0], m[1]
			if r.name != "private_key" && ((s > 0 && isAlnum(text[s-1])) || (e < len(text) && isAlnum(text[e]))) {
				continue
			}
			if r.name == "jwt" && !jwtHeader(text[s:e]) {
				continue
			}
			out = append(out, span(TypeSecret, text, s, e, r.score, r.name))
		}
	})
	seen := make(map[int]bool)
	wordStarts(assignTable, x, func(at int, _ string) {
		// The keyword starts a word: "db_password", "smtp password",
		// "SecretAccessKey", never "compass".
		if seen[at] || (at > 0 && isDigit(text[at-1])) {
			return
		}
		seen[at] = true
		if m := anchored(assignRE, text, at, 300); m != nil {
			if sp, ok := assignment(text, m); ok {
				out = append(out, sp)
			}
		}
	})
	// AWS secret keys: a run of exactly 40 key characters shortly after
	// "aws" or "secret".
	lastEnd := 0
	{
		wordStarts(awsCues, x, func(at int, _ string) {
			from := max(at, lastEnd)
			for i := from; i < min(len(text), at+100); {
				if !isKeyChar(text[i]) {
					i++
					continue
				}
				j := i
				for j < len(text) && isKeyChar(text[j]) {
					j++
				}
				if j-i == 40 {
					out = append(out, span(TypeSecret, text, i, j, 0.95, "aws_secret_key"))
					lastEnd = j
				}
				i = j
			}
		})
	}
	return out
}

func isKeyChar(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '/' || c == '+' || c == '='
}

// assignment turns an assignRE match into the span of its value.
func assignment(text string, m []int) (Span, bool) {
	s, e := m[4], m[5]
	if quote := text[m[2]:m[3]]; quote != "" {
		// A quoted value runs to its closing quote on the same line.
		k := strings.IndexAny(text[s:min(len(text), s+200)], quote+"\n")
		if k < 0 || text[s+k] != quote[0] {
			return Span{}, false
		}
		e = s + k
	} else {
		for e > s && strings.IndexByte(".,)]}", text[e-1]) >= 0 {
			e--
		}
	}
	if e-s < 4 || placeholder(text[s:e]) {
		return Span{}, false
	}
	return span(TypeSecret, text, s, e, 0.85, "password_assignment"), true
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
