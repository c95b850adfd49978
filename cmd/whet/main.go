// Command whet takes an organisation from raw documents to a governed,
// fine-tuned, retrieval-grounded LLM endpoint. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/whet-dev/whet/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
