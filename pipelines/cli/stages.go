package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// stageCommand builds a stage command; it needs a real API (state must outlive the process).
func stageCommand(env *Env, use, full, short string, fn stageFunc) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cmdkit.NoArgs,
		Example: "  dpcetl " + full + " --config dpcetl.yaml --groups GROUP_ID --log-format json"}
	cf := cmdkit.AddConfigFlags(c, cmdkit.AllKeys)
	out := cmdkit.AddSummaryFlag(c)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		cfg, err := cf.Config(env)
		if err != nil {
			return err
		}
		if cfg.Embedded() {
			return fmt.Errorf("%w: stage commands keep their state between processes, so they need a real API: set api (sandbox, production or a URL) and credentials; the embedded sandbox only works with 'dpcetl run'", config.ErrInvalid)
		}
		return runPipeline(cc.Context(), env, cfg, out, full, fn)
	}
	return c
}

func exportCommand(env *Env) *cobra.Command {
	return cmdkit.Group("export", "the export stage, step by step (for orchestrators)",
		stageCommand(env, "start", "export start",
			"start an export job per group, or rejoin the one saved in the state directory (idempotent)",
			func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportStart(ctx) }),
		stageCommand(env, "status", "export status",
			"check each group's job once: exit 0 when complete, 11 (still running) otherwise; for sensors",
			func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportStatus(ctx) }),
		stageCommand(env, "wait", "export wait",
			"poll each group's job until it completes (starting it if needed)",
			func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.ExportWait(ctx) }),
		stageCommand(env, "download", "export download",
			"download and verify every file of each group's completed job into the state directory (resumes)",
			func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Download(ctx) }),
	)
}

func transformCommand(env *Env) *cobra.Command {
	return stageCommand(env, "transform", "transform",
		"flatten each group's downloaded files into Arrow tables in the state directory (needs export download)",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Transform(ctx) })
}

func loadCommand(env *Env) *cobra.Command {
	return stageCommand(env, "load", "load",
		"write each group's transformed tables as Parquet to the destination, commit, then advance the watermark",
		func(ctx context.Context, r *runner.Runner) (*runner.Summary, error) { return r.Load(ctx) })
}
