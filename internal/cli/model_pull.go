package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/config"
	"github.com/whet-dev/whet/internal/hub"
)

// newModelPullCmd is `whet model pull`: fetch a model from a Hugging
// Face-compatible hub into the local model cache.
func newModelPullCmd(env *Env) *cobra.Command {
	var asJSON, offline bool
	var allow []string
	cmd := &cobra.Command{
		Use:   "pull hf://org/name[@revision]",
		Short: "Download a model or adapter from a Hugging Face-compatible hub into the model cache",
		Long: `Resolves hf://org/name (at a branch, tag or commit: @revision, default main)
against hf_endpoint and stores the files a whet model needs (config, tokenizer,
safetensors weights, or a PEFT adapter) in the content-addressed cache hf_cache.
Downloads resume where they stopped and are verified against the hub's digests.
Gated or private models need hf_token (WHET_HF_TOKEN or HF_TOKEN). With --offline
(or HF_HUB_OFFLINE=1) only the cache is used. The printed folder can be passed
to --model; --model also accepts the hf:// reference itself.`,
		Args: cobra.ExactArgs(1),
	}
	cf := bindConfigFlags(cmd, "data", "hf_endpoint", "hf_token", "hf_cache")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !hub.IsRef(args[0]) {
			return &exitError{code: 2, err: fmt.Errorf("model pull: want hf://org/name[@revision], got %q", args[0])}
		}
		cfg, err := cf.load(cmd, env)
		if err != nil {
			return err
		}
		o := hubOptions(env, cfg)
		o.Offline = o.Offline || offline
		o.AllowPatterns = allow
		var prog *pullProgress
		if !asJSON {
			prog = &pullProgress{w: env.Stderr}
			o.Progress = prog.update
		}
		s, err := hub.Pull(cmd.Context(), args[0], o)
		prog.finish()
		if errors.Is(err, hub.ErrBadRef) {
			return &exitError{code: 2, err: fmt.Errorf("model pull: %w", err)}
		}
		if err != nil {
			return fmt.Errorf("model pull: %w", err)
		}
		if asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(s)
		}
		var size int64
		for _, f := range s.Files {
			size += f.Size
		}
		from := "downloaded " + mib(s.Downloaded)
		if s.Offline {
			from = "from the cache, offline"
		}
		fmt.Fprintf(env.Stdout, "%s@%s (commit %s): %d files, %s (%s)\n%s\n", hub.Scheme+s.Repo, s.Revision, s.Commit, len(s.Files), mib(size), from, s.Dir)
		return nil
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the snapshot (commit, folder, files with sha256) as JSON")
	f.BoolVar(&offline, "offline", false, "use the cache only; never contact the hub")
	f.StringSliceVar(&allow, "allow", nil, "also download files matching this pattern (repeatable, e.g. '*.bin')")
	return cmd
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// hubOptions builds the hub options from the configuration; the cache
// defaults to ~/.cache/whet/models (XDG_CACHE_HOME honoured), else
// DATA/models.
func hubOptions(env *Env, cfg *config.Config) hub.Options {
	cache := cfg.HFCache
	if cache == "" {
		if x, ok := env.Lookup("XDG_CACHE_HOME"); ok && filepath.IsAbs(x) {
			cache = filepath.Join(x, "whet", "models")
		} else if h, ok := env.Lookup("HOME"); ok && h != "" {
			cache = filepath.Join(h, ".cache", "whet", "models")
		} else {
			cache = filepath.Join(cfg.Data, "models")
		}
	}
	off, _ := env.Lookup("HF_HUB_OFFLINE")
	return hub.Options{Endpoint: cfg.HFEndpoint, Token: cfg.HFToken, CacheDir: cache,
		Offline: off == "1" || strings.EqualFold(off, "true") || strings.EqualFold(off, "yes")}
}

// serverHubResolver is the hf:// resolver for serve and worker (training
// runs' base_model and teacher_model): like the local commands but the cache
// defaults to DATA/models and nothing is drawn on the terminal.
func serverHubResolver(env *Env, cfg *config.Config) func(ctx context.Context, ref string) (string, error) {
	o := hubOptions(env, cfg)
	if cfg.HFCache == "" {
		o.CacheDir = filepath.Join(cfg.Data, "models")
	}
	return func(ctx context.Context, ref string) (string, error) { return hub.Resolve(ctx, ref, o) }
}

// resolveModelFlag replaces an hf:// reference in *model with the cached
// model folder (pulling it first, with a progress bar on stderr); local
// paths are left as they are. Commands call it before loading a model.
func resolveModelFlag(cmd *cobra.Command, env *Env, model *string) error {
	if !hub.IsRef(*model) {
		return nil
	}
	cfg, err := config.Load("", env.Vars)
	if err != nil {
		return err
	}
	o := hubOptions(env, cfg)
	prog := &pullProgress{w: env.Stderr}
	o.Progress = prog.update
	dir, err := hub.Resolve(cmd.Context(), *model, o)
	prog.finish()
	if err != nil {
		return err
	}
	*model = dir
	return nil
}

// pullProgress draws one byte progress bar per downloaded file.
type pullProgress struct {
	w    io.Writer
	file string
	bar  *progressbar.ProgressBar
}

func (p *pullProgress) update(file string, done, total int64) {
	if file != p.file || p.bar == nil {
		p.finish()
		p.file = file
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
		)
	}
	p.bar.Set64(done)
}

func (p *pullProgress) finish() {
	if p == nil || p.bar == nil {
		return
	}
	if !p.bar.IsFinished() {
		p.bar.Finish()
	}
	p.bar = nil
}
