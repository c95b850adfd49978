package api

import (
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
)

// Page is one page of a list: items plus the cursor of the next page (""
// on the last page).
type Page[T any] struct {
	Items      []T    `json:"items" nullable:"false"`
	NextCursor string `json:"next_cursor" doc:"Pass as ?cursor= to get the next page; empty on the last page."`
}

// PageParams are the ?limit=&cursor= query parameters of every list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"512" doc:"next_cursor from the previous page."`
}

// Project is a workspace inside an organisation (PRD §10.2).
type Project struct {
	ID          string    `json:"id" example:"prj_k3x7q2m9a8b4c5d6e7f2"`
	OrgID       string    `json:"org_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProjectCreate is the body of POST /v1/projects.
type ProjectCreate struct {
	Name        string `json:"name" minLength:"1" maxLength:"100" pattern:"^[^\\x00-\\x1f\\x7f]+$" doc:"Unique within the organisation."`
	Description string `json:"description,omitempty" maxLength:"2000"`
}

// ProjectUpdate is the body of PATCH /v1/projects/{project_id}; absent
// fields are left unchanged.
type ProjectUpdate struct {
	Name        *string `json:"name,omitempty" minLength:"1" maxLength:"100" pattern:"^[^\\x00-\\x1f\\x7f]+$"`
	Description *string `json:"description,omitempty" maxLength:"2000"`
}

// APIKey describes an API key; its secret is never returned after creation.
type APIKey struct {
	ID         string     `json:"id" example:"key_k3x7q2m9a8b4c5d6e7f2"`
	Name       string     `json:"name"`
	Role       string     `json:"role" enum:"owner,admin,ml_engineer,data_engineer,sme,viewer"`
	Scopes     []string   `json:"scopes"`
	ProjectID  string     `json:"project_id,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyCreate is the body of POST /v1/api-keys.
type APIKeyCreate struct {
	Name      string     `json:"name" minLength:"1" maxLength:"200"`
	Role      string     `json:"role" enum:"owner,admin,ml_engineer,data_engineer,sme,viewer"`
	ProjectID string     `json:"project_id,omitempty" maxLength:"64" doc:"Restrict the key to one project."`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// APIKeySecret is returned once, on create and rotate: the token is not
// stored and cannot be shown again.
type APIKeySecret struct {
	APIKey
	Token string `json:"token" doc:"whet_<key id>_<secret>; shown once."`
}

// User is a person in the organisation.
type User struct {
	ID           string            `json:"id"`
	Email        string            `json:"email"`
	Name         string            `json:"name"`
	Status       string            `json:"status" enum:"active,disabled"`
	Role         string            `json:"role"`
	ProjectRoles map[string]string `json:"project_roles"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// UserCreate is the body of POST /v1/users.
type UserCreate struct {
	Email string `json:"email" format:"email" maxLength:"254"`
	Name  string `json:"name,omitempty" maxLength:"200"`
	Role  string `json:"role" enum:"owner,admin,ml_engineer,data_engineer,sme,viewer"`
}

// UserUpdate is the body of PATCH /v1/users/{user_id}. project_roles maps
// project ids to a role; an empty role removes the binding.
type UserUpdate struct {
	Role         *string           `json:"role,omitempty" enum:"owner,admin,ml_engineer,data_engineer,sme,viewer"`
	Status       *string           `json:"status,omitempty" enum:"active,disabled"`
	ProjectRoles map[string]string `json:"project_roles,omitempty" maxProperties:"100"`
}

// Organization is the caller's organisation and its network policy.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Plan      string    `json:"plan"`
	IPAllow   []string  `json:"ip_allow" nullable:"false"`
	IPDeny    []string  `json:"ip_deny" nullable:"false"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OrganizationUpdate is the body of PATCH /v1/organization; an absent list
// is left unchanged, an empty one cleared.
type OrganizationUpdate struct {
	IPAllow []string `json:"ip_allow,omitempty" maxItems:"256" doc:"CIDRs or addresses; when non-empty only these may call."`
	IPDeny  []string `json:"ip_deny,omitempty" maxItems:"256" doc:"CIDRs or addresses that may never call; checked first."`
}

// AuditRecord is one link of the audit hash chain.
type AuditRecord = audit.Record

// TokenResponse is the OAuth2 token response of POST /v1/auth/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type" example:"Bearer"`
	ExpiresIn   int    `json:"expires_in" doc:"Seconds until the token expires."`
	Scope       string `json:"scope"`
}

// JWKSet is the body of GET /.well-known/jwks.json.
type JWKSet struct {
	Keys []auth.JWK `json:"keys"`
}

func toAPIKey(k *auth.Key) APIKey {
	return APIKey{ID: k.ID, Name: k.Name, Role: string(k.Role), Scopes: k.Role.Scopes(), ProjectID: k.ProjectID, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func toUser(u *auth.User) User {
	pr := make(map[string]string, len(u.ProjectRoles))
	for k, v := range u.ProjectRoles {
		pr[k] = string(v)
	}
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status, Role: string(u.Role), ProjectRoles: pr, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func toOrg(o *auth.Org) Organization {
	allow, deny := o.IPAllow, o.IPDeny
	if allow == nil {
		allow = []string{}
	}
	if deny == nil {
		deny = []string{}
	}
	return Organization{ID: o.ID, Name: o.Name, Plan: o.Plan, IPAllow: allow, IPDeny: deny, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}
