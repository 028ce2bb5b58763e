package cmdkit

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

// ConfigFlags are a command's flags generated from config.Keys, plus --config.
// Precedence: flags > DPCETL_* environment > config file > defaults.
type ConfigFlags struct {
	fs      *pflag.FlagSet
	path    string
	sandbox bool
	dialect string
	keys    []config.Key
	vals    map[string]*string
}

// AllKeys selects every key that has a flag.
func AllKeys(config.Key) bool { return true }

// ConnectionKeys selects the keys that reach a DPC API: the API, the credentials, retries.
func ConnectionKeys(k config.Key) bool {
	return k.Name == "api" || strings.HasPrefix(k.Name, "credentials.") || k.Name == "max_attempts"
}

// AddConfigFlags adds --config and a flag for each selected key to cmd. With the api key it
// also adds --sandbox, the spelling `make demo` uses for --api embedded.
func AddConfigFlags(cmd *cobra.Command, keep func(config.Key) bool) *ConfigFlags {
	f := &ConfigFlags{fs: cmd.Flags(), vals: map[string]*string{}}
	f.fs.StringVar(&f.path, "config", "", "YAML config file (env DPCETL_CONFIG)")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	for _, k := range config.Keys() {
		if k.Flag == "" || !keep(k) {
			continue
		}
		f.keys = append(f.keys, k)
		f.vals[k.Name] = f.fs.String(k.Flag, "", FlagHelp(k))
		if k.Kind == config.Bool {
			f.fs.Lookup(k.Flag).NoOptDefVal = "true"
		}
		if k.Values != nil {
			vals := k.Values
			_ = cmd.RegisterFlagCompletionFunc(k.Flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return vals, cobra.ShellCompDirectiveNoFileComp
			})
		}
		if k.Name == "api" {
			f.fs.BoolVar(&f.sandbox, "sandbox", false, "run on the embedded DPC sandbox with synthetic data (same as --api embedded)")
			f.fs.StringVar(&f.dialect, "dialect", "", "the API the embedded sandbox speaks: dpc, bcda, ab2d or smart (same as --source)")
		}
	}
	return f
}

// FlagHelp is a key's help line with its YAML key, env variable and default.
func FlagHelp(k config.Key) string {
	var b strings.Builder
	b.WriteString(k.Help)
	b.WriteString(" [" + k.Name)
	if k.Env != "" {
		b.WriteString(", " + k.Env)
	}
	if k.Default != "" {
		b.WriteString("; default " + k.Default)
	}
	b.WriteString("]")
	return b.String()
}

// Load builds the configuration over base: the YAML file (--config or $DPCETL_CONFIG), then
// the DPCETL_* variables, then the flags that were given. It does not validate.
func (f *ConfigFlags) Load(env *Env, base config.Config) (config.Config, error) {
	c := base
	path := f.path
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
	for _, k := range f.keys {
		if f.fs.Changed(k.Flag) {
			if err := c.Set(k.Name, *f.vals[k.Name]); err != nil {
				return c, fmt.Errorf("--%s: %w", k.Flag, err)
			}
		}
	}
	if f.sandbox {
		c.API = config.Embedded
	}
	if f.dialect != "" {
		c.Source = f.dialect
	}
	return c, nil
}

// Config is Load over the defaults, validated: every problem named by its key.
func (f *ConfigFlags) Config(env *Env) (config.Config, error) {
	c, err := f.Load(env, config.Default())
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}
