package auth

import (
	"slices"
	"strings"
)

// Scopes a token can carry.
const (
	ScopeDataRead    = "data:read"
	ScopeDataWrite   = "data:write"
	ScopeTrainRun    = "train:run"
	ScopeModelDeploy = "model:deploy"
	ScopeEvalRun     = "eval:run"
	ScopeAdmin       = "admin:*" // implies every other scope
)

// AllScopes lists every scope in display order.
var AllScopes = []string{ScopeDataRead, ScopeDataWrite, ScopeTrainRun, ScopeModelDeploy, ScopeEvalRun, ScopeAdmin}

// Role is a named set of scopes, bound to a user or key per organisation or
// per project.
type Role string

// The built-in roles, most powerful first.
const (
	RoleOwner        Role = "owner"
	RoleAdmin        Role = "admin"
	RoleMLEngineer   Role = "ml_engineer"
	RoleDataEngineer Role = "data_engineer"
	RoleSME          Role = "sme"
	RoleViewer       Role = "viewer"
)

// Roles lists the built-in roles, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMLEngineer, RoleDataEngineer, RoleSME, RoleViewer}

// roleScopes is the roles → scopes table documented in docs/RBAC.md.
var roleScopes = map[Role][]string{
	RoleOwner:        {ScopeDataRead, ScopeDataWrite, ScopeTrainRun, ScopeModelDeploy, ScopeEvalRun, ScopeAdmin},
	RoleAdmin:        {ScopeDataRead, ScopeDataWrite, ScopeTrainRun, ScopeModelDeploy, ScopeEvalRun, ScopeAdmin},
	RoleMLEngineer:   {ScopeDataRead, ScopeTrainRun, ScopeModelDeploy, ScopeEvalRun},
	RoleDataEngineer: {ScopeDataRead, ScopeDataWrite},
	RoleSME:          {ScopeDataRead, ScopeDataWrite, ScopeEvalRun},
	RoleViewer:       {ScopeDataRead},
}

// roleRank orders roles for "may not grant more than you hold".
var roleRank = map[Role]int{RoleOwner: 6, RoleAdmin: 5, RoleMLEngineer: 4, RoleDataEngineer: 3, RoleSME: 2, RoleViewer: 1}

// Valid reports whether r is a built-in role.
func (r Role) Valid() bool { _, ok := roleScopes[r]; return ok }

// Scopes returns the scopes r grants (nil for an unknown role).
func (r Role) Scopes() []string { return slices.Clone(roleScopes[r]) }

// AtLeast reports whether r is as powerful as other.
func (r Role) AtLeast(other Role) bool { return roleRank[r] >= roleRank[other] }

// HasScope reports whether the granted scopes satisfy need; admin:*
// satisfies every scope.
func HasScope(granted []string, need string) bool {
	for _, s := range granted {
		if s == need || s == ScopeAdmin {
			return true
		}
	}
	return false
}

// ValidScope reports whether s is one of AllScopes.
func ValidScope(s string) bool { return slices.Contains(AllScopes, s) }

// NarrowScopes returns the scopes in the space-separated request that the
// granted set allows, and ok=false if any requested scope is unknown or not
// granted. An empty request returns the granted set.
func NarrowScopes(granted []string, request string) ([]string, bool) {
	fields := strings.Fields(request)
	if len(fields) == 0 {
		return slices.Clone(granted), true
	}
	var out []string
	for _, s := range fields {
		if !ValidScope(s) {
			return nil, false
		}
		if s == ScopeAdmin && !slices.Contains(granted, ScopeAdmin) {
			return nil, false
		}
		if !HasScope(granted, s) {
			return nil, false
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, true
}
