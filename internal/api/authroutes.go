package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
)

// tokenInput is the raw body of POST /v1/auth/token, which OAuth2 clients
// send as a form and others as JSON.
type tokenInput struct {
	ContentType   string `header:"Content-Type"`
	Authorization string `header:"Authorization"`
	RawBody       []byte
}

// TokenRequest is the JSON (or form) body of POST /v1/auth/token.
type TokenRequest struct {
	GrantType    string `json:"grant_type" enum:"client_credentials"`
	ClientID     string `json:"client_id" maxLength:"128" doc:"The API key id (key_…)."`
	ClientSecret string `json:"client_secret" maxLength:"128" doc:"The API key secret (the part of the token after the last underscore)."`
	Scope        string `json:"scope,omitempty" maxLength:"512" doc:"Space-separated subset of the key's scopes."`
}

// OAuthError is an RFC 6749 §5.2 error, served as problem+json with the
// OAuth2 error code as an extension member.
type OAuthError struct {
	Title       string `json:"title"`
	Status      int    `json:"status"`
	Detail      string `json:"detail"`
	Code        string `json:"error" doc:"OAuth2 error code."`
	Description string `json:"error_description"`
}

// Error implements error.
func (e *OAuthError) Error() string { return e.Detail }

// GetStatus implements huma.StatusError.
func (e *OAuthError) GetStatus() int { return e.Status }

// ContentType makes huma serve the error as problem+json.
func (e *OAuthError) ContentType(string) string { return "application/problem+json" }

func oauthErr(status int, code, desc string) error {
	return &OAuthError{Title: http.StatusText(status), Status: status, Detail: desc, Code: code, Description: desc}
}

func parseTokenRequest(in *tokenInput) (TokenRequest, error) {
	var req TokenRequest
	mt, _, _ := mime.ParseMediaType(in.ContentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(in.RawBody))
		if err != nil {
			return req, oauthErr(400, "invalid_request", "body is not a valid form")
		}
		for k := range v {
			switch k {
			case "grant_type", "client_id", "client_secret", "scope":
				if len(v[k]) != 1 {
					return req, oauthErr(400, "invalid_request", "parameter "+k+" repeated")
				}
			default:
				return req, oauthErr(400, "invalid_request", "unknown parameter "+k)
			}
		}
		req = TokenRequest{GrantType: v.Get("grant_type"), ClientID: v.Get("client_id"), ClientSecret: v.Get("client_secret"), Scope: v.Get("scope")}
	case "application/json", "":
		dec := json.NewDecoder(strings.NewReader(string(in.RawBody)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, oauthErr(400, "invalid_request", "body is not a valid JSON token request")
		}
		if dec.More() {
			return req, oauthErr(400, "invalid_request", "trailing data after the JSON body")
		}
	default:
		return req, oauthErr(415, "invalid_request", "send application/x-www-form-urlencoded or application/json")
	}
	// RFC 6749 §2.3.1: credentials may come as HTTP Basic instead.
	if req.ClientID == "" && strings.HasPrefix(in.Authorization, "Basic ") {
		r := &http.Request{Header: http.Header{"Authorization": {in.Authorization}}}
		if id, secret, ok := r.BasicAuth(); ok {
			req.ClientID, req.ClientSecret = id, secret
		}
	}
	if req.GrantType != "client_credentials" {
		return req, oauthErr(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
	}
	if len(req.ClientID) > 128 || len(req.ClientSecret) > 128 || len(req.Scope) > 512 {
		return req, oauthErr(400, "invalid_request", "parameter too long")
	}
	return req, nil
}

func (s *Server) registerAuth(api huma.API) {
	op := public(huma.Operation{
		OperationID: "create-token", Method: http.MethodPost, Path: "/v1/auth/token", Tags: []string{"auth"},
		Summary: "OAuth2 client-credentials grant",
		// The body is parsed by hand: OAuth2 clients send forms, others JSON.
		SkipValidateBody: true,
		Description:      "Exchanges an API key id (client_id) and secret (client_secret) for a short-lived Ed25519-signed JWT. `scope` may narrow the key's scopes.",
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/x-www-form-urlencoded": {Schema: huma.SchemaFromType(api.OpenAPI().Components.Schemas, reflectType[TokenRequest]())},
			"application/json":                  {Schema: huma.SchemaFromType(api.OpenAPI().Components.Schemas, reflectType[TokenRequest]())},
		}},
	})
	register(s, api, op, func(ctx context.Context, in *tokenInput) (*struct{ Body TokenResponse }, error) {
		req, err := parseTokenRequest(in)
		if err != nil {
			return nil, err
		}
		// The grant shares the key's token bucket, which also slows down
		// anyone guessing secrets for a key id.
		if ok, wait := s.auth.Allow(&auth.Principal{ActorID: req.ClientID}); !ok {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			return nil, huma.ErrorWithHeaders(oauthErr(http.StatusTooManyRequests, "slow_down", "too many token requests for this client; retry later"),
				http.Header{"Retry-After": {strconv.Itoa(secs)}})
		}
		tr, err := s.auth.IssueToken(ctx, req.ClientID, req.ClientSecret, req.Scope)
		switch {
		case errors.Is(err, auth.ErrInvalidClient):
			return nil, oauthErr(401, "invalid_client", "unknown client, wrong secret, or a revoked or expired key")
		case errors.Is(err, auth.ErrInvalidScope):
			return nil, oauthErr(400, "invalid_scope", "the requested scope is unknown or exceeds the key's role")
		case err != nil:
			return nil, s.problem(ctx, err)
		}
		return &struct{ Body TokenResponse }{Body: TokenResponse{AccessToken: tr.AccessToken, TokenType: tr.TokenType, ExpiresIn: tr.ExpiresIn, Scope: tr.Scope}}, nil
	})
	register(s, api, public(huma.Operation{OperationID: "jwks", Method: http.MethodGet, Path: "/.well-known/jwks.json", Tags: []string{"auth"},
		Summary: "Public keys that verify whet-issued access tokens"}),
		func(ctx context.Context, _ *struct{}) (*struct{ Body JWKSet }, error) {
			return &struct{ Body JWKSet }{Body: JWKSet{Keys: s.auth.JWKS()}}, nil
		})
}

func (s *Server) registerOrg(api huma.API) {
	register(s, api, huma.Operation{OperationID: "get-organization", Method: http.MethodGet, Path: "/v1/organization", Tags: []string{"organization"},
		Summary: "The caller's organisation"},
		func(ctx context.Context, _ *struct{}) (*struct{ Body Organization }, error) {
			p := principal(ctx)
			o, err := s.auth.GetOrg(ctx, p.OrgID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Organization }{Body: toOrg(o)}, nil
		})
	register(s, api, huma.Operation{OperationID: "update-organization", Method: http.MethodPatch, Path: "/v1/organization", Tags: []string{"organization"},
		Summary: "Set the organisation's IP allow and deny lists (admin:*)"},
		func(ctx context.Context, in *struct{ Body OrganizationUpdate }) (*struct{ Body Organization }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			o, err := s.auth.UpdateOrgIPLists(ctx, p, in.Body.IPAllow, in.Body.IPDeny)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Organization }{Body: toOrg(o)}, nil
		})
}
