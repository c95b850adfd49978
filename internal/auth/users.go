package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
)

// NewUser is the input to CreateUser.
type NewUser struct {
	Email string
	Name  string
	Role  Role
}

// UserPatch is the input to UpdateUser; nil fields are left unchanged. A
// ProjectRoles entry with an empty role removes that project binding.
type UserPatch struct {
	Role         *Role
	Status       *string
	ProjectRoles map[string]Role
}

const userColumns = `u.id, u.org_id, u.email, u.name, u.status, u.created_at, u.updated_at`

func (s *Service) scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var created, updated string
	if err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Status, &created, &updated); err != nil {
		return nil, err
	}
	return &u, parseTimes(&u.CreatedAt, &u.UpdatedAt)(created, updated)
}

func (s *Service) loadBindings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, u *User) error {
	rows, err := q.QueryContext(ctx, s.db.Rebind(`SELECT project_id, role FROM role_bindings WHERE user_id = ?`), u.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	u.ProjectRoles = map[string]Role{}
	for rows.Next() {
		var pid, role string
		if err := rows.Scan(&pid, &role); err != nil {
			return err
		}
		if pid == "" {
			u.Role = Role(role)
		} else {
			u.ProjectRoles[pid] = Role(role)
		}
	}
	return rows.Err()
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
}

// CreateUser adds a user to p's organisation with an organisation-wide
// role binding.
func (s *Service) CreateUser(ctx context.Context, p *Principal, in NewUser) (*User, error) {
	if !p.Can(ScopeAdmin) {
		return nil, ErrForbidden
	}
	in.Email = strings.TrimSpace(in.Email)
	if !validEmail(in.Email) {
		return nil, &FieldError{Field: "body.email", Message: "not a valid email address"}
	}
	if !in.Role.Valid() {
		return nil, &FieldError{Field: "body.role", Message: "unknown role"}
	}
	if !p.MayGrant(in.Role) {
		return nil, fmt.Errorf("%w: may not grant role %s", ErrForbidden, in.Role)
	}
	now := s.now()
	u := &User{ID: store.NewID("usr"), OrgID: p.OrgID, Email: in.Email, Name: in.Name, Status: UserActive, Role: in.Role, ProjectRoles: map[string]Role{}, CreatedAt: now, UpdatedAt: now}
	ts := store.FormatTime(now)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO users (id, org_id, email, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.OrgID, u.Email, u.Name, u.Status, ts, ts); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("auth: user %s: %w", in.Email, store.ErrConflict)
			}
			return fmt.Errorf("auth: create user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO role_bindings (id, org_id, user_id, project_id, role, created_at) VALUES (?, ?, ?, '', ?, ?)`),
			store.NewID("rb"), u.OrgID, u.ID, string(u.Role), ts); err != nil {
			return fmt.Errorf("auth: create user binding: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "user.create", TargetType: "user", TargetID: u.ID,
			Payload: map[string]any{"email": u.Email, "role": u.Role}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns user id of orgID with its role bindings.
func (s *Service) GetUser(ctx context.Context, orgID, id string) (*User, error) {
	u, err := s.scanUser(s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+userColumns+` FROM users u WHERE u.org_id = ? AND u.id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: user %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get user: %w", err)
	}
	if err := s.loadBindings(ctx, s.db.SQL, u); err != nil {
		return nil, fmt.Errorf("auth: get user bindings: %w", err)
	}
	return u, nil
}

// findUserByEmail returns the user with email in orgID, or nil.
func (s *Service) findUserByEmail(ctx context.Context, orgID, email string) (*User, error) {
	u, err := s.scanUser(s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+userColumns+` FROM users u WHERE u.org_id = ? AND u.email = ?`), orgID, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, s.loadBindings(ctx, s.db.SQL, u)
}

// ListUsers pages through orgID's users by id.
func (s *Service) ListUsers(ctx context.Context, orgID string, limit int, cursor string) ([]*User, string, error) {
	after, err := store.DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = store.ClampLimit(limit, 50)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT `+userColumns+` FROM users u WHERE u.org_id = ? AND u.id > ? ORDER BY u.id LIMIT ?`), orgID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("auth: list users: %w", err)
	}
	var out []*User
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("auth: list users: %w", err)
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("auth: list users: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor(out[limit-1].ID)
	}
	for _, u := range out {
		if err := s.loadBindings(ctx, s.db.SQL, u); err != nil {
			return nil, "", fmt.Errorf("auth: list users: %w", err)
		}
	}
	return out, next, nil
}

// UpdateUser changes a user's organisation role, status or project role
// bindings.
func (s *Service) UpdateUser(ctx context.Context, p *Principal, id string, in UserPatch) (*User, error) {
	if !p.Can(ScopeAdmin) {
		return nil, ErrForbidden
	}
	u, err := s.GetUser(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	if in.Role == nil && in.Status == nil && len(in.ProjectRoles) == 0 {
		return nil, &FieldError{Field: "body", Message: "nothing to change: give role, status or project_roles"}
	}
	if in.Role != nil {
		if !in.Role.Valid() {
			return nil, &FieldError{Field: "body.role", Message: "unknown role"}
		}
		if !p.MayGrant(*in.Role) || (u.Role != "" && !p.MayGrant(u.Role)) {
			return nil, fmt.Errorf("%w: may not change a user to or from role %s", ErrForbidden, *in.Role)
		}
	}
	if in.Status != nil && *in.Status != UserActive && *in.Status != UserDisabled {
		return nil, &FieldError{Field: "body.status", Message: "must be active or disabled"}
	}
	for pid, r := range in.ProjectRoles {
		if r != "" && !r.Valid() {
			return nil, &FieldError{Field: "body.project_roles." + pid, Message: "unknown role"}
		}
		if r != "" && !p.MayGrant(r) {
			return nil, fmt.Errorf("%w: may not grant role %s", ErrForbidden, r)
		}
	}
	now := store.FormatTime(s.now())
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		payload := map[string]any{}
		if in.Role != nil {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM role_bindings WHERE user_id = ? AND project_id = ''`), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO role_bindings (id, org_id, user_id, project_id, role, created_at) VALUES (?, ?, ?, '', ?, ?)`),
				store.NewID("rb"), p.OrgID, id, string(*in.Role), now); err != nil {
				return err
			}
			payload["role"] = *in.Role
		}
		if in.Status != nil {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE users SET status = ? WHERE id = ? AND org_id = ?`), *in.Status, id, p.OrgID); err != nil {
				return err
			}
			payload["status"] = *in.Status
		}
		for pid, r := range in.ProjectRoles {
			var n int
			if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT count(*) FROM projects WHERE id = ? AND org_id = ?`), pid, p.OrgID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return &FieldError{Field: "body.project_roles." + pid, Message: "no such project"}
			}
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM role_bindings WHERE user_id = ? AND project_id = ?`), id, pid); err != nil {
				return err
			}
			if r != "" {
				if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO role_bindings (id, org_id, user_id, project_id, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
					store.NewID("rb"), p.OrgID, id, pid, string(r), now); err != nil {
					return err
				}
			}
		}
		if len(in.ProjectRoles) > 0 {
			payload["project_roles"] = in.ProjectRoles
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE users SET updated_at = ? WHERE id = ? AND org_id = ?`), now, id, p.OrgID); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "user.update", TargetType: "user", TargetID: id, Payload: payload})
	})
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: update user: %w", err)
	}
	s.cache.dropUser(id)
	return s.GetUser(ctx, p.OrgID, id)
}
