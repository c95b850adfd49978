package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

func newProjectsCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "List, create and delete projects",
		Long:  "Project commands talk to a whet server (--url or WHET_URL) with the token in WHET_TOKEN.",
	}
	conn.bind(cmd, env)

	var limit int
	var cursor string
	list := &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListProjects(cmd.Context(), limit, cursor)
			if err != nil {
				return err
			}
			err = conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME\tCREATED\tDESCRIPTION")
				for _, p := range page.Items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Name, fmtTime(&p.CreatedAt), orDash(p.Description))
				}
			})
			nextHint(env.Stdout, conn.output, page.NextCursor)
			return err
		},
	}
	pageFlags(list, &limit, &cursor)

	var desc string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			p, err := c.CreateProject(cmd.Context(), api.ProjectCreate{Name: args[0], Description: desc})
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, p, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "created project %s (%s)\n", p.ID, p.Name)
			})
		},
	}
	create.Flags().StringVar(&desc, "description", "", "what the project is for")

	del := &cobra.Command{
		Use:   "delete PROJECT_ID",
		Short: "Delete a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			if err := c.DeleteProject(cmd.Context(), args[0]); err != nil {
				return err
			}
			return conn.emit(env.Stdout, map[string]string{"deleted": args[0]}, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "deleted project %s\n", args[0])
			})
		},
	}
	cmd.AddCommand(list, create, del)
	return cmd
}
