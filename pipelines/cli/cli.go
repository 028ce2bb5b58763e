// Package cli is the dpcetl command line: one cobra command tree whose flags come from the
// config key table, config precedence, logging, exit codes and the JSON summary line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/admin"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Env is everything a command may touch outside its arguments (see cmdkit.Env).
type Env = cmdkit.Env

// UsageError is a command-line mistake (exit 2).
type UsageError = cmdkit.UsageError

// commands is the whole command tree, in the order help lists it. To add a command, write
// `func fooCommand(env *Env) *cobra.Command` in its own file (config flags: cmdkit.AddConfigFlags;
// the pipeline: runPipeline) and add one line here.
func commands(env *Env) []*cobra.Command {
	return append([]*cobra.Command{
		runCommand(env),
		exportCommand(env),
		transformCommand(env),
		loadCommand(env),
		flattenCommand(env),
		doctorCommand(env),
		configCommand(env),
		schemaCommand(env),
		viewCommand(env),
		versionCommand(env),
	}, admin.Commands(env)...)
}

// Main runs the command line args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	env.Fill()
	stderr := env.Redactor.Writer(env.Stderr)
	root := newRoot(&env, stderr)
	if len(args) == 0 {
		printUsage(stderr, root)
		return ExitUsage
	}
	if args[0] == "-v" || args[0] == "--version" {
		args = []string{"version"}
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	err = usageFromCobra(err)
	code := ExitCode(err)
	if errors.Is(ctx.Err(), context.Canceled) && code != ExitUsage && code != ExitConfig {
		code = ExitInterrupted
	}
	path := "dpcetl"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	if errorFormat(&env, cmd) == "json" {
		logError(&env, cmd, path, code, err)
		return code
	}
	fmt.Fprintf(stderr, "%s: %v\n", path, err)
	switch code {
	case ExitUsage:
		if cmd != nil && cmd != root {
			fmt.Fprintf(stderr, "usage: %s\nRun 'dpcetl help %s' for details.\n", cmd.UseLine(), strings.TrimPrefix(path, "dpcetl "))
		} else {
			fmt.Fprintf(stderr, "Run 'dpcetl help' for the list of commands.\n")
		}
	case ExitRetryable, ExitStillRunning, ExitInterrupted:
		fmt.Fprintf(stderr, "(exit %d: retryable; the state directory lets a rerun resume)\n", code)
	}
	return code
}

// errorFormat is the log format of the command that failed: the one it resolved from its
// configuration, or, when it failed before that, its --log-format flag or DPCETL_LOG_FORMAT.
// Commands without logs (administration, schema) print plain text.
func errorFormat(env *Env, cmd *cobra.Command) string {
	if env.LogFormat != "" || cmd == nil {
		return env.LogFormat
	}
	fl := cmd.Flags().Lookup("log-format")
	if fl == nil {
		return "text"
	}
	f := env.Getenv("DPCETL_LOG_FORMAT")
	if fl.Changed {
		f = fl.Value.String()
	}
	return env.ResolveLogFormat(f)
}

// logError writes the final error as one JSON log record: still running is INFO (a sensor's
// "not yet"), an interrupt WARN, everything else ERROR.
func logError(env *Env, cmd *cobra.Command, path string, code int, err error) {
	log := logging.New(env.Stderr, logging.Options{Format: "json", Level: "debug", Redactor: env.Redactor})
	level := slog.LevelError
	switch code {
	case ExitStillRunning:
		level = slog.LevelInfo
	case ExitInterrupted:
		level = slog.LevelWarn
	}
	attrs := []any{"command", path, "exit_code", code, "err", err.Error()}
	if code == ExitUsage && cmd != nil {
		attrs = append(attrs, "usage", cmd.UseLine())
	}
	if code == ExitRetryable || code == ExitStillRunning || code == ExitInterrupted {
		attrs = append(attrs, "retryable", true)
	}
	log.Log(context.Background(), level, path+" exited "+strconv.Itoa(code), attrs...)
}

func newRoot(env *Env, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "dpcetl",
		Short:         "bulk export ETL for the CMS Data at the Point of Care (DPC) API",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	cmdkit.AddOrdered(root, commands(env)...)
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if c == root {
			printUsage(c.OutOrStdout(), root)
			return
		}
		defaultHelp(c, args)
	})
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command | exit-codes]",
		Short: "help for any command, or the exit codes",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] == "exit-codes" {
				printExitCodes(env.Stdout)
				return nil
			}
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return cmdkit.Usagef("unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, c := range root.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return append(names, "exit-codes"), cobra.ShellCompDirectiveNoFileComp
		},
	})
	return root
}

var didYouMean = regexp.MustCompile(`(?s)\n\nDid you mean this\?\n\t(\S+)`)

// usageFromCobra turns cobra's own argument errors into usage errors with one-line messages.
func usageFromCobra(err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "unknown command ") {
		return err
	}
	first, _, _ := strings.Cut(msg, "\n")
	if m := didYouMean.FindStringSubmatch(msg); m != nil {
		first += fmt.Sprintf(" (did you mean %q?)", m[1])
	}
	return &UsageError{Msg: first}
}

// printUsage lists every command once, then the one flag vocabulary the configuration uses.
func printUsage(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "dpcetl — bulk export ETL for the CMS Data at the Point of Care (DPC) API.\n\n")
	fmt.Fprintf(w, "Usage: dpcetl <command> [flags] [args]   (flags may follow arguments)\n\nCommands:\n")
	var lines [][2]string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range cmdkit.Ordered(c) {
			if s.Hidden || s.Name() == "help" && c != root {
				continue
			}
			if !s.HasSubCommands() {
				lines = append(lines, [2]string{strings.TrimPrefix(s.CommandPath(), "dpcetl "), s.Short})
			}
			walk(s)
		}
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
	fmt.Fprintf(w, "\nConfiguration flags (run, export *, transform, load, doctor, config show; the DPC administration\n"+
		"commands take --config, --api, the credential flags and --max-attempts). Precedence: flags > DPCETL_* > file > defaults.\n")
	fmt.Fprintf(w, "  %-28s %s\n", "--config FILE", "YAML config file [DPCETL_CONFIG]")
	fmt.Fprintf(w, "  %-28s %s\n", "--sandbox", "the embedded DPC sandbox with synthetic data (--api embedded)")
	fmt.Fprintf(w, "  %-28s %s\n", "--output FORMAT", "text or json; on the pipeline commands auto|text|json: the JSON summary line on stdout (auto: when stdout is not a terminal)")
	for _, k := range config.Keys() {
		if k.Flag == "" {
			continue
		}
		fmt.Fprintf(w, "  %-28s %s\n", "--"+k.Flag+" "+metavar(k), cmdkit.FlagHelp(k))
	}
	fmt.Fprintf(w, "\nRun 'dpcetl help <command>' for its own flags and examples, 'dpcetl help exit-codes' for exit codes.\n")
	fmt.Fprintf(w, "'dpcetl run --sandbox' runs the whole pipeline on an embedded DPC sandbox with synthetic data.\n")
}

func metavar(k config.Key) string {
	switch k.Kind {
	case config.Bool:
		return ""
	case config.Int:
		return "N"
	case config.Float:
		return "F"
	case config.DurationKind:
		return "DURATION"
	case config.List:
		return "A,B"
	}
	return "VALUE"
}

func printExitCodes(w io.Writer) {
	fmt.Fprintf(w, "%-5s %-14s %-8s %s\n", "code", "name", "action", "meaning")
	for _, e := range exitCodeTable {
		fmt.Fprintf(w, "%-5d %-14s %-8s %s\n", e.Code, e.Name, e.Kind, e.Meaning)
	}
}
