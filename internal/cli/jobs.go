package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

// jobsConn are the jobs commands' connection flags: the shared API client
// flags (--url, --output, WHET_URL, WHET_TOKEN).
type jobsConn = apiConn

func newJobsCmd(env *Env) *cobra.Command {
	conn := &jobsConn{}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List, inspect, follow and cancel durable jobs (training, ingestion, indexing)",
		Long: "Long work in whet runs as durable jobs. These commands talk to a whet server\n" +
			"(--url or WHET_URL) with the token in WHET_TOKEN.",
	}
	conn.bind(cmd, env)
	cmd.AddCommand(newJobsListCmd(env, conn), newJobsGetCmd(env, conn), newJobsWatchCmd(env, conn), newJobsCancelCmd(env, conn))
	return cmd
}

func newJobsListCmd(env *Env, conn *jobsConn) *cobra.Command {
	var q api.JobQuery
	var limit int
	var cursor string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListJobs(cmd.Context(), q, limit, cursor)
			if err != nil {
				return err
			}
			if conn.output == "json" {
				return writeJobJSON(env.Stdout, page)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tPROGRESS\tSTAGE\tATTEMPTS\tCREATED")
			for _, j := range page.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%3.0f%%\t%s\t%d/%d\t%s\n", j.ID, j.Kind, j.Status, 100*j.Progress, jobDash(j.Stage),
					j.Attempts, j.MaxAttempts, j.CreatedAt.Format(time.RFC3339))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if page.NextCursor != "" {
				fmt.Fprintf(env.Stderr, "more: --cursor %s\n", page.NextCursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Status, "status", "", "only jobs in this state (queued, running, succeeded, failed, cancelled)")
	f.StringVar(&q.Kind, "kind", "", "only jobs of this kind")
	f.StringVar(&q.ProjectID, "project", "", "only jobs of this project")
	f.IntVar(&limit, "limit", 50, "page size")
	f.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

func newJobsGetCmd(env *Env, conn *jobsConn) *cobra.Command {
	return &cobra.Command{
		Use:   "get JOB_ID",
		Short: "Show a job: status, progress, stage, ETA, attempts, error, result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			j, err := c.GetJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJob(env.Stdout, conn.output, j)
		},
	}
}

func newJobsCancelCmd(env *Env, conn *jobsConn) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel JOB_ID",
		Short: "Cancel a job (a running job stops at its next heartbeat)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			j, err := c.CancelJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJob(env.Stdout, conn.output, j)
		},
	}
}

func newJobsWatchCmd(env *Env, conn *jobsConn) *cobra.Command {
	var logs bool
	cmd := &cobra.Command{
		Use:   "watch JOB_ID",
		Short: "Follow a job with a live progress bar until it ends",
		Long: "Shows the fraction done, the stage and the ETA until the job ends. Exits 0 when the\n" +
			"job succeeded, 1 when it failed and 3 when it was cancelled.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			j, err := watchJob(cmd.Context(), c, args[0], env.Stderr, logs)
			if err != nil {
				return err
			}
			if conn.output == "json" {
				if err := writeJobJSON(env.Stdout, j); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(env.Stdout, "%s %s after %d attempt(s)\n", j.ID, j.Status, j.Attempts)
			}
			return jobExit(j)
		},
	}
	cmd.Flags().BoolVar(&logs, "logs", false, "print the job's log lines too")
	return cmd
}

// jobExit turns a finished job into the command's exit status.
func jobExit(j api.Job) error {
	switch j.Status {
	case "succeeded":
		return nil
	case "cancelled":
		return &exitError{code: 3, err: fmt.Errorf("job %s was cancelled", j.ID)}
	}
	return &exitError{code: 1, err: fmt.Errorf("job %s %s: %s", j.ID, j.Status, j.Error)}
}

// watchJob follows the job's event stream, drawing a progress bar on w,
// until the job ends; it reconnects (resuming after the last log line) if
// the stream breaks, and returns the final job.
func watchJob(ctx context.Context, c *api.Client, id string, w io.Writer, logs bool) (api.Job, error) {
	bar := progressbar.NewOptions64(1000,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetRenderBlankState(true),
	)
	var after int64
	show := func(j *api.Job) {
		desc := j.Status
		if j.Stage != "" {
			desc += " · " + j.Stage
		}
		if j.ETASeconds != nil {
			desc += " · ETA " + (time.Duration(*j.ETASeconds) * time.Second).String()
		}
		bar.Describe(desc)
		bar.Set64(int64(j.Progress * 1000))
	}
	for attempt := 0; ; attempt++ {
		ended := false
		err := c.StreamJobLogs(ctx, id, after, true, func(ev api.JobEvent) error {
			switch {
			case ev.Job != nil:
				show(ev.Job)
			case ev.Log != nil:
				after = ev.Log.Seq
				if logs {
					bar.Clear()
					fmt.Fprintf(w, "%s %-5s %s\n", ev.Log.Time.Format("15:04:05"), ev.Log.Level, ev.Log.Message)
				}
			case ev.End != nil:
				ended = true
			}
			return nil
		})
		var p *api.Problem
		switch {
		case errors.As(err, &p):
			return api.Job{}, err
		case ended:
			j, err := c.GetJob(ctx, id)
			if err != nil {
				return api.Job{}, err
			}
			show(&j)
			if j.Status == "succeeded" {
				bar.Finish()
			}
			fmt.Fprintln(w)
			return j, nil
		case ctx.Err() != nil:
			return api.Job{}, ctx.Err()
		}
		// The stream broke (server restart, proxy timeout): back off and resume.
		t := time.NewTimer(min(time.Duration(attempt+1)*500*time.Millisecond, 5*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return api.Job{}, ctx.Err()
		case <-t.C:
		}
	}
}

func printJob(w io.Writer, output string, j api.Job) error {
	if output == "json" {
		return writeJobJSON(w, j)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("ID", j.ID)
	row("Kind", j.Kind)
	row("Status", j.Status)
	if j.CancelRequested && j.Status == "running" {
		row("Cancel", "requested")
	}
	row("Progress", fmt.Sprintf("%.1f%%", 100*j.Progress))
	row("Stage", jobDash(j.Stage))
	if j.ETASeconds != nil {
		row("ETA", (time.Duration(*j.ETASeconds) * time.Second).String())
	}
	row("Attempts", fmt.Sprintf("%d of %d", j.Attempts, j.MaxAttempts))
	if j.ProjectID != "" {
		row("Project", j.ProjectID)
	}
	row("Created", j.CreatedAt.Format(time.RFC3339))
	if j.StartedAt != nil {
		row("Started", j.StartedAt.Format(time.RFC3339))
	}
	if j.FinishedAt != nil {
		row("Finished", j.FinishedAt.Format(time.RFC3339))
	}
	if j.Error != "" {
		row("Error", strings.ReplaceAll(j.Error, "\n", " "))
	}
	if len(j.Result) > 0 {
		row("Result", string(j.Result))
	}
	return tw.Flush()
}

func writeJobJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func jobDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
