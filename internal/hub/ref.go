package hub

import (
	"fmt"
	"strings"
)

// Scheme prefixes every hub reference.
const Scheme = "hf://"

// DefaultRevision is the revision of a reference that names none.
const DefaultRevision = "main"

// Ref is a parsed hub reference.
type Ref struct {
	// Repo is "org/name" (or a legacy single-segment name such as "gpt2").
	Repo string
	// Revision is a branch, tag or commit sha; empty means DefaultRevision.
	Revision string
}

// IsRef reports whether s uses the hf:// scheme (it may still be malformed).
func IsRef(s string) bool { return strings.HasPrefix(s, Scheme) }

// ParseRef parses hf://org/name or hf://org/name@revision.
func ParseRef(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Ref{}, fmt.Errorf("%w: %q does not start with %s", ErrBadRef, clip(s), Scheme)
	}
	repo, rev, hasRev := strings.Cut(rest, "@")
	if err := validRepo(repo); err != nil {
		return Ref{}, fmt.Errorf("%w: %q: %v", ErrBadRef, clip(s), err)
	}
	if hasRev {
		if err := validRevision(rev); err != nil {
			return Ref{}, fmt.Errorf("%w: %q: %v", ErrBadRef, clip(s), err)
		}
	}
	return Ref{Repo: repo, Revision: rev}, nil
}

// String returns the reference in the form ParseRef accepts.
func (r Ref) String() string {
	if r.Revision == "" {
		return Scheme + r.Repo
	}
	return Scheme + r.Repo + "@" + r.Revision
}

// rev returns the revision to ask the hub for.
func (r Ref) rev() string {
	if r.Revision == "" {
		return DefaultRevision
	}
	return r.Revision
}

// validRepo accepts one or two segments of letters, digits, '.', '_' and
// '-', each 1 to 96 long, not starting or ending with '.' or '-', without
// "--" or ".." (the hub's own rules, which also keep names path-safe).
func validRepo(repo string) error {
	if repo == "" {
		return fmt.Errorf("empty repository name")
	}
	parts := strings.Split(repo, "/")
	if len(parts) > 2 {
		return fmt.Errorf("repository must be org/name")
	}
	for _, p := range parts {
		if p == "" || len(p) > 96 {
			return fmt.Errorf("repository segment must be 1 to 96 characters")
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("repository has a character other than letters, digits, '.', '_' or '-'")
			}
		}
		if strings.Contains(p, "--") || strings.Contains(p, "..") ||
			strings.ContainsAny(p[:1], ".-") || strings.ContainsAny(p[len(p)-1:], ".-") {
			return fmt.Errorf("repository segment %q is not a valid hub name", p)
		}
	}
	return nil
}

// validRevision follows git's ref-name rules closely enough that a revision
// is safe in a URL path segment (escaped) and as an escaped file name.
func validRevision(rev string) error {
	switch {
	case rev == "":
		return fmt.Errorf("empty revision after '@'")
	case len(rev) > 255:
		return fmt.Errorf("revision longer than 255 characters")
	case strings.Contains(rev, ".."), strings.Contains(rev, "//"), strings.Contains(rev, "@{"),
		strings.HasPrefix(rev, "/"), strings.HasSuffix(rev, "/"), strings.HasPrefix(rev, "."),
		strings.HasSuffix(rev, "."), strings.HasSuffix(rev, ".lock"):
		return fmt.Errorf("revision %q is not a valid git ref", rev)
	}
	for i := 0; i < len(rev); i++ {
		c := rev[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("~^:?*[\\@", c) >= 0 {
			return fmt.Errorf("revision has a forbidden character %q", c)
		}
	}
	return nil
}

// isCommit reports whether rev is a full commit id (40 or 64 lowercase hex).
func isCommit(rev string) bool {
	if len(rev) != 40 && len(rev) != 64 {
		return false
	}
	return isHex(rev)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
