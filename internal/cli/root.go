package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Env is what a command may read from the outside world. Only Main builds it;
// commands never read os.Environ or os.Stdin directly.
type Env struct {
	Vars   []string // KEY=VALUE pairs, as os.Environ returns them
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Lookup returns the value of the environment variable key.
func (e *Env) Lookup(key string) (string, bool) {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		kv := e.Vars[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:], true
		}
	}
	return "", false
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main runs the whet command line and returns the process exit code.
func Main(ctx context.Context, args, vars []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Vars: vars, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "whet:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "whet",
		Short:         "From raw documents to a governed, fine-tuned, retrieval-grounded LLM endpoint",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newQuickstartCmd(env),
		newTokenizeCmd(env),
		newEmbedCmd(env),
		newModelCmd(env),
		newGenerateCmd(env),
		newJobsCmd(env),
		newServeCmd(env), newWorkerCmd(env), newConfigCmd(env), newProjectsCmd(env), newKeysCmd(env), newUsersCmd(env), newAuditCmd(env),
		newDatasetsCmd(env), newIngestCmd(env),
		newIndexCmd(env), newEvalCmd(env),
	)
	benchParent(root).AddCommand(newBenchGenerateCmd(env))
	benchParent(root).AddCommand(newBenchAPICmd(env))
	benchParent(root).AddCommand(newBenchSearchCmd(env))
	benchParent(root).AddCommand(newBenchIngestCmd(env))
	addTrainCmds(root, env)
	addTrainRemote(root, env)
	root.AddCommand(newModelsCmd(env))
	addPretrainCmds(root, env)
	return root
}
