package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
)

// require answers 403 unless the caller holds scope organisation-wide.
func (s *Server) require(ctx context.Context, scope string) (*auth.Principal, error) {
	p := principal(ctx)
	if p == nil {
		return nil, huma.Error401Unauthorized("authentication required")
	}
	if !p.Can(scope) {
		return nil, huma.Error403Forbidden("this operation needs the " + scope + " scope")
	}
	return p, nil
}

// requireOrg is require for organisation-wide operations (users, the
// organisation's settings, the audit log): a project-scoped key is refused
// even when its role holds the scope.
func (s *Server) requireOrg(ctx context.Context, scope string) (*auth.Principal, error) {
	p, err := s.require(ctx, scope)
	if err != nil {
		return nil, err
	}
	if p.ProjectID != "" {
		return nil, huma.Error403Forbidden("a project-scoped key cannot do this; use an organisation key")
	}
	return p, nil
}

// fieldError builds a problem detail naming one bad field.
func fieldError(location, message string) error {
	return &huma.ErrorDetail{Location: location, Message: message}
}

// problem maps a domain error to an HTTP problem. Unknown errors become a
// 500 whose body names only the request id; the cause goes to the log.
func (s *Server) problem(ctx context.Context, err error) error {
	var fe *auth.FieldError
	var se huma.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case errors.As(err, &fe):
		return huma.Error422UnprocessableEntity("validation failed", fieldError(fe.Field, fe.Message))
	case errors.Is(err, store.ErrBadCursor), errors.Is(err, audit.ErrBadCursor):
		return huma.Error400BadRequest("bad cursor", fieldError("query.cursor", "not a cursor this server issued"))
	case errors.Is(err, store.ErrNotFound):
		return huma.Error404NotFound("not found")
	case errors.Is(err, store.ErrConflict):
		return huma.Error409Conflict("conflicts with an existing resource")
	case errors.Is(err, auth.ErrForbidden):
		return huma.Error403Forbidden("your role does not allow this")
	case errors.Is(err, context.Canceled):
		return huma.NewError(499, "client closed request")
	case errors.Is(err, context.DeadlineExceeded):
		return huma.Error503ServiceUnavailable("timed out (request id " + RequestID(ctx) + ")")
	}
	s.log.Error("api: internal error", "err", err, "request_id", RequestID(ctx))
	return huma.NewError(http.StatusInternalServerError, "internal error (request id "+RequestID(ctx)+")")
}
