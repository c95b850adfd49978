package pii

import (
	"errors"
	"log/slog"
)

// Type is a kind of personal or secret data.
type Type string

// The detected types. Their string values are the names used in the
// processing API's "types" list.
const (
	TypeEmail       Type = "email"
	TypePhone       Type = "phone"
	TypeCreditCard  Type = "credit_card"
	TypeIBAN        Type = "iban"
	TypeSSN         Type = "ssn"
	TypeIPAddress   Type = "ip_address"
	TypeDateOfBirth Type = "date_of_birth"
	TypeAddress     Type = "address"
	TypeSecret      Type = "secret"
	TypePerson      Type = "person"
)

// AllTypes returns every type, most specific first.
func AllTypes() []Type {
	return []Type{TypeSecret, TypeCreditCard, TypeIBAN, TypeSSN, TypeEmail, TypeIPAddress,
		TypePhone, TypeDateOfBirth, TypeAddress, TypePerson}
}

// rank orders types by specificity for overlap resolution: a validated
// secret or card number beats an email-shaped or phone-shaped reading of
// the same characters.
func (t Type) rank() int {
	switch t {
	case TypeSecret:
		return 10
	case TypeCreditCard, TypeIBAN:
		return 9
	case TypeSSN:
		return 8
	case TypeEmail:
		return 7
	case TypeIPAddress:
		return 6
	case TypePhone:
		return 5
	case TypeDateOfBirth:
		return 4
	case TypeAddress:
		return 3
	case TypePerson:
		return 2
	}
	return 0
}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool { return t.rank() > 0 }

// Structured reports whether t has a checkable format (the types with
// precision and recall goals): everything but dates of birth, addresses and
// person names.
func (t Type) Structured() bool {
	switch t {
	case TypeDateOfBirth, TypeAddress, TypePerson:
		return false
	}
	return t.Valid()
}

// Span is one detected value.
type Span struct {
	Type Type `json:"type"`
	// Start and End are byte offsets into the text, End exclusive.
	Start int `json:"start"`
	End   int `json:"end"`
	// Text is text[Start:End]. It is the sensitive value itself: never log
	// it (LogValue leaves it out).
	Text string `json:"text"`
	// Score is the detector's confidence in [0, 1].
	Score float64 `json:"score"`
	// Detector names the rule that fired, e.g. "aws_access_key" or
	// "phone_international".
	Detector string `json:"detector"`
}

// LogValue implements [slog.LogValuer] without the sensitive text.
func (s Span) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", string(s.Type)),
		slog.Int("start", s.Start),
		slog.Int("end", s.End),
		slog.Float64("score", s.Score),
		slog.String("detector", s.Detector),
	)
}

// Errors returned by this package.
var (
	// ErrUnknownType reports a type name that is not a [Type].
	ErrUnknownType = errors.New("pii: unknown type")
	// ErrUnknownMode reports a redaction mode that is not a [Mode].
	ErrUnknownMode = errors.New("pii: unknown mode")
	// ErrNoKey reports pseudonym mode without a key.
	ErrNoKey = errors.New("pii: pseudonym mode needs a key")
)
