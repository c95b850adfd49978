package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OIDCConfig trusts bearer JWTs from an external OpenID Connect provider.
type OIDCConfig struct {
	Issuer   string // required: the iss claim, e.g. https://id.example.com/realms/acme
	JWKSURL  string // default: jwks_uri from Issuer/.well-known/openid-configuration
	Audience string // optional: required aud value
	// Claim names mapping a token to a principal; defaults "email", "org",
	// "role". The org claim holds an organisation id or name; the role claim
	// a whet role name. When the user exists in that org, its role binding
	// is used if the token carries no valid role.
	UserClaim string
	OrgClaim  string
	RoleClaim string
}

type oidcVerifier struct {
	cfg    OIDCConfig
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    map[string]any
	fetched time.Time
}

func newOIDCVerifier(cfg OIDCConfig, client *http.Client, now func() time.Time) (*oidcVerifier, error) {
	if cfg.UserClaim == "" {
		cfg.UserClaim = "email"
	}
	if cfg.OrgClaim == "" {
		cfg.OrgClaim = "org"
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "role"
	}
	return &oidcVerifier{cfg: cfg, client: client, now: now}, nil
}

// jwksURL returns the configured JWKS URL or discovers it.
func (v *oidcVerifier) jwksURL(ctx context.Context) (string, error) {
	if v.cfg.JWKSURL != "" {
		return v.cfg.JWKSURL, nil
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(v.cfg.Issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return "", err
	}
	if doc.JWKSURI == "" {
		return "", errors.New("auth: oidc discovery has no jwks_uri")
	}
	v.cfg.JWKSURL = doc.JWKSURI
	return doc.JWKSURI, nil
}

func (v *oidcVerifier) getJSON(ctx context.Context, url string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("auth: fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("auth: fetch %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(dst)
}

// key returns the verification key kid, refreshing the JWKS when kid is
// unknown (at most every 10 s).
func (v *oidcVerifier) key(ctx context.Context, kid string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	if !v.fetched.IsZero() && v.now().Sub(v.fetched) < 10*time.Second {
		return nil, errors.New("unknown kid")
	}
	url, err := v.jwksURL(ctx)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []JWK `json:"keys"`
	}
	if err := v.getJSON(ctx, url, &set); err != nil {
		return nil, err
	}
	keys := map[string]any{}
	for _, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		if k, err := j.PublicKey(); err == nil {
			keys[j.Kid] = k
		}
	}
	v.keys, v.fetched = keys, v.now()
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	return nil, errors.New("unknown kid")
}

func (v *oidcVerifier) lookup(kid string) (any, bool) {
	if kid == "" && len(v.keys) == 1 {
		for _, k := range v.keys {
			return k, true
		}
	}
	k, ok := v.keys[kid]
	return k, ok
}

// PublicKey decodes an RSA, EC (P-256/384/521) or Ed25519 JWK.
func (j JWK) PublicKey() (any, error) {
	dec := base64.RawURLEncoding.DecodeString
	switch j.Kty {
	case "RSA":
		n, err1 := dec(j.N)
		e, err2 := dec(j.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("auth: bad RSA JWK")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		var c elliptic.Curve
		switch j.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("auth: unsupported EC curve %q", j.Crv)
		}
		x, err1 := dec(j.X)
		y, err2 := dec(j.Y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("auth: bad EC JWK")
		}
		pk := &ecdsa.PublicKey{Curve: c, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		if !c.IsOnCurve(pk.X, pk.Y) {
			return nil, errors.New("auth: EC JWK point not on curve")
		}
		return pk, nil
	case "OKP":
		x, err := dec(j.X)
		if err != nil || j.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("auth: bad OKP JWK")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("auth: unsupported JWK type %q", j.Kty)
}

func (s *Service) authOIDC(ctx context.Context, raw string) (*Principal, error) {
	v := s.oidc
	claims := jwt.MapClaims{}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}),
		jwt.WithIssuer(v.cfg.Issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opt.Now), jwt.WithLeeway(30 * time.Second),
	}
	if v.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid OIDC token", ErrUnauthenticated)
	}
	str := func(name string) string { s, _ := claims[name].(string); return s }
	sub, user, orgRef, role := str("sub"), str(v.cfg.UserClaim), str(v.cfg.OrgClaim), Role(str(v.cfg.RoleClaim))
	if sub == "" || orgRef == "" {
		return nil, fmt.Errorf("%w: OIDC token lacks sub or %s claim", ErrUnauthenticated, v.cfg.OrgClaim)
	}
	org, err := s.GetOrg(ctx, orgRef)
	if err != nil {
		org, err = s.GetOrgByName(ctx, orgRef)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: unknown organisation in OIDC token", ErrUnauthenticated)
	}
	p := &Principal{OrgID: org.ID, ActorID: "oidc:" + sub, Method: "oidc"}
	if user != "" {
		u, err := s.findUserByEmail(ctx, org.ID, user)
		if err != nil {
			return nil, fmt.Errorf("auth: oidc user: %w", err)
		}
		if u != nil {
			if u.Status != UserActive {
				return nil, fmt.Errorf("%w: user disabled", ErrUnauthenticated)
			}
			p.UserID, p.ActorID, p.ProjectRoles = u.ID, u.ID, u.ProjectRoles
			if !role.Valid() {
				role = u.Role
			}
		}
	}
	if !role.Valid() {
		return nil, fmt.Errorf("%w: OIDC token carries no whet role", ErrForbidden)
	}
	p.Role, p.Scopes = role, role.Scopes()
	return p, nil
}
