package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

// remoteTrainFlags are `whet train -f`'s flags.
type remoteTrainFlags struct {
	file, project, url string
	dryRun, detach     bool
	asJSON             bool
}

// addTrainRemote gives `whet train` its server mode: -f FILE submits the
// run body in FILE (YAML or JSON, plus project_id) to a whet server and
// follows it; without -f the command trains locally as before.
func addTrainRemote(root *cobra.Command, env *Env) {
	var cmd *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "train" {
			cmd = c
		}
	}
	if cmd == nil {
		return
	}
	var fl remoteTrainFlags
	url, _ := env.Lookup("WHET_URL")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	f := cmd.Flags()
	f.StringVarP(&fl.file, "file", "f", "", "server mode: a training run body (YAML or JSON, as POST /v1/projects/{id}/training/runs) to submit")
	f.StringVar(&fl.project, "project", "", "server mode: project id (default: the file's project_id)")
	f.StringVar(&fl.url, "url", url, "server mode: whet server URL (env WHET_URL; token from WHET_TOKEN)")
	f.BoolVar(&fl.dryRun, "dry-run", false, "server mode: print the plan (examples, tokens, steps, time and memory estimates) and submit nothing")
	f.BoolVar(&fl.detach, "detach", false, "server mode: print the run and return without following it")
	cmd.Use = "train --model DIR --data FILE.jsonl --out ADAPTER_DIR | train -f RUN.yaml"
	cmd.Example = "  whet train --model ./smollm2 --data qa.jsonl --out ./adapter\n" +
		"  WHET_TOKEN=whet_… whet train -f run.yaml            # submit to a server, follow with a progress bar\n" +
		"  whet train -f run.yaml --dry-run                     # the plan only"
	local := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if fl.file == "" {
			if fl.dryRun || fl.detach || fl.project != "" {
				return &exitError{code: 2, err: errors.New("train: --dry-run, --detach and --project need -f RUN.yaml")}
			}
			return local(c, args)
		}
		if j := c.Flags().Lookup("json"); j != nil && j.Changed {
			fl.asJSON = j.Value.String() == "true"
		}
		return runTrainRemote(c, env, &fl)
	}
}

// readRunFile reads a run body (YAML or JSON) and returns it as JSON with
// its project_id.
func readRunFile(path string) ([]byte, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	body := raw
	if t := strings.TrimSpace(string(raw)); !strings.HasPrefix(t, "{") {
		if body, err = yaml.YAMLToJSON(raw); err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
	}
	var head struct {
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return body, head.ProjectID, nil
}

func runTrainRemote(cmd *cobra.Command, env *Env, fl *remoteTrainFlags) error {
	body, project, err := readRunFile(fl.file)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("train: %w", err)}
	}
	if fl.project != "" {
		project = fl.project
	}
	if project == "" {
		return &exitError{code: 2, err: errors.New("train: no project: set project_id in the file or pass --project")}
	}
	token, _ := env.Lookup("WHET_TOKEN")
	if token == "" {
		return &exitError{code: 2, err: errors.New("train: no credentials: set WHET_TOKEN to an API key (whet_…) or an access token")}
	}
	c := api.NewClient(fl.url, token)
	ctx := cmd.Context()
	if fl.dryRun {
		plan, err := c.PlanTrainingRun(ctx, project, body)
		if err != nil {
			return err
		}
		if fl.asJSON {
			return writeIndented(env, plan)
		}
		printPlan(env, &plan)
		return nil
	}
	run, err := c.CreateTrainingRunRaw(ctx, project, body)
	if err != nil {
		return err
	}
	if fl.detach {
		if fl.asJSON {
			return writeIndented(env, run)
		}
		fmt.Fprintf(env.Stdout, "run %s queued (job %s)\nfollow: whet jobs watch %s\n", run.RunID, run.JobID, run.JobID)
		return nil
	}
	fmt.Fprintf(env.Stderr, "run %s queued (job %s)\n", run.RunID, run.JobID)
	var w io.Writer = env.Stderr
	if fl.asJSON {
		w = nil
	}
	final, err := followRun(ctx, c, run.RunID, w, true)
	if err != nil {
		return err
	}
	if fl.asJSON {
		if err := writeIndented(env, final); err != nil {
			return err
		}
	}
	if final.Status != "succeeded" {
		return fmt.Errorf("train: run %s %s: %s", final.RunID, final.Status, orDash(final.Error))
	}
	if !fl.asJSON {
		fmt.Fprintf(env.Stdout, "run %s succeeded: %d steps, final loss %.4f", final.RunID, final.Metrics.Step, final.Metrics.FinalLoss)
		if final.Metrics.ValLoss != nil {
			fmt.Fprintf(env.Stdout, ", val loss %.4f", *final.Metrics.ValLoss)
		}
		fmt.Fprintf(env.Stdout, "\nmodel version %s (%s)\n", final.ModelVersionID, orDash(final.Artifacts.ModelVersion))
	}
	return nil
}

// followRun waits for a training run to end. With bar it draws a live
// progress bar with the loss on w; without, it prints a line per tenth of
// the steps to w (nil: nothing).
func followRun(ctx context.Context, c *api.Client, runID string, w io.Writer, bar bool) (api.TrainingRun, error) {
	var pb *progressbar.ProgressBar
	lastTenth := -1
	final, err := c.WaitTrainingRun(ctx, runID, func(r api.TrainingRun) {
		if w == nil || r.Metrics.TotalSteps == 0 {
			return
		}
		desc := ""
		if n := len(r.Metrics.History); n > 0 {
			p := r.Metrics.History[n-1]
			desc = fmt.Sprintf("loss %.4f · %.0f tok/s", p.Loss, p.TokensPerS)
		}
		if !bar {
			if t := 10 * r.Metrics.Step / r.Metrics.TotalSteps; t > lastTenth && desc != "" {
				lastTenth = t
				fmt.Fprintf(w, "  step %d/%d · %s\n", r.Metrics.Step, r.Metrics.TotalSteps, desc)
			}
			return
		}
		if pb == nil {
			pb = progressbar.NewOptions(r.Metrics.TotalSteps, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionThrottle(100*time.Millisecond))
		}
		pb.Describe(desc)
		_ = pb.Set(r.Metrics.Step)
	})
	if pb != nil {
		_ = pb.Finish()
		fmt.Fprintln(w)
	}
	return final, err
}

func writeIndented(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printPlan(env *Env, p *api.TrainingPlan) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "base model\t%s (%s, %.1fM parameters, base in %s)\n", p.BaseModel, p.Architecture, float64(p.Parameters)/1e6, p.BaseDType)
	fmt.Fprintf(tw, "adapters\t%d LoRA parameters\n", p.LoRAParameters)
	fmt.Fprintf(tw, "dataset\t%s@%s (%s)\n", p.Dataset.ID, p.Dataset.Version, p.Dataset.LineageHash)
	fmt.Fprintf(tw, "examples\t%d training, %d validation\n", p.Examples, p.ValidationExamples)
	fmt.Fprintf(tw, "tokens\t%d per epoch\n", p.Tokens)
	fmt.Fprintf(tw, "steps\t%d\n", p.Steps)
	fmt.Fprintf(tw, "estimated time\t%s (%s)\n", (time.Duration(p.EstimatedSeconds * float64(time.Second))).Round(time.Second), p.EstimateBasis)
	teacher := ""
	if p.Memory.Teacher > 0 {
		teacher = fmt.Sprintf(", teacher %.1f", planMiB(p.Memory.Teacher))
	}
	fmt.Fprintf(tw, "peak memory\t%.1f MiB (weights %.1f, adapters+optimizer %.1f, activations %.1f%s)\n", planMiB(p.PeakMemoryBytes),
		planMiB(p.Memory.Weights), planMiB(p.Memory.LoRA), planMiB(p.Memory.Activations), teacher)
	tw.Flush()
}

func planMiB(b int64) float64 { return float64(b) / (1 << 20) }
