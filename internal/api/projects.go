package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
)

type projectPath struct {
	ProjectID string `path:"project_id" maxLength:"64"`
}

func (s *Server) registerProjects(api huma.API) {
	tags := []string{"projects"}
	register(s, api, huma.Operation{OperationID: "list-projects", Method: http.MethodGet, Path: "/v1/projects", Tags: tags,
		Summary: "List projects (data:read)"},
		func(ctx context.Context, in *PageParams) (*struct{ Body Page[Project] }, error) {
			p, err := s.require(ctx, auth.ScopeDataRead)
			if err != nil {
				return nil, err
			}
			items, next, err := s.listProjects(ctx, p, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Page[Project] }{Body: Page[Project]{Items: items, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "create-project", Method: http.MethodPost, Path: "/v1/projects", Tags: tags,
		Summary: "Create a project (admin:*)", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body ProjectCreate }) (*struct{ Body Project }, error) {
			p, err := s.require(ctx, auth.ScopeAdmin)
			if err != nil {
				return nil, err
			}
			if p.ProjectID != "" {
				return nil, huma.Error403Forbidden("a project-scoped key cannot create projects")
			}
			pr, err := s.createProject(ctx, p, in.Body)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Project }{Body: *pr}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-project", Method: http.MethodGet, Path: "/v1/projects/{project_id}", Tags: tags,
		Summary: "Get a project (data:read)"},
		func(ctx context.Context, in *projectPath) (*struct{ Body Project }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeDataRead) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			pr, err := s.getProject(ctx, p.OrgID, in.ProjectID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Project }{Body: *pr}, nil
		})
	register(s, api, huma.Operation{OperationID: "update-project", Method: http.MethodPatch, Path: "/v1/projects/{project_id}", Tags: tags,
		Summary: "Rename or describe a project (admin:* on the org or the project)"},
		func(ctx context.Context, in *struct {
			ProjectID string `path:"project_id" maxLength:"64"`
			Body      ProjectUpdate
		}) (*struct{ Body Project }, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeAdmin) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			pr, err := s.updateProject(ctx, p, in.ProjectID, in.Body)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &struct{ Body Project }{Body: *pr}, nil
		})
	register(s, api, huma.Operation{OperationID: "delete-project", Method: http.MethodDelete, Path: "/v1/projects/{project_id}", Tags: tags,
		Summary: "Delete a project (admin:*)", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *projectPath) (*Empty, error) {
			p := principal(ctx)
			if !p.CanIn(in.ProjectID, auth.ScopeAdmin) {
				return nil, s.hideOrForbid(ctx, p, in.ProjectID)
			}
			if err := s.deleteProject(ctx, p, in.ProjectID); err != nil {
				return nil, s.problem(ctx, err)
			}
			return &Empty{}, nil
		})
}

// hideOrForbid answers 404 for projects the caller cannot see (another
// org's, or outside a project key's project) and 403 for visible projects
// it lacks the scope for.
func (s *Server) hideOrForbid(ctx context.Context, p *auth.Principal, projectID string) error {
	if !p.SeesProject(projectID) {
		return huma.Error404NotFound("not found")
	}
	if _, err := s.getProject(ctx, p.OrgID, projectID); err != nil {
		return s.problem(ctx, err)
	}
	return huma.Error403Forbidden("your role does not allow this on this project")
}

const projectColumns = `id, org_id, name, description, created_at, updated_at`

func scanProject(row interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var created, updated string
	if err := row.Scan(&p.ID, &p.OrgID, &p.Name, &p.Description, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	if p.UpdatedAt, err = store.ParseTime(updated); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Server) listProjects(ctx context.Context, p *auth.Principal, limit int, cursor string) ([]Project, string, error) {
	after, err := store.DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = store.ClampLimit(limit, 50)
	q := `SELECT ` + projectColumns + ` FROM projects WHERE org_id = ? AND id > ?`
	args := []any{p.OrgID, after}
	if p.ProjectID != "" {
		q += ` AND id = ?`
		args = append(args, p.ProjectID)
	}
	args = append(args, limit+1)
	stmt, err := s.db.Stmt(ctx, s.db.Rebind(q+` ORDER BY id LIMIT ?`))
	if err != nil {
		return nil, "", fmt.Errorf("list projects: %w", err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	out := make([]Project, 0, min(limit+1, 64))
	for rows.Next() {
		pr, err := scanProject(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list projects: %w", err)
		}
		out = append(out, *pr)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list projects: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor(out[limit-1].ID)
	}
	return out, next, nil
}

func (s *Server) getProject(ctx context.Context, orgID, id string) (*Project, error) {
	stmt, err := s.db.Stmt(ctx, s.db.Rebind(`SELECT `+projectColumns+` FROM projects WHERE org_id = ? AND id = ?`))
	if err != nil {
		return nil, fmt.Errorf("get project: %w", err)
	}
	pr, err := scanProject(stmt.QueryRowContext(ctx, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("project %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get project: %w", err)
	}
	return pr, nil
}

func (s *Server) createProject(ctx context.Context, p *auth.Principal, in ProjectCreate) (*Project, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, &auth.FieldError{Field: "body.name", Message: "must not be blank"}
	}
	now := s.now().UTC()
	pr := &Project{ID: store.NewID("prj"), OrgID: p.OrgID, Name: name, Description: in.Description, CreatedAt: now, UpdatedAt: now}
	ts := store.FormatTime(now)
	pr.CreatedAt, _ = store.ParseTime(ts)
	pr.UpdatedAt = pr.CreatedAt
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO projects (id, org_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
			pr.ID, pr.OrgID, pr.Name, pr.Description, ts, ts); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("project %q: %w", name, store.ErrConflict)
			}
			return fmt.Errorf("create project: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "project.create", TargetType: "project", TargetID: pr.ID,
			Payload: map[string]any{"name": pr.Name}})
	})
	if err != nil {
		return nil, err
	}
	s.pages.invalidate(p.OrgID)
	return pr, nil
}

func (s *Server) updateProject(ctx context.Context, p *auth.Principal, id string, in ProjectUpdate) (*Project, error) {
	sets, args := []string{}, []any{}
	payload := map[string]any{}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return nil, &auth.FieldError{Field: "body.name", Message: "must not be blank"}
		}
		sets, args = append(sets, "name = ?"), append(args, name)
		payload["name"] = name
	}
	if in.Description != nil {
		sets, args = append(sets, "description = ?"), append(args, *in.Description)
		payload["description"] = *in.Description
	}
	if len(sets) == 0 {
		return nil, &auth.FieldError{Field: "body", Message: "nothing to change: give name or description"}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		sets := append(sets, "updated_at = ?")
		args := append(append([]any{}, args...), store.FormatTime(s.now()), p.OrgID, id)
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE projects SET `+strings.Join(sets, ", ")+` WHERE org_id = ? AND id = ?`), args...)
		if err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("project name: %w", store.ErrConflict)
			}
			return fmt.Errorf("update project: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("project %q: %w", id, store.ErrNotFound)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "project.update", TargetType: "project", TargetID: id, Payload: payload})
	})
	if err != nil {
		return nil, err
	}
	s.pages.invalidate(p.OrgID)
	return s.getProject(ctx, p.OrgID, id)
}

func (s *Server) deleteProject(ctx context.Context, p *auth.Principal, id string) error {
	defer s.pages.invalidate(p.OrgID) // after the commit (or the rollback)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM projects WHERE org_id = ? AND id = ?`), p.OrgID, id)
		if store.IsForeignKeyViolation(err) {
			return fmt.Errorf("project %q still has datasets or other objects: %w", id, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("delete project: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("project %q: %w", id, store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM role_bindings WHERE org_id = ? AND project_id = ?`), p.OrgID, id); err != nil {
			return fmt.Errorf("delete project bindings: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: p.OrgID, ActorID: p.ActorID, Action: "project.delete", TargetType: "project", TargetID: id})
	})
}
