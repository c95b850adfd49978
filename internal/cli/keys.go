package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
)

func newKeysCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list, rotate and revoke API keys",
		Long: "API keys look like whet_<key id>_<secret>; the token is shown once, on create and rotate.\n" +
			"These commands talk to a whet server (--url or WHET_URL) with the token in WHET_TOKEN.",
	}
	conn.bind(cmd, env)
	showSecret := func(k api.APIKeySecret, verb string) func(tw *tabwriter.Writer) {
		return func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "%s key %s (%s, role %s)\n", verb, k.ID, k.Name, k.Role)
			fmt.Fprintf(tw, "token (shown once, store it now):\n%s\n", k.Token)
		}
	}

	var role, project string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			in := api.APIKeyCreate{Name: args[0], Role: role, ProjectID: project}
			if ttl > 0 {
				exp := time.Now().Add(ttl).UTC()
				in.ExpiresAt = &exp
			}
			k, err := c.CreateAPIKey(cmd.Context(), in)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, k, showSecret(k, "created"))
		},
	}
	create.Flags().StringVar(&role, "role", "viewer", "owner, admin, ml_engineer, data_engineer, sme or viewer")
	create.Flags().StringVar(&project, "project", "", "restrict the key to this project id")
	create.Flags().DurationVar(&ttl, "expires-in", 0, "expire the key after this long (e.g. 720h); 0 never")

	var limit int
	var cursor string
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListAPIKeys(cmd.Context(), limit, cursor)
			if err != nil {
				return err
			}
			err = conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME\tROLE\tPROJECT\tLAST USED\tEXPIRES\tREVOKED")
				for _, k := range page.Items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, orDash(k.ProjectID), fmtTime(k.LastUsedAt), fmtTime(k.ExpiresAt), fmtTime(k.RevokedAt))
				}
			})
			nextHint(env.Stdout, conn.output, page.NextCursor)
			return err
		},
	}
	pageFlags(list, &limit, &cursor)

	rotate := &cobra.Command{
		Use:   "rotate KEY_ID",
		Short: "Give a key a new secret (the old token stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			k, err := c.RotateAPIKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, k, showSecret(k, "rotated"))
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke a key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			if err := c.RevokeAPIKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			return conn.emit(env.Stdout, map[string]string{"revoked": args[0]}, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "revoked key %s\n", args[0])
			})
		},
	}
	cmd.AddCommand(create, list, rotate, revoke)
	return cmd
}
