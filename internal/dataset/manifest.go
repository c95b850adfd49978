package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// ManifestSchema names the manifest format; it is part of the hashed bytes,
// so a format change can never collide with an older version's hash.
const ManifestSchema = "whet.dataset.manifest/v1"

// Manifest describes one immutable dataset version completely: what it
// contains (item digests), where it came from (sources with their content
// hashes, parent versions) and how it was made (processing config, weak-label
// provenance, mixing). Its canonical JSON is content-addressed: the SHA-256 of
// those bytes is the version's lineage hash. Labels that do not change the
// content (the semantic version, creation time, who made it) are kept outside
// the manifest so that the same inputs always hash the same.
type Manifest struct {
	Schema     string          `json:"schema"`
	Kind       Kind            `json:"kind"`
	Parents    []string        `json:"parents"`    // lineage hashes of the versions this one derives from, sorted
	Sources    []Source        `json:"sources"`    // sorted by ID
	Processing json.RawMessage `json:"processing"` // the processing config as applied (redaction, dedup, filters, …)
	WeakLabels []LabelFunc     `json:"weak_labels,omitempty"`
	Mix        []MixEntry      `json:"mix,omitempty"`
	Items      []Item          `json:"items"` // sorted by ID
}

// Source is one input a version was built from.
type Source struct {
	ID   string `json:"id"`   // source id (src_…) or upload batch id
	Type string `json:"type"` // upload, folder, http, postgres, mysql, s3, sharepoint, gdrive, import, mix
	URI  string `json:"uri"`
	Hash string `json:"hash"` // sha256 over the source's contributed content (or its cursor state)
}

// Item is one document or record in a version.
type Item struct {
	ID     string `json:"id"`               // document fingerprint or record key
	Digest string `json:"digest"`           // sha256 of the stored content (processed text or canonical record)
	Split  string `json:"split,omitempty"`  // train, validation or test when splits were assigned
	Label  string `json:"label,omitempty"`  // weak label, when one was assigned
	Source string `json:"source,omitempty"` // source id the item came from
}

// LabelFunc records one weak-supervision labelling function and how it voted.
type LabelFunc struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"` // regex, keyword, pattern
	Pattern  string  `json:"pattern"`
	Label    string  `json:"label"`
	Coverage float64 `json:"coverage"`
	Accuracy float64 `json:"accuracy"` // estimated (agreement with the label model)
}

// MixEntry records one component of a weighted training mix.
type MixEntry struct {
	Dataset     string  `json:"dataset"`
	LineageHash string  `json:"lineage_hash"`
	Weight      float64 `json:"weight"`
	Count       int     `json:"count"`
}

// ErrManifest reports a manifest that is not well formed.
var ErrManifest = errors.New("dataset: invalid manifest")

// Normalize sorts every list so that equal content gives equal bytes, and
// fills defaults. It is idempotent.
func (m *Manifest) Normalize() {
	m.Schema = ManifestSchema
	if m.Parents == nil {
		m.Parents = []string{}
	}
	sort.Strings(m.Parents)
	if m.Sources == nil {
		m.Sources = []Source{}
	}
	sort.Slice(m.Sources, func(i, j int) bool { return m.Sources[i].ID < m.Sources[j].ID })
	if m.Items == nil {
		m.Items = []Item{}
	}
	sort.Slice(m.Items, func(i, j int) bool { return m.Items[i].ID < m.Items[j].ID })
	sort.Slice(m.WeakLabels, func(i, j int) bool { return m.WeakLabels[i].Name < m.WeakLabels[j].Name })
	sort.Slice(m.Mix, func(i, j int) bool { return m.Mix[i].Dataset < m.Mix[j].Dataset })
	if len(m.Processing) == 0 {
		m.Processing = json.RawMessage("{}")
	}
}

// Validate checks the manifest is well formed: a known kind, unique item ids,
// digests present.
func (m *Manifest) Validate() error {
	if _, err := ParseKind(string(m.Kind)); err != nil {
		return fmt.Errorf("%w: %v", ErrManifest, err)
	}
	seen := make(map[string]struct{}, len(m.Items))
	for i, it := range m.Items {
		if it.ID == "" || it.Digest == "" {
			return fmt.Errorf("%w: item %d has no id or digest", ErrManifest, i)
		}
		if _, dup := seen[it.ID]; dup {
			return fmt.Errorf("%w: duplicate item id %q", ErrManifest, it.ID)
		}
		seen[it.ID] = struct{}{}
	}
	return nil
}

// Canonical normalises the manifest and returns its canonical JSON bytes.
func (m *Manifest) Canonical() ([]byte, error) {
	m.Normalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return Canonical(m)
}

// LineageHash returns "sha256:<hex>" of the canonical manifest.
func (m *Manifest) LineageHash() (string, error) {
	b, err := m.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
