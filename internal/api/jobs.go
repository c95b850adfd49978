package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
)

// Job is a durable job as the API shows it.
type Job struct {
	ID              string          `json:"id" example:"job_k3x7q2m9a8b4c5d6e7f2"`
	OrgID           string          `json:"org_id"`
	ProjectID       string          `json:"project_id,omitempty"`
	Kind            string          `json:"kind" example:"train.sft"`
	Status          string          `json:"status" enum:"queued,running,succeeded,failed,cancelled"`
	Progress        float64         `json:"progress" minimum:"0" maximum:"1" doc:"Fraction done."`
	Stage           string          `json:"stage,omitempty"`
	ETA             *time.Time      `json:"eta,omitempty" doc:"Estimated finish, from the rate of progress."`
	ETASeconds      *int64          `json:"eta_seconds,omitempty" doc:"Seconds until eta when this answer was made."`
	Attempts        int             `json:"attempts"`
	MaxAttempts     int             `json:"max_attempts"`
	Error           string          `json:"error,omitempty" doc:"The last attempt's error."`
	CancelRequested bool            `json:"cancel_requested"`
	Payload         json.RawMessage `json:"payload,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
	ActorID         string          `json:"actor_id,omitempty" doc:"Who enqueued it."`
	CreatedAt       time.Time       `json:"created_at"`
	StartedAt       *time.Time      `json:"started_at,omitempty"`
	FinishedAt      *time.Time      `json:"finished_at,omitempty"`
	RunAfter        time.Time       `json:"run_after"`
	HeartbeatAt     *time.Time      `json:"heartbeat_at,omitempty"`
}

// JobLogLine is one line of a job's log; seq is the SSE event id.
type JobLogLine struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level" enum:"debug,info,warn,error"`
	Message string    `json:"message"`
}

// JobEnd is the data of the final "end" SSE event of a log stream.
type JobEnd struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func jobWire(j jobs.Job, now time.Time) Job {
	out := Job{
		ID: j.ID, OrgID: j.OrgID, ProjectID: j.ProjectID, Kind: j.Kind, Status: string(j.Status), Progress: j.Progress,
		Stage: j.Stage, ETA: j.ETA, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, Error: j.Error,
		CancelRequested: j.CancelRequested, Payload: j.Payload, Result: j.Result, ActorID: j.ActorID,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, RunAfter: j.RunAfter, HeartbeatAt: j.HeartbeatAt,
	}
	if j.ETA != nil && j.Status == jobs.StatusRunning {
		s := int64(max(0, j.ETA.Sub(now).Seconds()))
		out.ETASeconds = &s
	}
	return out
}

type jobListParams struct {
	PageParams
	Status    string `query:"status" enum:"queued,running,succeeded,failed,cancelled" doc:"Only jobs in this state."`
	Kind      string `query:"kind" maxLength:"100"`
	ProjectID string `query:"project_id" maxLength:"64"`
}

type jobLogsParams struct {
	ID          string `path:"id" maxLength:"64"`
	LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"Resume after this log seq (sent by EventSource on reconnect)."`
	After       int64  `query:"after" minimum:"0" doc:"Start after this log seq (like Last-Event-ID)."`
	Follow      bool   `query:"follow" default:"true" doc:"Keep the stream open until the job ends."`
}

// jobLogPoll is how often a followed log stream looks for new lines.
const jobLogPoll = 250 * time.Millisecond

func (s *Server) registerJobs(api huma.API) {
	tags := []string{"jobs"}
	register(s, api, huma.Operation{OperationID: "list-jobs", Method: http.MethodGet, Path: "/v1/jobs", Tags: tags,
		Summary: "List jobs, newest first (any member of the organisation)"},
		func(ctx context.Context, in *jobListParams) (*struct{ Body Page[Job] }, error) {
			p, q, err := s.jobsFor(ctx)
			if err != nil {
				return nil, err
			}
			f := jobs.ListFilter{Status: jobs.Status(in.Status), Kind: in.Kind, ProjectID: in.ProjectID}
			if p.ProjectID != "" {
				if f.ProjectID != "" && f.ProjectID != p.ProjectID {
					return &struct{ Body Page[Job] }{Body: Page[Job]{Items: []Job{}}}, nil
				}
				f.ProjectID = p.ProjectID
			}
			list, next, err := q.List(ctx, p.OrgID, f, in.Limit, in.Cursor)
			if err != nil {
				return nil, s.jobProblem(ctx, err)
			}
			now := s.now()
			items := make([]Job, 0, len(list))
			for _, j := range list {
				items = append(items, jobWire(j, now))
			}
			return &struct{ Body Page[Job] }{Body: Page[Job]{Items: items, NextCursor: next}}, nil
		})
	register(s, api, huma.Operation{OperationID: "get-job", Method: http.MethodGet, Path: "/v1/jobs/{id}", Tags: tags,
		Summary: "Get a job: status, progress, stage, ETA, attempts, error (any member of the organisation)"},
		func(ctx context.Context, in *idPath) (*struct{ Body Job }, error) {
			j, err := s.visibleJob(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body Job }{Body: jobWire(j, s.now())}, nil
		})
	register(s, api, huma.Operation{OperationID: "cancel-job", Method: http.MethodPost, Path: "/v1/jobs/{id}/cancel", Tags: tags,
		Summary: "Cancel a job: a queued job at once, a running one at its next heartbeat (the scope of the job's kind, or admin:*)"},
		func(ctx context.Context, in *idPath) (*struct{ Body Job }, error) {
			j, err := s.visibleJob(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			p := principal(ctx)
			scope := s.jobs.KindScope(j.Kind)
			if !p.CanIn(j.ProjectID, auth.ScopeAdmin) && (scope == "" || !p.CanIn(j.ProjectID, scope)) {
				need := auth.ScopeAdmin
				if scope != "" {
					need = scope + " or " + auth.ScopeAdmin
				}
				return nil, huma.Error403Forbidden("cancelling a " + j.Kind + " job needs " + need)
			}
			j, err = s.jobs.Cancel(ctx, p.OrgID, in.ID, p.ActorID)
			if err != nil {
				return nil, s.jobProblem(ctx, err)
			}
			return &struct{ Body Job }{Body: jobWire(j, s.now())}, nil
		})
	register(s, api, huma.Operation{OperationID: "job-logs", Method: http.MethodGet, Path: "/v1/jobs/{id}/logs", Tags: tags,
		Summary: "Stream a job's log as Server-Sent Events (any member of the organisation)",
		Description: "Replays the log, then follows it live until the job ends. Events: `log` (data: a JobLogLine, id: its seq), " +
			"`job` (data: the Job, when its status, progress or stage changes) and a final `end` (data: a JobEnd). " +
			"Reconnect with Last-Event-ID (or ?after=) to resume without repeats; ?follow=false returns what is there and ends.",
		Responses: map[string]*huma.Response{"200": {Description: "An event stream.", Content: map[string]*huma.MediaType{
			"text/event-stream": {Schema: &huma.Schema{Type: "string"}}}}}},
		func(ctx context.Context, in *jobLogsParams) (*huma.StreamResponse, error) {
			j, err := s.visibleJob(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			after := in.After
			if in.LastEventID != "" {
				n, err := strconv.ParseInt(in.LastEventID, 10, 64)
				if err != nil || n < 0 {
					return nil, huma.Error400BadRequest("bad Last-Event-ID", fieldError("header.Last-Event-ID", "must be a log seq (a non-negative integer)"))
				}
				after = max(after, n)
			}
			follow := in.Follow
			orgID := principal(ctx).OrgID
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				_, w := unwrap(hctx)
				s.streamJobLogs(hctx.Context(), w, orgID, j, after, follow)
			}}, nil
		})
}

// jobsFor returns the caller and the queue, or the error to answer.
func (s *Server) jobsFor(ctx context.Context) (*auth.Principal, *jobs.Queue, error) {
	p := principal(ctx)
	if p == nil {
		return nil, nil, huma.Error401Unauthorized("authentication required")
	}
	if s.jobs == nil {
		return nil, nil, huma.Error503ServiceUnavailable("this server runs no job queue")
	}
	return p, s.jobs, nil
}

// visibleJob loads a job of the caller's organisation; a job of another
// organisation, or outside a project key's project, is 404.
func (s *Server) visibleJob(ctx context.Context, id string) (jobs.Job, error) {
	p, q, err := s.jobsFor(ctx)
	if err != nil {
		return jobs.Job{}, err
	}
	j, err := q.Get(ctx, p.OrgID, id)
	if err != nil {
		return jobs.Job{}, s.jobProblem(ctx, err)
	}
	if !p.SeesProject(j.ProjectID) {
		return jobs.Job{}, huma.Error404NotFound("not found")
	}
	return j, nil
}

func (s *Server) jobProblem(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, jobs.ErrBadCursor):
		return huma.Error400BadRequest("bad cursor", fieldError("query.cursor", "not a cursor this server issued"))
	case errors.Is(err, jobs.ErrFinished):
		return huma.Error409Conflict("the job already finished")
	case errors.Is(err, jobs.ErrInvalid):
		return huma.Error422UnprocessableEntity("validation failed", fieldError("query", err.Error()))
	}
	return s.problem(ctx, err)
}

// streamJobLogs writes the SSE stream: log lines after `after`, job
// snapshots on change, and an end event once the job is over and its log
// drained.
func (s *Server) streamJobLogs(ctx context.Context, w http.ResponseWriter, orgID string, j jobs.Job, after int64, follow bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(event, id string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		var sb strings.Builder
		if id != "" {
			sb.WriteString("id: " + id + "\n")
		}
		sb.WriteString("event: " + event + "\ndata: ")
		sb.Write(b)
		sb.WriteString("\n\n")
		if _, err := io.WriteString(w, sb.String()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	last := jobWire(j, s.now())
	if !send("job", "", last) {
		return
	}
	for {
		terminal := j.Status.Terminal()
		for {
			lines, err := s.jobs.Logs(ctx, orgID, j.ID, after, jobs.MaxLogLimit)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("api: job log stream", "job", j.ID, "err", err, "request_id", RequestID(ctx))
				}
				return
			}
			for _, l := range lines {
				if !send("log", strconv.FormatInt(l.Seq, 10), JobLogLine{Seq: l.Seq, Time: l.Time, Level: l.Level, Message: l.Message}) {
					return
				}
				after = l.Seq
			}
			if len(lines) < jobs.MaxLogLimit {
				break
			}
		}
		if terminal || !follow {
			if terminal {
				send("end", "", JobEnd{Status: string(j.Status), Error: j.Error})
			}
			return
		}
		t := time.NewTimer(jobLogPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		var err error
		if j, err = s.jobs.Get(ctx, orgID, j.ID); err != nil {
			return
		}
		if cur := jobWire(j, s.now()); cur.Status != last.Status || cur.Progress != last.Progress || cur.Stage != last.Stage {
			if !send("job", "", cur) {
				return
			}
			last = cur
		}
	}
}

// JobQuery filters ListJobs.
type JobQuery struct {
	Status    string
	Kind      string
	ProjectID string
}

// ListJobs returns one page of jobs, newest first.
func (c *Client) ListJobs(ctx context.Context, q JobQuery, limit int, cursor string) (Page[Job], error) {
	var out Page[Job]
	err := c.Do(ctx, http.MethodGet, pageQuery("/v1/jobs", limit, cursor, url.Values{
		"status": {q.Status}, "kind": {q.Kind}, "project_id": {q.ProjectID}}), nil, &out)
	return out, err
}

// GetJob returns a job.
func (c *Client) GetJob(ctx context.Context, id string) (Job, error) {
	var out Job
	err := c.Do(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id), nil, &out)
	return out, err
}

// CancelJob cancels a job and returns it.
func (c *Client) CancelJob(ctx context.Context, id string) (Job, error) {
	var out Job
	err := c.Do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, &out)
	return out, err
}

// JobEvent is one event of a job's log stream: exactly one of Log, Job and
// End is set.
type JobEvent struct {
	Log *JobLogLine
	Job *Job
	End *JobEnd
}

// StreamJobLogs follows a job's log stream from after (a log seq; 0 for
// the beginning), calling fn for each event until the job ends, ctx ends
// or fn returns an error. With follow=false it returns once the current
// log has been replayed.
func (c *Client) StreamJobLogs(ctx context.Context, id string, after int64, follow bool, fn func(JobEvent) error) error {
	path := "/v1/jobs/" + url.PathEscape(id) + "/logs?after=" + strconv.FormatInt(after, 10)
	if !follow {
		path += "&follow=false"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.httpClient()
	hc.Timeout = 0 // a stream lasts as long as the job
	cc := *c
	cc.HTTP = &hc
	resp, err := cc.Send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event != "" || data.Len() > 0 {
				if err := dispatchJobEvent(event, data.String(), fn); err != nil {
					return err
				}
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("api client: job %s logs: %w", id, err)
	}
	return ctx.Err()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func dispatchJobEvent(event, data string, fn func(JobEvent) error) error {
	var ev JobEvent
	var target any
	switch event {
	case "log":
		ev.Log = &JobLogLine{}
		target = ev.Log
	case "job":
		ev.Job = &Job{}
		target = ev.Job
	case "end":
		ev.End = &JobEnd{}
		target = ev.End
	default:
		return nil // unknown events are for newer clients
	}
	if err := json.Unmarshal([]byte(data), target); err != nil {
		return fmt.Errorf("api client: bad %s event: %w", event, err)
	}
	return fn(ev)
}
