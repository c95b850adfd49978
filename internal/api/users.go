package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
)

type userPath struct {
	UserID string `path:"user_id" maxLength:"64"`
}

func (s *Server) registerUsers(api huma.API) {
	tags := []string{"users"}
	register(s, api, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/v1/users", Tags: tags, Summary: "List users (admin:*)"},
		func(ctx context.Context, in *PageParams) (*struct{ Body Page[User] }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			us, next, err := s.auth.ListUsers(ctx, p.OrgID, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			items := make([]User, len(us))
			for i, u := range us {
				items[i] = toUser(u)
			}
			return &struct{ Body Page[User] }{Body: Page[User]{Items: items, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/v1/users", Tags: tags,
		Summary: "Add a user with an organisation role (admin:*)", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body UserCreate }) (*struct{ Body User }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			u, err := s.auth.CreateUser(ctx, p, auth.NewUser{Email: in.Body.Email, Name: in.Body.Name, Role: auth.Role(in.Body.Role)})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body User }{Body: toUser(u)}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-user", Method: http.MethodGet, Path: "/v1/users/{user_id}", Tags: tags, Summary: "Get a user (admin:*)"},
		func(ctx context.Context, in *userPath) (*struct{ Body User }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			u, err := s.auth.GetUser(ctx, p.OrgID, in.UserID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body User }{Body: toUser(u)}, nil
		})
	register(s, api, huma.Operation{OperationID: "update-user", Method: http.MethodPatch, Path: "/v1/users/{user_id}", Tags: tags,
		Summary: "Change a user's role, status or project role bindings (admin:*)"},
		func(ctx context.Context, in *struct {
			UserID string `path:"user_id" maxLength:"64"`
			Body   UserUpdate
		}) (*struct{ Body User }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			var patch auth.UserPatch
			if in.Body.Role != nil {
				r := auth.Role(*in.Body.Role)
				patch.Role = &r
			}
			patch.Status = in.Body.Status
			if len(in.Body.ProjectRoles) > 0 {
				patch.ProjectRoles = map[string]auth.Role{}
				for k, v := range in.Body.ProjectRoles {
					patch.ProjectRoles[k] = auth.Role(v)
				}
			}
			u, err := s.auth.UpdateUser(ctx, p, in.UserID, patch)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body User }{Body: toUser(u)}, nil
		})
}
