package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// NewAPIKey is the input to CreateKey.
type NewAPIKey struct {
	Name      string
	Role      Role
	ProjectID string     // optional: restrict the key to one project
	ExpiresAt *time.Time // optional
}

const keyColumns = `k.id, k.org_id, k.user_id, k.name, k.role, k.project_id, k.created_by, k.created_at, k.expires_at, k.last_used_at, k.revoked_at`

func scanKey(row interface{ Scan(...any) error }, extra ...any) (*Key, error) {
	var k Key
	var role, created string
	var exp, used, revoked sql.NullString
	dst := append([]any{&k.ID, &k.OrgID, &k.UserID, &k.Name, &role, &k.ProjectID, &k.CreatedBy, &created, &exp, &used, &revoked}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	k.Role = Role(role)
	var err error
	if k.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	if k.ExpiresAt, err = parseNullTime(exp); err != nil {
		return nil, err
	}
	if k.LastUsedAt, err = parseNullTime(used); err != nil {
		return nil, err
	}
	if k.RevokedAt, err = parseNullTime(revoked); err != nil {
		return nil, err
	}
	return &k, nil
}

func (s *Service) projectInOrg(ctx context.Context, orgID, projectID string) (bool, error) {
	var n int
	err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM projects WHERE id = ? AND org_id = ?`), projectID, orgID).Scan(&n)
	return n > 0, err
}

// CreateKey issues a new API key in p's organisation and returns it with
// its token, which is not stored and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, p *Principal, in NewAPIKey) (*Key, string, error) {
	if !p.Can(ScopeAdmin) {
		return nil, "", ErrForbidden
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return nil, "", &FieldError{Field: "body.name", Message: "must be 1 to 200 characters"}
	}
	if !in.Role.Valid() {
		return nil, "", &FieldError{Field: "body.role", Message: "unknown role"}
	}
	if !p.MayGrant(in.Role) {
		return nil, "", fmt.Errorf("%w: may not grant role %s", ErrForbidden, in.Role)
	}
	if p.ProjectID != "" && in.ProjectID != p.ProjectID {
		return nil, "", fmt.Errorf("%w: a project key may only create keys for its project", ErrForbidden)
	}
	if in.ProjectID != "" {
		ok, err := s.projectInOrg(ctx, p.OrgID, in.ProjectID)
		if err != nil {
			return nil, "", fmt.Errorf("auth: create key: %w", err)
		}
		if !ok {
			return nil, "", &FieldError{Field: "body.project_id", Message: "no such project"}
		}
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, "", &FieldError{Field: "body.expires_at", Message: "must be in the future"}
	}
	id, secret, token := NewKey()
	k := &Key{ID: id, OrgID: p.OrgID, UserID: p.UserID, Name: in.Name, Role: in.Role, ProjectID: in.ProjectID, CreatedBy: p.ActorID, CreatedAt: now, ExpiresAt: in.ExpiresAt}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertKeyTx(ctx, tx, k, secret); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "api_key.create", TargetType: "api_key", TargetID: k.ID,
			Payload: map[string]any{"name": k.Name, "role": k.Role, "project_id": k.ProjectID}})
	})
	if err != nil {
		return nil, "", err
	}
	return k, token, nil
}

func (s *Service) insertKeyTx(ctx context.Context, tx *sql.Tx, k *Key, secret string) error {
	var exp any
	if k.ExpiresAt != nil {
		exp = store.FormatTime(*k.ExpiresAt)
	}
	_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO api_keys (id, org_id, user_id, name, role, project_id, secret_hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.OrgID, k.UserID, k.Name, string(k.Role), k.ProjectID, HashSecret(secret), k.CreatedBy, store.FormatTime(k.CreatedAt), exp)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("auth: key %s: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("auth: insert key: %w", err)
	}
	return nil
}

// GetKey returns key id of orgID.
func (s *Service) GetKey(ctx context.Context, orgID, id string) (*Key, error) {
	k, err := scanKey(s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+keyColumns+` FROM api_keys k WHERE k.org_id = ? AND k.id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get key: %w", err)
	}
	s.overlayLastUsed(k)
	return k, nil
}

// ListKeys pages through orgID's keys by id (revoked keys included);
// projectID, when set, limits the list to keys of that project.
func (s *Service) ListKeys(ctx context.Context, orgID, projectID string, limit int, cursor string) ([]*Key, string, error) {
	after, err := store.DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = store.ClampLimit(limit, 50)
	q := `SELECT ` + keyColumns + ` FROM api_keys k WHERE k.org_id = ? AND k.id > ?`
	args := []any{orgID, after}
	if projectID != "" {
		q += ` AND k.project_id = ?`
		args = append(args, projectID)
	}
	args = append(args, limit+1)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(q+` ORDER BY k.id LIMIT ?`), args...)
	if err != nil {
		return nil, "", fmt.Errorf("auth: list keys: %w", err)
	}
	defer rows.Close()
	var out []*Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("auth: list keys: %w", err)
		}
		s.overlayLastUsed(k)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("auth: list keys: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor(out[limit-1].ID)
	}
	return out, next, nil
}

// RotateKey gives key id a new secret (the old token stops working at once
// in this process, and within the key cache TTL elsewhere) and returns the
// new token.
func (s *Service) RotateKey(ctx context.Context, p *Principal, id string) (*Key, string, error) {
	k, err := s.mutableKey(ctx, p, id)
	if err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE api_keys SET secret_hash = ? WHERE id = ? AND org_id = ? AND revoked_at IS NULL`), HashSecret(secret), id, p.OrgID)
		if err != nil {
			return fmt.Errorf("auth: rotate key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("auth: key %q: %w", id, store.ErrNotFound)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "api_key.rotate", TargetType: "api_key", TargetID: id})
	})
	if err != nil {
		return nil, "", err
	}
	s.cache.dropKey(id)
	return k, FormatToken(id, secret), nil
}

// RevokeKey revokes key id; it stops working at once in this process and
// within the key cache TTL elsewhere.
func (s *Service) RevokeKey(ctx context.Context, p *Principal, id string) error {
	if _, err := s.mutableKey(ctx, p, id); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND org_id = ? AND revoked_at IS NULL`), store.FormatTime(s.now()), id, p.OrgID)
		if err != nil {
			return fmt.Errorf("auth: revoke key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("auth: key %q: %w", id, store.ErrNotFound)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "api_key.revoke", TargetType: "api_key", TargetID: id})
	})
	if err != nil {
		return err
	}
	s.cache.dropKey(id)
	return nil
}

// mutableKey loads a live key p may change: p needs admin:* and a role at
// least as powerful as the key's; revoked keys answer ErrNotFound.
func (s *Service) mutableKey(ctx context.Context, p *Principal, id string) (*Key, error) {
	if !p.Can(ScopeAdmin) {
		return nil, ErrForbidden
	}
	k, err := s.GetKey(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	if !p.SeesProject(k.ProjectID) || (p.ProjectID != "" && k.ProjectID == "") {
		return nil, fmt.Errorf("auth: key %q: %w", id, store.ErrNotFound)
	}
	if k.RevokedAt != nil {
		return nil, fmt.Errorf("auth: key %q is revoked: %w", id, store.ErrNotFound)
	}
	if !p.MayGrant(k.Role) {
		return nil, fmt.Errorf("%w: may not change a key with role %s", ErrForbidden, k.Role)
	}
	return k, nil
}
