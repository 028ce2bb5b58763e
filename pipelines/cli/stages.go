package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// stageCommand builds a stage command that needs a non-embedded API (state must outlive the process).
func stageCommand(full, summary string, fn stageFunc) *Command {
	name := full[strings.LastIndex(full, " ")+1:]
	c := &Command{Name: name, Usage: "dpcetl " + full + " [flags]", Summary: summary}
	c.flags = func() *flag.FlagSet { return newCmdFlags(name, true).fs }
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		f := newCmdFlags(name, true)
		rest, err := f.parse(args)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			return &UsageError{Msg: fmt.Sprintf("unexpected argument %q", rest[0])}
		}
		cfg, err := f.config(env)
		if err != nil {
			return err
		}
		if cfg.Embedded() {
			return fmt.Errorf("%w: stage commands keep their state between processes, so they need a real API: set api (sandbox, production or a URL) and credentials; the embedded sandbox only works with 'dpcetl run'", config.ErrInvalid)
		}
		return runPipeline(ctx, env, cfg, full, fn)
	}
	return c
}

func exportCommand() *Command {
	start := stageCommand("export start",
		"start an export job per group, or rejoin the one saved in the state directory (idempotent)",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportStart(ctx) })
	status := stageCommand("export status",
		"check each group's job once: exit 0 when complete, 11 (still running) otherwise; for sensors",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportStatus(ctx) })
	wait := stageCommand("export wait",
		"poll each group's job until it completes (starting it if needed)",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportWait(ctx) })
	download := stageCommand("export download",
		"download and verify every file of each group's completed job into the state directory (resumes)",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Download(ctx) })
	return &Command{Name: "export", Usage: "dpcetl export start|status|wait|download [flags]",
		Summary: "the export stage, step by step (for orchestrators)", Sub: []*Command{start, status, wait, download}}
}

func transformCommand() *Command {
	return stageCommand("transform",
		"flatten each group's downloaded files into Arrow tables in the state directory (needs export download)",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Transform(ctx) })
}

func loadCommand() *Command {
	return stageCommand("load",
		"write each group's transformed tables as Parquet to the destination, commit, then advance the watermark",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Load(ctx) })
}
