package dataset

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SemVer is a dataset's semantic version.
type SemVer struct{ Major, Minor, Patch int }

func (v SemVer) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less orders versions.
func (v SemVer) Less(w SemVer) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// ErrVersion reports a malformed version or dataset URI.
var ErrVersion = errors.New("dataset: invalid version")

// ParseSemVer parses "1.2.3" (a leading "v" is accepted).
func ParseSemVer(s string) (SemVer, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) != 3 {
		return SemVer{}, fmt.Errorf("%w %q: want MAJOR.MINOR.PATCH", ErrVersion, s)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || (len(p) > 1 && p[0] == '0') {
			return SemVer{}, fmt.Errorf("%w %q: want MAJOR.MINOR.PATCH", ErrVersion, s)
		}
		n[i] = x
	}
	return SemVer{n[0], n[1], n[2]}, nil
}

// Change says how a new version differs from its parent.
type Change int

// The kinds of change, from least to most significant.
const (
	// ChangePatch: the same sources re-synced with content changes.
	ChangePatch Change = iota
	// ChangeMinor: new processing output, more sources or records.
	ChangeMinor
	// ChangeMajor: a different kind of content or an incompatible schema.
	ChangeMajor
)

// Next returns the version after v for a change of the given size.
func (v SemVer) Next(c Change) SemVer {
	switch c {
	case ChangeMajor:
		return SemVer{v.Major + 1, 0, 0}
	case ChangeMinor:
		return SemVer{v.Major, v.Minor + 1, 0}
	default:
		return SemVer{v.Major, v.Minor, v.Patch + 1}
	}
}

// URI names a dataset version: ds://project/name@1.2.0, ds://project/name
// (the latest version) or ds://project/name@sha256:<hex> (a lineage hash).
type URI struct {
	Project, Name, Version string
}

var uriPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParseURI parses a ds:// URI.
func ParseURI(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, "ds://")
	if !ok {
		return URI{}, fmt.Errorf("%w %q: want ds://project/name[@version]", ErrVersion, s)
	}
	var u URI
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		u.Version = rest[at+1:]
		rest = rest[:at]
		if strings.HasPrefix(u.Version, "sha256:") {
			if len(u.Version) != len("sha256:")+64 {
				return URI{}, fmt.Errorf("%w %q: bad lineage hash", ErrVersion, s)
			}
		} else if _, err := ParseSemVer(u.Version); err != nil {
			return URI{}, err
		}
	}
	proj, name, ok := strings.Cut(rest, "/")
	if !ok || !uriPart.MatchString(proj) || !uriPart.MatchString(name) {
		return URI{}, fmt.Errorf("%w %q: want ds://project/name[@version]", ErrVersion, s)
	}
	u.Project, u.Name = proj, name
	return u, nil
}

func (u URI) String() string {
	s := "ds://" + u.Project + "/" + u.Name
	if u.Version != "" {
		s += "@" + u.Version
	}
	return s
}
