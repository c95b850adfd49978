package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

func newUsersCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "users",
		Short: "List, add and update users and their role bindings",
		Long:  "User commands talk to a whet server (--url or WHET_URL) with the token in WHET_TOKEN.",
	}
	conn.bind(cmd, env)
	show := func(u api.User) func(tw *tabwriter.Writer) {
		return func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, u.Status)
		}
	}

	var limit int
	var cursor string
	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListUsers(cmd.Context(), limit, cursor)
			if err != nil {
				return err
			}
			err = conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tSTATUS\tPROJECT ROLES")
				for _, u := range page.Items {
					var pr []string
					for p, r := range u.ProjectRoles {
						pr = append(pr, p+"="+r)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, orDash(u.Role), u.Status, orDash(strings.Join(pr, ",")))
				}
			})
			nextHint(env.Stdout, conn.output, page.NextCursor)
			return err
		},
	}
	pageFlags(list, &limit, &cursor)

	var role, name string
	add := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Add a user with an organisation role",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), api.UserCreate{Email: args[0], Name: name, Role: role})
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, u, show(u))
		},
	}
	add.Flags().StringVar(&role, "role", "viewer", "owner, admin, ml_engineer, data_engineer, sme or viewer")
	add.Flags().StringVar(&name, "name", "", "display name")

	var setRole, status string
	var bindings []string
	update := &cobra.Command{
		Use:   "update USER_ID",
		Short: "Change a user's role, status or project role bindings",
		Example: "  whet users update usr_… --role ml_engineer\n" +
			"  whet users update usr_… --status disabled\n" +
			"  whet users update usr_… --project prj_…=sme --project prj_…=   (empty role removes the binding)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			var in api.UserUpdate
			if cmd.Flags().Changed("role") {
				in.Role = &setRole
			}
			if cmd.Flags().Changed("status") {
				in.Status = &status
			}
			for _, b := range bindings {
				p, r, ok := strings.Cut(b, "=")
				if !ok {
					return &exitError{code: 2, err: fmt.Errorf("--project %q: want PROJECT_ID=ROLE", b)}
				}
				if in.ProjectRoles == nil {
					in.ProjectRoles = map[string]string{}
				}
				in.ProjectRoles[p] = r
			}
			u, err := c.UpdateUser(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, u, show(u))
		},
	}
	update.Flags().StringVar(&setRole, "role", "", "new organisation role")
	update.Flags().StringVar(&status, "status", "", "active or disabled")
	update.Flags().StringArrayVar(&bindings, "project", nil, "PROJECT_ID=ROLE binding (repeatable; empty role removes)")
	cmd.AddCommand(list, add, update)
	return cmd
}
