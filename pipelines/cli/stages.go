package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// stageCommand builds a stage command.
func stageCommand(env *Env, use, full, short string, fn stageFunc) *cobra.Command {
	return pipelineCommand(env, &cobra.Command{Use: use, Short: short,
		Example: "  dpcetl " + full + " --config dpcetl.yaml --groups GROUP_ID --log-format json"}, full, fn)
}

// pipelineCommand gives c the config flags and --output and runs fn through runPipeline. Only
// `run` (which also has --dry-run) may use the embedded sandbox: the stage commands keep their
// state between processes, so they need a real API.
func pipelineCommand(env *Env, c *cobra.Command, name string, fn stageFunc) *cobra.Command {
	c.Args = cmdkit.NoArgs
	cf := cmdkit.AddConfigFlags(c, cmdkit.AllKeys)
	out := cmdkit.AddSummaryFlag(c)
	dry := new(bool)
	if name == "run" {
		dry = c.Flags().Bool("dry-run", false, "print the plan (groups, watermarks, what would be exported, destination) and touch nothing")
	}
	c.RunE = func(cc *cobra.Command, _ []string) error {
		cfg, err := cf.Config(env)
		switch {
		case err != nil:
			return err
		case *dry:
			return dryRun(cc.Context(), env, cfg, out)
		case cfg.Embedded() && name != "run":
			return fmt.Errorf("%w: stage commands keep their state between processes, so they need a real API: set api (sandbox, production or a URL) and credentials; the embedded sandbox only works with 'dpcetl run'", config.ErrInvalid)
		}
		return runPipeline(cc.Context(), env, cfg, out, name, fn)
	}
	return c
}

func exportCommand(env *Env) *cobra.Command {
	return cmdkit.Group("export", "the export stage, step by step (for orchestrators)",
		stageCommand(env, "start", "export start",
			"start an export job per group, or rejoin the one saved in the state directory (idempotent)", (*runner.Runner).ExportStart),
		stageCommand(env, "status", "export status",
			"check each group's job once: exit 0 when complete, 11 (still running) otherwise; for sensors", (*runner.Runner).ExportStatus),
		stageCommand(env, "wait", "export wait",
			"poll each group's job until it completes (starting it if needed)", (*runner.Runner).ExportWait),
		stageCommand(env, "download", "export download",
			"download and verify every file of each group's completed job into the state directory (resumes)", (*runner.Runner).Download),
	)
}

func transformCommand(env *Env) *cobra.Command {
	return stageCommand(env, "transform", "transform",
		"flatten each group's downloaded files into Arrow tables in the state directory (needs export download)", (*runner.Runner).Transform)
}

func loadCommand(env *Env) *cobra.Command {
	return stageCommand(env, "load", "load",
		"write each group's transformed tables as Parquet to the destination, commit, then advance the watermark", (*runner.Runner).Load)
}
