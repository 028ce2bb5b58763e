package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

// configFlag is a flag that overrides one config key.
type configFlag struct {
	name, key, usage string
}

// allConfigFlags are the flags shared by every command that reads the run configuration.
var allConfigFlags = []configFlag{
	{"api", "api", "DPC API: production (default), sandbox, a base URL, or embedded (the in-process sandbox, as --sandbox)"},
	{"sandbox-addr", "sandbox_addr", "listen address of the embedded sandbox (default 127.0.0.1:0, a random port)"},
	{"client-token-file", "credentials.client_token_file", "file holding the DPC client token"},
	{"private-key-file", "credentials.private_key_file", "PEM file of the RSA private key (mode 0600)"},
	{"key-id", "credentials.key_id", "id of the uploaded public key (UUID)"},
	{"groups", "groups.ids", "comma-separated group ids (default: all groups)"},
	{"npis", "groups.npis", "comma-separated practitioner NPIs whose groups to export"},
	{"types", "resource_types", "comma-separated resource types (default Patient,Coverage,ExplanationOfBenefit)"},
	{"since", "since", "full or incremental (default incremental: only what changed since the watermark)"},
	{"out", "destination", "output: a directory, file:///dir or s3://bucket/prefix (default ./dpcetl-out)"},
	{"state-dir", "state_dir", "state directory: job state, downloads, quarantine (default ./.dpcetl-state)"},
	{"concurrency", "concurrency", "parallel downloads and transform workers (default 4)"},
	{"views-dir", "views_dir", "extra folder of ViewDefinition JSON files"},
	{"quarantine-max-lines", "quarantine.max_lines", "fail when more input lines than this are quarantined (default 0; -1 no limit)"},
	{"quarantine-max-fraction", "quarantine.max_fraction", "fail when more than this fraction of lines is quarantined (default 0: no fraction limit)"},
	{"poll-interval", "poll_interval", "time between job status polls (default 5s)"},
	{"timeout", "timeout", "give up after this long (default none)"},
	{"max-attempts", "max_attempts", "attempts per HTTP request on 429/5xx/network errors (default 6)"},
	{"log-format", "log_format", "auto (text on a terminal, else JSON lines), text or json"},
	{"log-level", "log_level", "debug, info, warn or error"},
}

// cmdFlags is a command's flag set plus the config it builds.
type cmdFlags struct {
	fs         *flag.FlagSet
	configPath string
	values     map[string]*string // config key → flag value
	order      []configFlag
	sandbox    bool
	force      bool
}

func newCmdFlags(name string, withConfig bool) *cmdFlags {
	f := &cmdFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), values: map[string]*string{}}
	f.fs.SetOutput(io.Discard)
	if withConfig {
		f.fs.StringVar(&f.configPath, "config", "", "YAML config file (also DPCETL_CONFIG); flags > DPCETL_* env > file > defaults")
		f.fs.BoolVar(&f.sandbox, "sandbox", false, "run on the embedded DPC sandbox with synthetic data (same as api: embedded)")
		f.fs.BoolVar(&f.force, "force-sandbox-destination", false, "let the embedded sandbox write to a non-local destination")
		for _, cf := range allConfigFlags {
			f.values[cf.key] = f.fs.String(cf.name, "", cf.usage)
			f.order = append(f.order, cf)
		}
	}
	return f
}

// parse parses args; flag mistakes become usage errors with a clear message.
func (f *cmdFlags) parse(args []string) ([]string, error) {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = fmt.Sprintf("unknown flag %s", rest)
		}
		return nil, &UsageError{Msg: msg}
	}
	return f.fs.Args(), nil
}

// config builds the configuration: defaults, then the file, then DPCETL_* env, then flags.
func (f *cmdFlags) config(env *Env) (config.Config, error) {
	c, err := fileEnvConfig(env, f.configPath)
	if err != nil {
		return c, err
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, cf := range f.order {
		if set[cf.name] {
			if err := c.Set(cf.key, *f.values[cf.key]); err != nil {
				return c, fmt.Errorf("--%s: %w", cf.name, err)
			}
		}
	}
	if f.sandbox {
		c.API = config.Embedded
	}
	if f.force {
		c.ForceSandboxDestination = true
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// fileEnvConfig is the configuration before any flag: defaults, then the YAML file at path
// (or $DPCETL_CONFIG when path is empty), then the DPCETL_* variables.
func fileEnvConfig(env *Env, path string) (config.Config, error) {
	return fileEnvConfigOver(env, path, config.Default())
}

// fileEnvConfigOver is fileEnvConfig over base instead of the defaults.
func fileEnvConfigOver(env *Env, path string, base config.Config) (config.Config, error) {
	c := base
	if path == "" {
		path = env.Getenv("DPCETL_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("%w: %v", config.ErrInvalid, err)
		}
		if c, err = config.Parse(path, data, base); err != nil {
			return c, err
		}
	}
	if err := config.ApplyEnv(&c, env.Getenv); err != nil {
		return c, err
	}
	return c, nil
}
