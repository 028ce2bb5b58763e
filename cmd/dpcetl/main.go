// Command dpcetl is the bulk-export ETL for the CMS DPC API: extract, transform, load.
// `dpcetl run --sandbox` runs the whole pipeline on an embedded DPC sandbox with synthetic data.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/dpcetl/dpcetl/pipelines/cli"
)

func main() {
	// The first SIGINT/SIGTERM cancels the context: in-flight output is aborted, state
	// stays consistent. stop() restores the default so a second signal kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: term.IsTerminal(int(os.Stderr.Fd())),

		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	})
	stop()
	os.Exit(code)
}
