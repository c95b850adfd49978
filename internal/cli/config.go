package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/config"
)

// configFlags exposes every config setting as a flag on a command, so the
// precedence defaults → --config file → WHET_* env → flags holds for all of
// them.
type configFlags struct {
	file string
	vals map[string]*string
}

// bindConfigFlags adds --config and one flag per setting (keys limits them;
// none means all).
func bindConfigFlags(cmd *cobra.Command, keys ...string) *configFlags {
	cf := &configFlags{vals: map[string]*string{}}
	cmd.Flags().StringVar(&cf.file, "config", "", "YAML config file (env WHET_CONFIG)")
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	for _, f := range config.Default().Fields() {
		if len(keys) > 0 && !want[f.Key] {
			continue
		}
		cf.vals[f.Key] = cmd.Flags().String(f.Flag, "", fmt.Sprintf("%s (env %s)", f.Doc, f.Env))
	}
	return cf
}

// load builds and validates the effective configuration.
func (cf *configFlags) load(cmd *cobra.Command, env *Env) (*config.Config, error) {
	cfg, err := config.Load(cf.file, env.Vars)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	for _, f := range cfg.Fields() {
		p, ok := cf.vals[f.Key]
		if ok && cmd.Flags().Changed(f.Flag) {
			if err := cfg.Set(f.Key, *p); err != nil {
				return nil, &exitError{code: 2, err: err}
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

func newLogger(env *Env, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: l}))
}

func newConfigCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect whet's configuration",
	}
	printCmd := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration (defaults → --config → WHET_* → flags), secrets masked",
		Args:  cobra.NoArgs,
	}
	cf := bindConfigFlags(printCmd)
	printCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load(cmd, env)
		if err != nil {
			return err
		}
		return cfg.Print(env.Stdout)
	}
	cmd.AddCommand(printCmd)
	return cmd
}
