// Command dpc-sandbox runs the local DPC API sandbox (package extract/dpctest) on its own:
// a faithful DPC server with synthetic claims, for demos and for developing without CMS credentials.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
