package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// DefaultOrgName is the organisation created on first start.
const DefaultOrgName = "default"

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	Org *Org
	// Token is set only when Bootstrap generated a new owner key: the caller
	// prints it once and saves it to DATA/admin.token.
	Token string
	// KeyID is the owner key that adminToken names or that was generated.
	KeyID string
}

// Bootstrap makes sure organisation "default" exists. With adminToken
// (whet_<id>_<secret>) set, that key becomes (or stays) an owner key of
// the default org, its secret updated if it changed. Without it, an owner
// key is generated the first time the org is created.
func (s *Service) Bootstrap(ctx context.Context, adminToken string) (*BootstrapResult, error) {
	var id, secret string
	if adminToken != "" {
		var err error
		if id, secret, err = ParseToken(adminToken); err != nil {
			return nil, fmt.Errorf("auth: bootstrap: WHET_ADMIN_TOKEN: %w (want whet_<id>_<secret>, secret ≥ 16 letters/digits)", err)
		}
	}
	res := &BootstrapResult{}
	err := s.bootstrapTx(ctx, id, secret, res)
	if errors.Is(err, store.ErrConflict) {
		// another process created the org (or key) at the same moment: its
		// transaction won, so ours now finds the rows and does nothing.
		err = s.bootstrapTx(ctx, id, secret, res)
	}
	if err != nil {
		return nil, err
	}
	s.cache.dropKey(res.KeyID)
	return res, nil
}

func (s *Service) bootstrapTx(ctx context.Context, id, secret string, res *BootstrapResult) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		*res = BootstrapResult{}
		created := false
		o, err := s.getOrgTx(ctx, tx, DefaultOrgName)
		if errors.Is(err, store.ErrNotFound) {
			if o, err = s.createOrgTx(ctx, tx, "system", DefaultOrgName); err != nil {
				return err
			}
			created = true
		} else if err != nil {
			return err
		}
		res.Org = o
		if id == "" {
			if !created {
				return nil
			}
			var tok string
			id, secret, tok = NewKey()
			res.Token = tok
		}
		res.KeyID = id
		var orgID, hash string
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT org_id, secret_hash FROM api_keys WHERE id = ?`), id).Scan(&orgID, &hash)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			k := &Key{ID: id, OrgID: o.ID, Name: "admin (bootstrap)", Role: RoleOwner, CreatedBy: "system", CreatedAt: s.now()}
			if err := s.insertKeyTx(ctx, tx, k, secret); err != nil {
				return err
			}
			return s.audit.Append(ctx, tx, audit.Entry{OrgID: o.ID, ActorID: "system", Action: "api_key.create", TargetType: "api_key", TargetID: id,
				Payload: map[string]any{"name": k.Name, "role": k.Role, "bootstrap": true}})
		case err != nil:
			return fmt.Errorf("auth: bootstrap: %w", err)
		case orgID != o.ID:
			return fmt.Errorf("auth: bootstrap: key %s belongs to another organisation", id)
		case hash != HashSecret(secret):
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE api_keys SET secret_hash = ?, revoked_at = NULL, role = ? WHERE id = ?`), HashSecret(secret), string(RoleOwner), id); err != nil {
				return fmt.Errorf("auth: bootstrap: %w", err)
			}
			return s.audit.Append(ctx, tx, audit.Entry{OrgID: o.ID, ActorID: "system", Action: "api_key.reset", TargetType: "api_key", TargetID: id,
				Payload: map[string]any{"reason": "WHET_ADMIN_TOKEN changed"}})
		}
		return nil
	})
}

func (s *Service) getOrgTx(ctx context.Context, tx *sql.Tx, name string) (*Org, error) {
	var id string
	err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT id FROM organizations WHERE name = ?`), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: organisation %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: bootstrap: %w", err)
	}
	return &Org{ID: id, Name: name}, nil
}
