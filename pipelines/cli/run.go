package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/logging"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

func runCommand(env *Env) *cobra.Command {
	return pipelineCommand(env, &cobra.Command{
		Use:   "run",
		Short: "run the whole pipeline (export, download, transform, load) for every group; --sandbox: on the embedded sandbox",
		Example: "  dpcetl run --sandbox                      # the demo: synthetic data, Parquet in ./dpcetl-out\n" +
			"  dpcetl run --config dpcetl.yaml --groups 5f1b0000-0000-4000-8000-000000000001\n" +
			"  DPCETL_DESTINATION=s3://bucket/dpc dpcetl run --config prod.yaml --log-format json",
	}, "run", (*runner.Runner).Run)
}

// dryRun prints what `run` would do: it reads DPC (groups), the destination (watermarks) and
// the state directory (saved jobs), and writes nothing.
func dryRun(ctx context.Context, env *Env, cfg config.Config, out *cmdkit.Output) error {
	opts, stop, err := runnerOptions(ctx, env, cfg, newLogger(env, cfg))
	defer stop()
	if err != nil {
		return err
	}
	plan, err := runner.DryRun(ctx, opts)
	if err != nil {
		return err
	}
	w := env.Redactor.Writer(env.Stdout)
	if out.Machine(env) {
		b, err := json.Marshal(plan)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	fmt.Fprintf(w, "Plan (dry run, nothing changed):\n  api:          %s\n  destination:  %s\n  export:       %s, since %s\n  groups:       %d\n",
		plan.API, plan.Destination, strings.Join(plan.ResourceTypes, ", "), plan.Since, len(plan.Groups))
	rows := make([][]string, len(plan.Groups))
	for i, g := range plan.Groups {
		rows[i] = []string{g.Group, orDash(g.Watermark), orDash(g.ExportSince), orDash(g.SavedJob)}
	}
	return cmdkit.WriteTable(w, []string{"GROUP", "WATERMARK", "_SINCE", "SAVED JOB (rejoined)"}, rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stageFunc runs one stage (or all of them) on a prepared runner.
type stageFunc func(r *runner.Runner, ctx context.Context) (*runner.Summary, error)

// runPipeline sets up logging, the runner (and the embedded sandbox when configured),
// runs fn, and prints the human summary on stderr and the JSON summary line on stdout.
func runPipeline(ctx context.Context, env *Env, cfg config.Config, out *cmdkit.Output, name string, fn stageFunc) error {
	start := env.Now()
	// Under JSON logs every stderr line is a record: no progress line, no human summary.
	text := env.ResolveLogFormat(cfg.LogFormat) == "text"
	prog := newProgress(env, nil)
	prog.tty = prog.tty && text
	log := logging.New(prog.LogWriter(env.Stderr), logging.Options{
		Format: env.LogFormat, Level: cfg.LogLevel, IsTerminal: env.IsTerminal, Redactor: env.Redactor,
	})
	prog.log = log
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(cfg.Timeout))
		defer cancel()
	}
	defer prog.Close()
	opts, stopSandbox, err := runnerOptions(ctx, env, cfg, log)
	defer stopSandbox()
	opts.Progress, opts.OnDownloadPlan = prog.Event, prog.Plan
	var r *runner.Runner
	if err == nil {
		r, err = runner.New(ctx, opts)
	}
	var sum *runner.Summary
	if err == nil {
		defer r.Close()
		sum, err = fn(r, ctx)
	}
	prog.Close()
	if sum == nil {
		sum = &runner.Summary{}
	}
	sum.Command = name
	sum.Seconds = env.Now().Sub(start).Seconds()
	sum.Status = "ok"
	if err != nil {
		sum.Status = "failed"
		sum.Error = env.Redactor.String(err.Error())
		sum.ExitCode = ExitCode(err)
		if errors.Is(ctx.Err(), context.Canceled) && sum.ExitCode != ExitConfig {
			sum.ExitCode = ExitInterrupted
		}
	}
	if name == "run" {
		if text {
			printHuman(env.Redactor.Writer(env.Stderr), sum)
		} else {
			log.Info("run finished", "status", sum.Status, "files", sum.Files, "bytes", sum.Bytes,
				"rows", sum.Rows, "quarantined", sum.Quarantined, "seconds", sum.Seconds, "output", sum.Destination)
		}
	}
	if out.Machine(env) {
		if perr := printSummary(env, sum); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

func newLogger(env *Env, cfg config.Config) *slog.Logger {
	return logging.New(env.Stderr, logging.Options{
		Format: cfg.LogFormat, Level: cfg.LogLevel, IsTerminal: env.IsTerminal, Redactor: env.Redactor,
	})
}

// printSummary writes the one-line JSON summary, the last line on stdout (Airflow's XCom).
func printSummary(env *Env, sum *runner.Summary) error {
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, env.Redactor.String(string(b)))
	return err
}

func printHuman(w io.Writer, s *runner.Summary) {
	fmt.Fprintln(w)
	if s.Status == "ok" {
		fmt.Fprintf(w, "dpcetl %s finished in %s\n", s.Command, fmtSeconds(s.Seconds))
	} else {
		fmt.Fprintf(w, "dpcetl %s FAILED after %s (exit %d)\n", s.Command, fmtSeconds(s.Seconds), s.ExitCode)
	}
	fmt.Fprintf(w, "  groups:      %d\n", len(s.Groups))
	by := ""
	for _, m := range []string{extract.VerifiedChecksum, extract.VerifiedLength, extract.VerifiedCount, extract.VerifiedStructure} {
		if n := s.VerifiedBy[m]; n > 0 {
			by += fmt.Sprintf(", %d verified by %s", n, m)
		}
	}
	fmt.Fprintf(w, "  files:       %d downloaded%s, %s\n", s.Files, by, fmtBytes(s.Bytes))
	for _, g := range s.Groups {
		if g.WatermarkHeld != "" {
			fmt.Fprintf(w, "  watermark of group %s held: %s\n", g.Group, g.WatermarkHeld)
		}
	}
	if len(s.Rows) > 0 {
		fmt.Fprintf(w, "  rows:\n")
		for _, t := range slices.Sorted(maps.Keys(s.Rows)) {
			fmt.Fprintf(w, "    %-28s %d\n", t, s.Rows[t])
		}
	}
	if s.Quarantined > 0 {
		fmt.Fprintf(w, "  quarantined: %d lines (see %s)\n", s.Quarantined, s.QuarantineDir)
	}
	if len(s.Durations) > 0 {
		var parts []string
		for _, st := range []string{"provision", "export", "download", "transform", "load"} {
			if d, ok := s.Durations[st]; ok {
				parts = append(parts, fmt.Sprintf("%s %s", st, fmtSeconds(d)))
			}
		}
		fmt.Fprintf(w, "  stages:      %s\n", strings.Join(parts, ", "))
	}
	if s.Destination != "" {
		fmt.Fprintf(w, "  output:      %s\n", s.Destination)
	}
	if s.Error != "" {
		fmt.Fprintf(w, "  error:       %s\n", s.Error)
	}
	fmt.Fprintln(w)
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
