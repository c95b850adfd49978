package auth

import (
	"context"
	"slices"
)

// Principal is an authenticated caller.
type Principal struct {
	OrgID     string
	ActorID   string // key id, user id, or "oidc:<subject>"
	KeyID     string // set when the caller used an API key or a whet JWT
	UserID    string
	Role      Role
	Scopes    []string
	ProjectID string // non-empty: the caller may touch only this project
	Method    string // "api_key", "jwt" or "oidc"
	// ProjectRoles holds the caller's per-project role bindings (users only).
	ProjectRoles map[string]Role
}

// Can reports whether p holds scope across its organisation.
func (p *Principal) Can(scope string) bool { return HasScope(p.Scopes, scope) }

// CanIn reports whether p holds scope for projectID: its organisation-wide
// scopes, plus any role bound to it for that project. A project-restricted
// key holds nothing outside its project.
func (p *Principal) CanIn(projectID, scope string) bool {
	if !p.SeesProject(projectID) {
		return false
	}
	if p.Can(scope) {
		return true
	}
	if r, ok := p.ProjectRoles[projectID]; ok {
		return HasScope(r.Scopes(), scope)
	}
	return false
}

// SeesProject reports whether p may see projectID at all.
func (p *Principal) SeesProject(projectID string) bool {
	return p.ProjectID == "" || p.ProjectID == projectID
}

// MayGrant reports whether p may hand role r to someone else: it needs
// admin:* and a role at least as powerful as r, and only an owner may
// create owners.
func (p *Principal) MayGrant(r Role) bool {
	if !p.Can(ScopeAdmin) || !slices.Contains(p.Scopes, ScopeAdmin) {
		return false
	}
	if r == RoleOwner {
		return p.Role == RoleOwner
	}
	return p.Role.AtLeast(r)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
