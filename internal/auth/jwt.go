package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whet-dev/whet/internal/store"
)

// signer holds whet's Ed25519 JWT keys, persisted in signing_keys so that
// every process sharing the database signs and verifies alike.
type signer struct {
	db  *store.DB
	now func() time.Time

	mu       sync.RWMutex
	keys     map[string]ed25519.PrivateKey
	current  string
	reloaded time.Time
}

func newSigner(ctx context.Context, db *store.DB, now func() time.Time) (*signer, error) {
	s := &signer{db: db, now: now}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	if s.current != "" {
		return s, nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate signing key: %w", err)
	}
	kid := store.NewID("sk")
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES (?, 'EdDSA', ?, ?)`),
			kid, base64.StdEncoding.EncodeToString(priv.Seed()), store.FormatTime(now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: store signing key: %w", err)
	}
	return s, s.reload(ctx)
}

func (s *signer) reload(ctx context.Context) error {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT kid, private_key, created_at FROM signing_keys WHERE alg = 'EdDSA' ORDER BY created_at, kid`)
	if err != nil {
		return fmt.Errorf("auth: load signing keys: %w", err)
	}
	defer rows.Close()
	keys := map[string]ed25519.PrivateKey{}
	current := ""
	for rows.Next() {
		var kid, seed, created string
		if err := rows.Scan(&kid, &seed, &created); err != nil {
			return fmt.Errorf("auth: load signing keys: %w", err)
		}
		b, err := base64.StdEncoding.DecodeString(seed)
		if err != nil || len(b) != ed25519.SeedSize {
			return fmt.Errorf("auth: signing key %s is corrupt", kid)
		}
		keys[kid] = ed25519.NewKeyFromSeed(b)
		current = kid
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auth: load signing keys: %w", err)
	}
	s.mu.Lock()
	s.keys, s.current, s.reloaded = keys, current, s.now()
	s.mu.Unlock()
	return nil
}

// public returns the verification key for kid, reloading from the store
// (at most once a second) when another process has added a key.
func (s *signer) public(ctx context.Context, kid string) (ed25519.PublicKey, bool) {
	s.mu.RLock()
	k, ok := s.keys[kid]
	stale := s.now().Sub(s.reloaded) > time.Second
	s.mu.RUnlock()
	if !ok && stale {
		if s.reload(ctx) == nil {
			s.mu.RLock()
			k, ok = s.keys[kid]
			s.mu.RUnlock()
		}
	}
	if !ok {
		return nil, false
	}
	return k.Public().(ed25519.PublicKey), true
}

// JWK is one JSON Web Key as published at /.well-known/jwks.json.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKS returns whet's public signing keys.
func (s *Service) JWKS() []JWK {
	s.signer.mu.RLock()
	defer s.signer.mu.RUnlock()
	out := make([]JWK, 0, len(s.signer.keys))
	for kid, k := range s.signer.keys {
		pub := k.Public().(ed25519.PublicKey)
		out = append(out, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Alg: "EdDSA", Use: "sig"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kid < out[j].Kid })
	return out
}

// whetClaims are the claims of a whet-issued access token.
type whetClaims struct {
	jwt.RegisteredClaims
	Org     string `json:"org"`
	Role    string `json:"role"`
	Scope   string `json:"scope"`
	Project string `json:"project,omitempty"`
}

// TokenResponse is the OAuth2 access-token response.
type TokenResponse struct {
	AccessToken string
	TokenType   string
	ExpiresIn   int
	Scope       string
}

// IssueToken runs the OAuth2 client-credentials grant: clientID is an API
// key id, clientSecret its secret, scope an optional space-separated subset
// of the key's scopes.
func (s *Service) IssueToken(ctx context.Context, clientID, clientSecret, scope string) (*TokenResponse, error) {
	if clientID == "" || clientSecret == "" {
		return nil, ErrInvalidClient
	}
	if _, _, err := ParseToken(FormatToken(clientID, clientSecret)); err != nil {
		return nil, ErrInvalidClient
	}
	ck, err := s.liveKey(ctx, clientID, clientSecret, true)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return nil, ErrInvalidClient
		}
		return nil, err
	}
	scopes, ok := NarrowScopes(ck.key.Role.Scopes(), scope)
	if !ok {
		return nil, ErrInvalidScope
	}
	s.markUsed(clientID)
	now := s.now()
	exp := now.Add(s.opt.TokenTTL)
	if ck.key.ExpiresAt != nil && ck.key.ExpiresAt.Before(exp) {
		exp = *ck.key.ExpiresAt
	}
	claims := whetClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opt.Issuer, Subject: ck.key.ID, Audience: jwt.ClaimStrings{s.opt.Issuer},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(exp), ID: store.NewID("jti"),
		},
		Org: ck.key.OrgID, Role: string(ck.key.Role), Scope: strings.Join(scopes, " "), Project: ck.key.ProjectID,
	}
	s.signer.mu.RLock()
	kid, priv := s.signer.current, s.signer.keys[s.signer.current]
	s.signer.mu.RUnlock()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = kid
	signed, err := t.SignedString(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: sign token: %w", err)
	}
	return &TokenResponse{AccessToken: signed, TokenType: "Bearer", ExpiresIn: int(exp.Sub(now).Round(time.Second) / time.Second), Scope: claims.Scope}, nil
}

// authJWT verifies a bearer JWT issued by whet or by the configured OIDC
// provider.
func (s *Service) authJWT(ctx context.Context, raw string) (*Principal, error) {
	if len(raw) > 8192 {
		return nil, fmt.Errorf("%w: token too long", ErrUnauthenticated)
	}
	var unverified jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &unverified); err != nil {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	switch {
	case unverified.Issuer == s.opt.Issuer:
		return s.authWhetJWT(ctx, raw)
	case s.oidc != nil && unverified.Issuer == s.oidc.cfg.Issuer:
		return s.authOIDC(ctx, raw)
	default:
		return nil, fmt.Errorf("%w: untrusted token issuer", ErrUnauthenticated)
	}
}

func (s *Service) authWhetJWT(ctx context.Context, raw string) (*Principal, error) {
	var c whetClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := s.signer.public(ctx, kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(s.opt.Issuer), jwt.WithAudience(s.opt.Issuer),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opt.Now))
	if err != nil {
		return nil, fmt.Errorf("%w: invalid token", ErrUnauthenticated)
	}
	// The key behind the token must still be live: revoking a key revokes
	// the tokens issued from it.
	ck, err := s.liveKey(ctx, c.Subject, "", false)
	if err != nil {
		return nil, err
	}
	if ck.key.OrgID != c.Org {
		return nil, fmt.Errorf("%w: token organisation mismatch", ErrUnauthenticated)
	}
	scopes, ok := NarrowScopes(ck.key.Role.Scopes(), c.Scope)
	if !ok || c.Scope == "" {
		return nil, fmt.Errorf("%w: token scopes exceed its key", ErrUnauthenticated)
	}
	return ck.principal("jwt", scopes), nil
}
