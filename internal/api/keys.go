package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
)

func (s *Server) registerKeys(api huma.API) {
	tags := []string{"api-keys"}
	register(s, api, huma.Operation{OperationID: "create-api-key", Method: http.MethodPost, Path: "/v1/api-keys", Tags: tags,
		Summary: "Create an API key (admin:*); the token is shown once", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body APIKeyCreate }) (*struct{ Body APIKeySecret }, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			k, tok, err := s.auth.CreateKey(ctx, p, auth.NewAPIKey{Name: in.Body.Name, Role: auth.Role(in.Body.Role), ProjectID: in.Body.ProjectID, ExpiresAt: in.Body.ExpiresAt})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body APIKeySecret }{Body: APIKeySecret{APIKey: toAPIKey(k), Token: tok}}, nil
		})
	register(s, api, huma.Operation{OperationID: "list-api-keys", Method: http.MethodGet, Path: "/v1/api-keys", Tags: tags, Summary: "List API keys (admin:*)"},
		func(ctx context.Context, in *PageParams) (*struct{ Body Page[APIKey] }, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			ks, next, err := s.auth.ListKeys(ctx, p.OrgID, p.ProjectID, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			items := make([]APIKey, len(ks))
			for i, k := range ks {
				items[i] = toAPIKey(k)
			}
			return &struct{ Body Page[APIKey] }{Body: Page[APIKey]{Items: items, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-api-key", Method: http.MethodGet, Path: "/v1/api-keys/{id}", Tags: tags, Summary: "Get an API key (admin:*)"},
		func(ctx context.Context, in *idPath) (*struct{ Body APIKey }, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			k, err := s.auth.GetKey(ctx, p.OrgID, in.ID)
			if err == nil && !p.SeesProject(k.ProjectID) {
				return nil, huma.Error404NotFound("not found")
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body APIKey }{Body: toAPIKey(k)}, nil
		})
	register(s, api, huma.Operation{OperationID: "rotate-api-key", Method: http.MethodPost, Path: "/v1/api-keys/{id}/rotate", Tags: tags,
		Summary: "Give a key a new secret; the old token stops working (admin:*)"},
		func(ctx context.Context, in *idPath) (*struct{ Body APIKeySecret }, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			k, tok, err := s.auth.RotateKey(ctx, p, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body APIKeySecret }{Body: APIKeySecret{APIKey: toAPIKey(k), Token: tok}}, nil
		})
	register(s, api, huma.Operation{OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/v1/api-keys/{id}", Tags: tags,
		Summary: "Revoke an API key (admin:*)", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idPath) (*Empty, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			if err := s.auth.RevokeKey(ctx, p, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			return &Empty{}, nil
		})
}
