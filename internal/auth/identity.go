package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// Errors callers map to HTTP statuses.
var (
	ErrUnauthenticated = errors.New("auth: not authenticated")
	ErrForbidden       = errors.New("auth: forbidden")
	ErrIPDenied        = errors.New("auth: client address not allowed for this organisation")
	ErrInvalidClient   = errors.New("auth: invalid client credentials")
	ErrInvalidScope    = errors.New("auth: requested scope not granted")
)

// FieldError reports one invalid input field.
type FieldError struct {
	Field   string // e.g. "body.role"
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return "auth: " + e.Field + ": " + e.Message }

// Org is an organisation (tenant).
type Org struct {
	ID        string
	Name      string
	Plan      string
	IPAllow   []string // CIDRs; empty allows every address not denied
	IPDeny    []string // CIDRs; checked first
	CreatedAt time.Time
	UpdatedAt time.Time

	allow, deny []netip.Prefix
}

// AllowsIP reports whether addr may call on behalf of o. Deny rules win;
// with a non-empty allow list the address must match one of its entries.
func (o *Org) AllowsIP(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range o.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(o.allow) == 0 {
		return true
	}
	for _, p := range o.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseCIDRs validates a list of CIDRs (a bare address means a single
// host); field names the list in errors.
func ParseCIDRs(field string, list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, &FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("%q is not a CIDR or IP address", s)}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// User is a person in an organisation.
type User struct {
	ID           string
	OrgID        string
	Email        string
	Name         string
	Status       string // "active" or "disabled"
	Role         Role   // organisation-wide role ("" if none)
	ProjectRoles map[string]Role
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Key is an API key (never its secret).
type Key struct {
	ID         string
	OrgID      string
	UserID     string
	Name       string
	Role       Role
	ProjectID  string
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

func parseTimes(dst ...any) func(...string) error {
	return func(src ...string) error {
		for i, v := range src {
			t, err := store.ParseTime(v)
			if err != nil {
				return err
			}
			*(dst[i].(*time.Time)) = t
		}
		return nil
	}
}

func parseNullTime(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return nil, nil
	}
	t, err := store.ParseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// GetOrg returns the organisation with id orgID.
func (s *Service) GetOrg(ctx context.Context, orgID string) (*Org, error) {
	return s.getOrgBy(ctx, "id", orgID)
}

// GetOrgByName returns the organisation named name.
func (s *Service) GetOrgByName(ctx context.Context, name string) (*Org, error) {
	return s.getOrgBy(ctx, "name", name)
}

func (s *Service) getOrgBy(ctx context.Context, col, v string) (*Org, error) {
	var o Org
	var allow, deny, created, updated string
	err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT id, name, plan, ip_allow, ip_deny, created_at, updated_at FROM organizations WHERE `+col+` = ?`), v).
		Scan(&o.ID, &o.Name, &o.Plan, &allow, &deny, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: organisation %q: %w", v, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get organisation: %w", err)
	}
	if err := json.Unmarshal([]byte(allow), &o.IPAllow); err != nil {
		return nil, fmt.Errorf("auth: organisation %s ip_allow: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(deny), &o.IPDeny); err != nil {
		return nil, fmt.Errorf("auth: organisation %s ip_deny: %w", o.ID, err)
	}
	if o.allow, err = ParseCIDRs("ip_allow", o.IPAllow); err != nil {
		return nil, err
	}
	if o.deny, err = ParseCIDRs("ip_deny", o.IPDeny); err != nil {
		return nil, err
	}
	if err := parseTimes(&o.CreatedAt, &o.UpdatedAt)(created, updated); err != nil {
		return nil, err
	}
	return &o, nil
}

// createOrgTx inserts an organisation and its audit record.
func (s *Service) createOrgTx(ctx context.Context, tx *sql.Tx, actor, name string) (*Org, error) {
	now := s.now()
	o := &Org{ID: store.NewID("org"), Name: name, Plan: "free", IPAllow: []string{}, IPDeny: []string{}, CreatedAt: now, UpdatedAt: now}
	ts := store.FormatTime(now)
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO organizations (id, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`), o.ID, o.Name, o.Plan, ts, ts); err != nil {
		if store.IsUniqueViolation(err) {
			return nil, fmt.Errorf("auth: organisation %q: %w", name, store.ErrConflict)
		}
		return nil, fmt.Errorf("auth: create organisation: %w", err)
	}
	return o, s.audit.Append(ctx, tx, audit.Entry{OrgID: o.ID, ActorID: actor, Action: "org.create", TargetType: "org", TargetID: o.ID, Payload: map[string]any{"name": name}})
}

// CreateOrg creates an organisation (used by bootstrap and tests).
func (s *Service) CreateOrg(ctx context.Context, actor, name string) (*Org, error) {
	var o *Org
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = s.createOrgTx(ctx, tx, actor, name)
		return err
	})
	return o, err
}

// UpdateOrgIPLists replaces the caller's organisation's IP allow and deny
// lists (nil leaves a list unchanged).
func (s *Service) UpdateOrgIPLists(ctx context.Context, p *Principal, allow, deny []string) (*Org, error) {
	if !p.Can(ScopeAdmin) {
		return nil, ErrForbidden
	}
	if _, err := ParseCIDRs("body.ip_allow", allow); err != nil {
		return nil, err
	}
	if _, err := ParseCIDRs("body.ip_deny", deny); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		sets, args := []string{"updated_at = ?"}, []any{store.FormatTime(s.now())}
		payload := map[string]any{}
		if allow != nil {
			b, _ := json.Marshal(allow)
			sets, args = append(sets, "ip_allow = ?"), append(args, string(b))
			payload["ip_allow"] = allow
		}
		if deny != nil {
			b, _ := json.Marshal(deny)
			sets, args = append(sets, "ip_deny = ?"), append(args, string(b))
			payload["ip_deny"] = deny
		}
		args = append(args, p.OrgID)
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE organizations SET `+strings.Join(sets, ", ")+` WHERE id = ?`), args...); err != nil {
			return fmt.Errorf("auth: update organisation: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "org.update", TargetType: "org", TargetID: p.OrgID, Payload: payload})
	})
	if err != nil {
		return nil, err
	}
	s.cache.dropOrg(p.OrgID)
	return s.GetOrg(ctx, p.OrgID)
}
