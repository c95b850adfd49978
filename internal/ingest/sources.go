package ingest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// SourceSpec is the body of POST /v1/datasets/{id}/ingest/sources.
type SourceSpec struct {
	Type      string          `json:"type"`
	Name      string          `json:"name,omitempty"`
	Config    json.RawMessage `json:"config"`
	Schedule  string          `json:"schedule,omitempty"` // cron expression (5 fields); empty = on demand
	AccessTag string          `json:"access_tag,omitempty"`
	// Secrets maps a secret name used by the connector (e.g. "token",
	// "password") to a reference ("env:NAME", "file:PATH") or a literal value,
	// which is stored encrypted with WHET_SECRET_KEY and never returned.
	Secrets map[string]string `json:"secrets,omitempty"`
}

// SourceRecord is a registered source as the API shows it: secrets appear
// only as their references or "stored".
type SourceRecord struct {
	ID         string            `json:"id"`
	DatasetID  string            `json:"dataset_id"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Config     json.RawMessage   `json:"config"`
	Schedule   string            `json:"schedule,omitempty"`
	AccessTag  string            `json:"access_tag,omitempty"`
	Secrets    map[string]string `json:"secrets,omitempty"`
	LastSyncAt *time.Time        `json:"last_sync_at,omitempty"`
	LastJobID  string            `json:"last_job_id,omitempty"`
	LastError  string            `json:"last_error,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}

// storedConfig is what the config_json column holds.
type storedConfig struct {
	Config     json.RawMessage   `json:"config"`
	AccessTag  string            `json:"access_tag,omitempty"`
	SecretRefs map[string]string `json:"secret_refs,omitempty"` // name → env:/file: reference
}

// ErrNoSecretKey reports a literal secret without WHET_SECRET_KEY to encrypt it.
var ErrNoSecretKey = errors.New("ingest: literal secrets need WHET_SECRET_KEY to be set; use env:NAME or file:PATH references instead")

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// RegisterSource validates and stores a source for a dataset.
func (in *Ingester) RegisterSource(ctx context.Context, orgID, actorID, datasetID string, spec SourceSpec) (*SourceRecord, error) {
	ds, err := in.Datasets.Get(ctx, orgID, datasetID)
	if err != nil {
		return nil, err
	}
	if spec.Schedule != "" {
		if _, err := cronParser.Parse(spec.Schedule); err != nil {
			return nil, fmt.Errorf("%w: schedule: %v", ErrConfig, err)
		}
	}
	if len(spec.Config) == 0 {
		spec.Config = json.RawMessage("{}")
	}
	refs := map[string]string{}
	literals := map[string]string{}
	for name, v := range spec.Secrets {
		if strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:") {
			refs[name] = v
		} else {
			literals[name] = v
		}
	}
	// Build the connector once with the secrets resolved, to reject a bad
	// config now rather than at the first sync.
	resolve := func(name string) (string, error) {
		if v, ok := literals[name]; ok {
			return v, nil
		}
		if r, ok := refs[name]; ok {
			return resolveRef(r)
		}
		return "", fmt.Errorf("%w: secret %q is not set", ErrConfig, name)
	}
	if _, err := NewConnector(spec.Type, spec.Config, resolve); err != nil {
		return nil, err
	}
	enc := ""
	if len(literals) > 0 {
		if len(in.SecretKey) == 0 {
			return nil, fmt.Errorf("%w: %w", ErrConfig, ErrNoSecretKey)
		}
		b, _ := json.Marshal(literals)
		if enc, err = seal(in.SecretKey, b); err != nil {
			return nil, err
		}
	}
	cfgJSON, _ := json.Marshal(storedConfig{Config: spec.Config, AccessTag: spec.AccessTag, SecretRefs: refs})
	now := time.Now().UTC()
	rec := &SourceRecord{ID: store.NewID("src_"), DatasetID: ds.ID, Type: spec.Type, Name: spec.Name, Config: spec.Config,
		Schedule: spec.Schedule, AccessTag: spec.AccessTag, Secrets: maskSecrets(refs, literals), CreatedAt: now}
	db := in.DB
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO dataset_sources (id, org_id, dataset_id, type, name, config_json, secret_enc,
			schedule, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), rec.ID, orgID, ds.ID, spec.Type,
			spec.Name, string(cfgJSON), enc, spec.Schedule, actorID, store.FormatTime(now), store.FormatTime(now))
		if err != nil {
			return err
		}
		return in.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "dataset.source.create", TargetType: "source",
			TargetID: rec.ID, Payload: map[string]any{"dataset_id": ds.ID, "type": spec.Type, "schedule": spec.Schedule}})
	})
	if err != nil {
		return nil, fmt.Errorf("register source: %w", err)
	}
	return rec, nil
}

func maskSecrets(refs, literals map[string]string) map[string]string {
	if len(refs)+len(literals) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range refs {
		out[k] = v
	}
	for k := range literals {
		out[k] = "stored"
	}
	return out
}

// loadedSource is a source row with its secrets ready to resolve.
type loadedSource struct {
	SourceRecord
	OrgID  string
	cursor json.RawMessage
	stored storedConfig
	enc    string
}

func (in *Ingester) loadSource(ctx context.Context, orgID, id string) (*loadedSource, error) {
	db := in.DB
	var s loadedSource
	var cfg, cursor, created string
	var last sql.NullString
	err := db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT id, org_id, dataset_id, type, name, config_json, secret_enc, schedule, cursor_json,
		last_sync_at, last_job_id, last_error, created_at FROM dataset_sources WHERE id = ? AND org_id = ?`), id, orgID).Scan(
		&s.ID, &s.OrgID, &s.DatasetID, &s.Type, &s.Name, &cfg, &s.enc, &s.Schedule, &cursor, &last, &s.LastJobID, &s.LastError, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("source %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &s.stored); err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	s.Config, s.AccessTag, s.cursor = s.stored.Config, s.stored.AccessTag, json.RawMessage(cursor)
	s.Secrets = maskSecrets(s.stored.SecretRefs, nil)
	if s.enc != "" {
		if s.Secrets == nil {
			s.Secrets = map[string]string{}
		}
		s.Secrets["*"] = "stored"
	}
	s.CreatedAt, _ = store.ParseTime(created)
	if last.Valid {
		t, _ := store.ParseTime(last.String)
		s.LastSyncAt = &t
	}
	return &s, nil
}

// GetSource returns a registered source of the organisation.
func (in *Ingester) GetSource(ctx context.Context, orgID, id string) (*SourceRecord, error) {
	s, err := in.loadSource(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return &s.SourceRecord, nil
}

func (in *Ingester) secretsOf(s *loadedSource) Secrets {
	return func(name string) (string, error) {
		if r, ok := s.stored.SecretRefs[name]; ok {
			return resolveRef(r)
		}
		if s.enc != "" {
			if len(in.SecretKey) == 0 {
				return "", ErrNoSecretKey
			}
			b, err := open(in.SecretKey, s.enc)
			if err != nil {
				return "", fmt.Errorf("decrypt secrets of %s: %w (was WHET_SECRET_KEY changed?)", s.ID, err)
			}
			var lit map[string]string
			if err := json.Unmarshal(b, &lit); err == nil {
				if v, ok := lit[name]; ok {
					return v, nil
				}
			}
		}
		return "", fmt.Errorf("%w: secret %q is not set", ErrConfig, name)
	}
}

// resolveRef reads an env: or file: secret reference. The process
// environment is read here, at sync time, because a reference names a
// variable of the worker that runs the sync.
func resolveRef(ref string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "env:"):
		v, ok := os.LookupEnv(strings.TrimPrefix(ref, "env:"))
		if !ok {
			return "", fmt.Errorf("secret reference %s: variable not set", ref)
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(ref, "file:"))
		if err != nil {
			return "", fmt.Errorf("secret reference %s: %w", ref, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", fmt.Errorf("%w: bad secret reference %q", ErrConfig, ref)
}

// seal encrypts with AES-256-GCM under a key derived from the server secret.
func seal(secret, plain []byte) (string, error) {
	k := sha256.Sum256(secret)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "v1:" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte("whet-source-secrets"))), nil
}

func open(secret []byte, sealed string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil {
		return nil, err
	}
	k := sha256.Sum256(secret)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(raw) < gcm.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	return gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte("whet-source-secrets"))
}
