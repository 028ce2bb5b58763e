// Package cli is the dpcetl command line: the command table, flags, config precedence,
// logging, exit codes and the one-line JSON summary orchestrators read from stdout.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Version is set at build time with -ldflags "-X github.com/dpcetl/dpcetl/pipelines/cli.Version=…".
var Version = "dev"

// commands is the whole command table, in the order help lists it.
func commands() []*Command {
	cmds := []*Command{
		runCommand(),
		exportCommand(),
		transformCommand(),
		loadCommand(),
		doctorCommand(),
		configCommand(),
		{Name: "version", Usage: "dpcetl version", Summary: "print the version", Run: func(_ context.Context, env *Env, _ []string) error {
			_, err := fmt.Fprintln(env.Stdout, "dpcetl", Version)
			return err
		}},
	}
	cmds = append(cmds, adminCommands()...)
	cmds = append(cmds, schemaCommands()...)
	return cmds
}

// Main runs the command line args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	env.fill()
	red := env.Redactor
	stderr := red.Writer(env.Stderr)
	cmds := commands()
	if len(args) == 0 {
		printUsage(stderr, cmds)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] == "exit-codes" {
			printExitCodes(env.Stdout)
			return ExitOK
		}
		if len(args) > 1 {
			if c, _, err := find(cmds, args[1:]); err == nil {
				printCommandHelp(env.Stdout, c)
				return ExitOK
			}
		}
		printUsage(env.Stdout, cmds)
		return ExitOK
	case "-v", "-version", "--version":
		args = []string{"version"}
	}
	cmd, rest, err := find(cmds, args)
	if err != nil {
		fmt.Fprintf(stderr, "dpcetl: %v\nRun 'dpcetl help' for the list of commands.\n", err)
		return ExitUsage
	}
	if cmd.Run == nil {
		printCommandHelp(stderr, cmd)
		return ExitUsage
	}
	err = cmd.Run(ctx, &env, rest)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(env.Stdout, cmd)
		return ExitOK
	}
	code := ExitCode(err)
	if errors.Is(ctx.Err(), context.Canceled) && code != ExitUsage && code != ExitConfig {
		code = ExitInterrupted
	}
	fmt.Fprintf(stderr, "dpcetl %s: %v\n", cmdPath(args, rest), err)
	switch code {
	case ExitUsage:
		fmt.Fprintf(stderr, "usage: %s\nRun 'dpcetl help %s' for details.\n", cmd.Usage, cmdPath(args, rest))
	case ExitRetryable, ExitStillRunning, ExitInterrupted:
		fmt.Fprintf(stderr, "(exit %d: retryable; the state directory lets a rerun resume)\n", code)
	}
	return code
}

func cmdPath(args, rest []string) string {
	return strings.Join(args[:len(args)-len(rest)], " ")
}

// find walks the command tree; it returns the deepest command and the remaining args.
func find(cmds []*Command, args []string) (*Command, []string, error) {
	var cur *Command
	for len(args) > 0 {
		name := args[0]
		if strings.HasPrefix(name, "-") {
			break
		}
		var next *Command
		for _, c := range cmds {
			if c.Name == name {
				next = c
				break
			}
		}
		if next == nil {
			if cur == nil {
				return nil, nil, fmt.Errorf("unknown command %q%s", name, suggest(name, cmds))
			}
			if cur.Run == nil {
				return nil, nil, fmt.Errorf("unknown command %q for %q%s", name, cur.Name, suggest(name, cmds))
			}
			break
		}
		cur, args, cmds = next, args[1:], next.Sub
		if len(cmds) == 0 {
			break
		}
	}
	if cur == nil {
		return nil, nil, fmt.Errorf("expected a command, got %q", args[0])
	}
	return cur, args, nil
}

func suggest(name string, cmds []*Command) string {
	for _, c := range cmds {
		if strings.HasPrefix(c.Name, name) || strings.HasPrefix(name, c.Name) || editDistance(name, c.Name) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", c.Name)
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func printUsage(w io.Writer, cmds []*Command) {
	fmt.Fprintf(w, "dpcetl — bulk export ETL for the CMS Data at the Point of Care (DPC) API.\n\n")
	fmt.Fprintf(w, "Usage: dpcetl <command> [flags] [args]\n\nCommands:\n")
	var lines [][2]string
	var walk func(prefix string, cs []*Command)
	walk = func(prefix string, cs []*Command) {
		for _, c := range cs {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if c.Run != nil || len(c.Sub) == 0 {
				lines = append(lines, [2]string{name, c.Summary})
			}
			walk(name, c.Sub)
		}
	}
	walk("", cmds)
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
	fmt.Fprintf(w, "\nRun 'dpcetl help <command>' for its flags, 'dpcetl help exit-codes' for exit codes.\n")
	fmt.Fprintf(w, "'dpcetl run --sandbox' runs the whole pipeline on an embedded DPC sandbox with synthetic data.\n")
}

func printCommandHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.Usage, c.Summary)
	if len(c.Sub) > 0 {
		fmt.Fprintf(w, "\nSubcommands:\n")
		for _, s := range c.Sub {
			fmt.Fprintf(w, "  %-10s %s\n", s.Name, s.Summary)
		}
	}
	if c.flags != nil {
		fs := c.flags()
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func printExitCodes(w io.Writer) {
	fmt.Fprintf(w, "%-5s %-14s %-8s %s\n", "code", "name", "action", "meaning")
	for _, e := range exitCodeTable {
		fmt.Fprintf(w, "%-5d %-14s %-8s %s\n", e.Code, e.Name, e.Kind, e.Meaning)
	}
}

// fill gives every unset Env field a working default so commands never check for nil.
func (e *Env) fill() {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Redactor == nil {
		e.Redactor = logging.NewRedactor()
	}
}
