package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// Options configures a Service. The zero value of each field picks the
// documented default.
type Options struct {
	Issuer      string        // iss of whet-issued JWTs; default "whet"
	TokenTTL    time.Duration // lifetime of whet-issued JWTs; default 1h
	KeyCacheTTL time.Duration // how long a key lookup is trusted; default 10s
	// RateLimit is each key's sustained request rate per second; 0 disables
	// rate limiting. RateBurst is the bucket size (default 2×RateLimit).
	RateLimit float64
	RateBurst int
	// FlushInterval is how often batched last_used_at updates are written;
	// default 10s.
	FlushInterval time.Duration
	OIDC          *OIDCConfig // nil: external tokens are not accepted
	Now           func() time.Time
	Logger        *slog.Logger
	HTTPClient    *http.Client // for fetching the OIDC JWKS
}

// Service authenticates callers and manages organisations, users and keys.
type Service struct {
	db    *store.DB
	audit *audit.Log
	opt   Options
	log   *slog.Logger
	cache *cache

	signer *signer
	oidc   *oidcVerifier

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	usedMu sync.Mutex
	used   map[string]time.Time // key id → last use not yet written

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// NewService loads (or creates) the JWT signing keys and starts the
// background flusher of last_used_at; Close stops it.
func NewService(ctx context.Context, db *store.DB, log *audit.Log, opt Options) (*Service, error) {
	if opt.Issuer == "" {
		opt.Issuer = "whet"
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = time.Hour
	}
	if opt.KeyCacheTTL <= 0 {
		opt.KeyCacheTTL = 10 * time.Second
	}
	if opt.RateLimit > 0 && opt.RateBurst <= 0 {
		opt.RateBurst = max(1, int(2*opt.RateLimit))
	}
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = 10 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Service{
		db: db, audit: log, opt: opt, log: opt.Logger, cache: newCache(opt.KeyCacheTTL, opt.Now),
		limiters: map[string]*rate.Limiter{}, used: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	var err error
	if s.signer, err = newSigner(ctx, db, opt.Now); err != nil {
		return nil, err
	}
	if opt.OIDC != nil && opt.OIDC.Issuer != "" {
		if s.oidc, err = newOIDCVerifier(*opt.OIDC, opt.HTTPClient, opt.Now); err != nil {
			return nil, err
		}
	}
	go s.flushLoop()
	return s, nil
}

// Close writes pending last_used_at updates and stops background work.
func (s *Service) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

func (s *Service) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(s.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.FlushLastUsed(context.Background())
		case <-s.stop:
			s.FlushLastUsed(context.Background())
			return
		}
	}
}

// FlushLastUsed writes the batched last_used_at times in one transaction.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	s.usedMu.Lock()
	batch := s.used
	s.used = map[string]time.Time{}
	s.usedMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := s.db.Rebind(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`)
		for id, t := range batch {
			ts := store.FormatTime(t)
			if _, err := tx.ExecContext(ctx, q, ts, id, ts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("auth: flush last_used_at", "err", err, "keys", len(batch))
		return fmt.Errorf("auth: flush last used: %w", err)
	}
	return nil
}

func (s *Service) markUsed(id string) {
	now := s.now()
	s.usedMu.Lock()
	s.used[id] = now
	s.usedMu.Unlock()
}

// overlayLastUsed shows a not yet flushed use in k.
func (s *Service) overlayLastUsed(k *Key) {
	s.usedMu.Lock()
	t, ok := s.used[k.ID]
	s.usedMu.Unlock()
	if ok && (k.LastUsedAt == nil || t.After(*k.LastUsedAt)) {
		k.LastUsedAt = &t
	}
}

// Issuer returns the iss claim of whet-issued tokens.
func (s *Service) Issuer() string { return s.opt.Issuer }

// Authenticate resolves an Authorization header value ("Bearer …") into a
// principal and checks its organisation's IP lists against remote (an
// invalid remote skips the check only when the org has no lists).
func (s *Service) Authenticate(ctx context.Context, authorization string, remote netip.Addr) (*Principal, error) {
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
	}
	tok = strings.TrimSpace(tok)
	var p *Principal
	var err error
	if strings.HasPrefix(tok, TokenPrefix) {
		p, err = s.authAPIKey(ctx, tok)
	} else {
		p, err = s.authJWT(ctx, tok)
	}
	if err != nil {
		return nil, err
	}
	org, err := s.cachedOrg(ctx, p.OrgID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: organisation gone", ErrUnauthenticated)
		}
		return nil, err
	}
	if (len(org.allow) > 0 || len(org.deny) > 0) && (!remote.IsValid() || !org.AllowsIP(remote)) {
		return nil, ErrIPDenied
	}
	return p, nil
}

// liveKey returns the cached key id and checks the secret (when given),
// expiry, revocation and the owning user's status.
func (s *Service) liveKey(ctx context.Context, id, secret string, checkSecret bool) (*cachedKey, error) {
	ck, err := s.cachedKey(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: unknown key", ErrUnauthenticated)
		}
		return nil, err
	}
	if checkSecret && !ck.secretMatches(secret) {
		return nil, fmt.Errorf("%w: bad key secret", ErrUnauthenticated)
	}
	if ck.key.RevokedAt != nil {
		return nil, fmt.Errorf("%w: key revoked", ErrUnauthenticated)
	}
	if ck.key.ExpiresAt != nil && !s.now().Before(*ck.key.ExpiresAt) {
		return nil, fmt.Errorf("%w: key expired", ErrUnauthenticated)
	}
	if ck.userDisabled {
		return nil, fmt.Errorf("%w: user disabled", ErrUnauthenticated)
	}
	return ck, nil
}

func (s *Service) authAPIKey(ctx context.Context, tok string) (*Principal, error) {
	id, secret, err := ParseToken(tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	ck, err := s.liveKey(ctx, id, secret, true)
	if err != nil {
		return nil, err
	}
	s.markUsed(id)
	return ck.apiKeyPrincipal, nil
}

// Allow takes one request from p's token bucket. When the bucket is empty it
// returns false and how long until a request would be allowed.
func (s *Service) Allow(p *Principal) (bool, time.Duration) {
	if s.opt.RateLimit <= 0 {
		return true, 0
	}
	s.limMu.Lock()
	lim, ok := s.limiters[p.ActorID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(s.opt.RateLimit), s.opt.RateBurst)
		s.limiters[p.ActorID] = lim
	}
	s.limMu.Unlock()
	r := lim.ReserveN(s.now(), 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(s.now()); d > 0 {
		r.CancelAt(s.now())
		return false, d
	}
	return true, 0
}

// cachedKey is an API key as the authenticator needs it.
type cachedKey struct {
	key          Key
	hash         string   // stored hex SHA-256 of the secret
	sum          [32]byte // hash decoded once, so a request hashes but never hex-encodes
	sumOK        bool     // hash decoded to 32 bytes
	userDisabled bool
	projectRoles map[string]Role
	fetched      time.Time
	// apiKeyPrincipal is the principal every request made with this key
	// gets; it is built once per cache fill and shared, so callers must
	// treat principals as read-only.
	apiKeyPrincipal *Principal
}

// secretMatches hashes secret and compares it with the stored hash in
// constant time.
func (ck *cachedKey) secretMatches(secret string) bool {
	got := sha256.Sum256([]byte(secret))
	if !ck.sumOK {
		return subtle.ConstantTimeCompare([]byte(ck.hash), []byte(hex.EncodeToString(got[:]))) == 1
	}
	return subtle.ConstantTimeCompare(ck.sum[:], got[:]) == 1
}

func (ck *cachedKey) principal(method string, scopes []string) *Principal {
	k := &ck.key
	if scopes == nil {
		scopes = k.Role.Scopes()
	}
	return &Principal{OrgID: k.OrgID, ActorID: k.ID, KeyID: k.ID, UserID: k.UserID, Role: k.Role, Scopes: scopes,
		ProjectID: k.ProjectID, Method: method, ProjectRoles: ck.projectRoles}
}

type cache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.RWMutex
	key map[string]*cachedKey
	org map[string]*cachedOrg
}

type cachedOrg struct {
	org     *Org
	fetched time.Time
}

func newCache(ttl time.Duration, now func() time.Time) *cache {
	return &cache{ttl: ttl, now: now, key: map[string]*cachedKey{}, org: map[string]*cachedOrg{}}
}

func (c *cache) dropKey(id string) {
	c.mu.Lock()
	delete(c.key, id)
	c.mu.Unlock()
}

func (c *cache) dropUser(userID string) {
	c.mu.Lock()
	for id, ck := range c.key {
		if ck.key.UserID == userID {
			delete(c.key, id)
		}
	}
	c.mu.Unlock()
}

func (c *cache) dropOrg(id string) {
	c.mu.Lock()
	delete(c.org, id)
	c.mu.Unlock()
}

func (s *Service) cachedKey(ctx context.Context, id string) (*cachedKey, error) {
	s.cache.mu.RLock()
	ck, ok := s.cache.key[id]
	s.cache.mu.RUnlock()
	if ok && s.now().Sub(ck.fetched) < s.cache.ttl {
		return ck, nil
	}
	var hash, status sql.NullString
	k, err := scanKey(s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+keyColumns+`, k.secret_hash, u.status
		FROM api_keys k LEFT JOIN users u ON u.id = k.user_id WHERE k.id = ?`), id), &hash, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up key: %w", err)
	}
	ck = &cachedKey{key: *k, hash: hash.String, userDisabled: status.Valid && status.String == UserDisabled, fetched: s.now()}
	if len(ck.hash) == 2*len(ck.sum) {
		_, err := hex.Decode(ck.sum[:], []byte(ck.hash))
		ck.sumOK = err == nil
	}
	if k.UserID != "" {
		u := &User{ID: k.UserID}
		if err := s.loadBindings(ctx, s.db.SQL, u); err != nil {
			return nil, fmt.Errorf("auth: look up key bindings: %w", err)
		}
		if len(u.ProjectRoles) > 0 {
			ck.projectRoles = u.ProjectRoles
		}
	}
	ck.apiKeyPrincipal = ck.principal("api_key", nil)
	s.cache.mu.Lock()
	s.cache.key[id] = ck
	s.cache.mu.Unlock()
	return ck, nil
}

func (s *Service) cachedOrg(ctx context.Context, id string) (*Org, error) {
	s.cache.mu.RLock()
	co, ok := s.cache.org[id]
	s.cache.mu.RUnlock()
	if ok && s.now().Sub(co.fetched) < s.cache.ttl {
		return co.org, nil
	}
	o, err := s.GetOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	s.cache.org[id] = &cachedOrg{org: o, fetched: s.now()}
	s.cache.mu.Unlock()
	return o, nil
}
