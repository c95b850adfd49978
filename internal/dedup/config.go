package dedup

import (
	"errors"
	"fmt"
)

// Errors returned by this package.
var (
	// ErrInvalidConfig reports a [Config] that cannot be used.
	ErrInvalidConfig = errors.New("dedup: invalid config")
	// ErrDuplicateID reports a document id added to an [Index] twice.
	ErrDuplicateID = errors.New("dedup: duplicate document id")
)

// Unit is what shingles are made of.
type Unit string

// Shingle units.
const (
	UnitWord Unit = "word"
	UnitChar Unit = "char"
)

// Keep chooses which document of a cluster survives.
type Keep string

// Keep policies.
const (
	// KeepEarliest keeps the document added first.
	KeepEarliest Keep = "earliest"
	// KeepLongest keeps the longest document (in bytes of its normalised
	// content, as fingerprinted), the earliest among equals.
	KeepLongest Keep = "longest"
	// KeepNewest keeps the document with the latest revision dates (as the
	// caller gives them, see [Document.Dates]; for ingested documents the
	// metadata's modified, then created, then timestamp), the earliest
	// added among equals; undated documents count as older than any dated
	// one. A corpus that holds a policy and its archived older revision
	// keeps the current one.
	KeepNewest Keep = "newest"
)

// Config is the processing API's "dedup" body. Zero fields take the
// defaults of [DefaultConfig], except Exact and NearThreshold, whose zero
// values turn the respective pass off.
type Config struct {
	// Exact drops documents whose [Fingerprint] equals an earlier one's.
	Exact bool `json:"exact"`
	// NearThreshold drops documents whose estimated Jaccard similarity to a
	// kept one is at least this; 0 turns near-duplicate detection off.
	NearThreshold float64 `json:"near_threshold"`
	// ShingleUnit is "word" (default) or "char".
	ShingleUnit Unit `json:"shingle_unit,omitempty"`
	// ShingleSize is k of the k-shingles: default 5 words or 9 characters.
	ShingleSize int `json:"shingle_size,omitempty"`
	// Permutations is the MinHash signature length P; default 128.
	Permutations int `json:"permutations,omitempty"`
	// Bands is the LSH band count b; rows per band r = Permutations / Bands.
	// Default 20 (r = 6 with P = 128): a pair at Jaccard 0.8 becomes a
	// candidate with probability 1-(1-0.8^6)^20 ≈ 0.998, one at 0.5 with
	// probability ≈ 0.27 (and is then rejected by verification).
	Bands int `json:"bands,omitempty"`
	// Keep is "earliest" (default), "longest" or "newest".
	Keep Keep `json:"keep,omitempty"`
	// Seed picks the hash permutations; signatures are comparable only
	// between hashers with the same seed, unit, size and permutations.
	Seed uint64 `json:"seed,omitempty"`
}

// DefaultConfig returns the defaults: exact and near dedup at 0.8, 5-word
// shingles, 128 permutations in 20 bands of 6 rows, keep earliest.
func DefaultConfig() Config {
	return Config{
		Exact:         true,
		NearThreshold: 0.8,
		ShingleUnit:   UnitWord,
		ShingleSize:   5,
		Permutations:  128,
		Bands:         20,
		Keep:          KeepEarliest,
	}
}

func (c Config) withDefaults() Config {
	if c.ShingleUnit == "" {
		c.ShingleUnit = UnitWord
	}
	if c.ShingleSize == 0 {
		c.ShingleSize = 5
		if c.ShingleUnit == UnitChar {
			c.ShingleSize = 9
		}
	}
	if c.Permutations == 0 {
		c.Permutations = 128
	}
	if c.Bands == 0 {
		c.Bands = min(20, c.Permutations)
	}
	if c.Keep == "" {
		c.Keep = KeepEarliest
	}
	return c
}

// Validate reports a configuration that cannot be used, after defaults
// are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.NearThreshold < 0 || c.NearThreshold > 1:
		return fmt.Errorf("%w: near_threshold %v not in [0, 1]", ErrInvalidConfig, c.NearThreshold)
	case c.ShingleUnit != UnitWord && c.ShingleUnit != UnitChar:
		return fmt.Errorf("%w: shingle_unit %q is not word or char", ErrInvalidConfig, c.ShingleUnit)
	case c.ShingleSize < 1 || c.ShingleSize > 64:
		return fmt.Errorf("%w: shingle_size %d not in [1, 64]", ErrInvalidConfig, c.ShingleSize)
	case c.Permutations < 1 || c.Permutations > 4096:
		return fmt.Errorf("%w: permutations %d not in [1, 4096]", ErrInvalidConfig, c.Permutations)
	case c.Bands < 1 || c.Bands > c.Permutations:
		return fmt.Errorf("%w: bands %d not in [1, permutations]", ErrInvalidConfig, c.Bands)
	case c.Keep != KeepEarliest && c.Keep != KeepLongest && c.Keep != KeepNewest:
		return fmt.Errorf("%w: keep %q is not earliest, longest or newest", ErrInvalidConfig, c.Keep)
	}
	return nil
}
