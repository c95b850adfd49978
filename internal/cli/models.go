package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newModelsCmd is `whet models`: the model registry on a whet server.
func newModelsCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List registered models and their versions, and pull a version's adapter folder",
		Long: "The model registry of a whet server (--url or WHET_URL, token in WHET_TOKEN): every\n" +
			"succeeded training run registers a version holding a PEFT adapter folder.",
	}
	conn.bind(cmd, env)
	var project string
	list := &cobra.Command{
		Use:   "list --project ID",
		Short: "List a project's models",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if project == "" {
				return &exitError{code: 2, err: errors.New("models list: --project is required")}
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListModels(cmd.Context(), project)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME\tLATEST\tCREATED")
				for _, m := range page.Items {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", m.ID, m.Name, m.LatestVersion, m.CreatedAt.Format(time.RFC3339))
				}
			})
		},
	}
	list.Flags().StringVar(&project, "project", "", "project id")
	versions := &cobra.Command{
		Use:   "versions MODEL_ID",
		Short: "List a model's versions, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListModelVersions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "VERSION\tID\tMETHOD\tRUN\tDATASET\tCREATED")
				for _, v := range page.Items {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s@%s\t%s\n", v.Version, v.ID, v.Method, v.RunID, v.Dataset.ID, v.Dataset.Version,
						v.CreatedAt.Format(time.RFC3339))
				}
			})
		},
	}
	var out string
	pull := &cobra.Command{
		Use:   "pull MODEL_ID[@VERSION] --out DIR",
		Short: "Download a version's adapter folder (adapter_config.json, adapter_model.safetensors, tokenizer files)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: 2, err: errors.New("models pull: --out DIR is required")}
			}
			id, ref, ok := strings.Cut(args[0], "@")
			if !ok || ref == "" {
				ref = "latest"
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			v, names, err := c.PullModelVersion(cmd.Context(), id, ref, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "pulled %s version %d (%s): %s into %s\n", v.ModelName, v.Version, v.ID, strings.Join(names, ", "), out)
			return nil
		},
	}
	pull.Flags().StringVar(&out, "out", "", "output folder")
	cmd.AddCommand(list, versions, pull)
	return cmd
}
