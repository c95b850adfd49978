// Package cli holds whet's subcommands. Each subcommand lives in its own file
// as a constructor returning a *cobra.Command; root.go wires them together.
// Errors become exit codes in Main only.
package cli
