package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
)

type auditQuery struct {
	PageParams
	Actor      string    `query:"actor" maxLength:"128" doc:"Only records by this actor id."`
	Action     string    `query:"action" maxLength:"128" doc:"Only this action, e.g. project.create."`
	TargetType string    `query:"target_type" maxLength:"64"`
	TargetID   string    `query:"target_id" maxLength:"128"`
	Since      time.Time `query:"since" doc:"RFC 3339; inclusive."`
	Until      time.Time `query:"until" doc:"RFC 3339; exclusive."`
}

func (s *Server) registerAudit(api huma.API) {
	register(s, api, huma.Operation{OperationID: "list-audit-logs", Method: http.MethodGet, Path: "/v1/audit/logs", Tags: []string{"audit"},
		Summary: "The organisation's audit records, newest first (admin:*)"},
		func(ctx context.Context, in *auditQuery) (*struct{ Body Page[AuditRecord] }, error) {
			p, err := s.requireOrg(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			recs, next, err := s.audit.List(ctx, p.OrgID, audit.Filter{ActorID: in.Actor, Action: in.Action, TargetType: in.TargetType, TargetID: in.TargetID, Since: in.Since, Until: in.Until},
				in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			items := make([]AuditRecord, len(recs))
			for i, r := range recs {
				items[i] = *r
			}
			return &struct{ Body Page[AuditRecord] }{Body: Page[AuditRecord]{Items: items, NextCursor: next}}, nil
		})
}
