package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key is one setting as every surface spells it: the YAML key, the DPCETL_* variable, the
// command-line flag, the default shown in help, and the help text. The CLI generates its
// flags, `dpcetl help` and completion from this table; ApplyEnv and Set read it too.
type Key struct {
	Name    string   // YAML path: "credentials.client_token_file"
	Flag    string   // flag name without dashes ("" for file only)
	Env     string   // environment variable ("" for file only)
	Kind    Kind     // how the value is parsed
	Default string   // as help shows it ("" for none)
	Help    string   // one line
	Values  []string // the allowed values, for completion (nil: free)

	set func(c *Config, v string) error
}

// Kind is the type of a key's value.
type Kind int

// Kinds of values.
const (
	String Kind = iota
	Int
	Float
	Bool
	DurationKind
	List // comma separated
)

func (k Kind) expected() string {
	switch k {
	case Int:
		return "an integer"
	case Float:
		return "a number"
	case Bool:
		return "true or false"
	case DurationKind:
		return "a duration (e.g. 30s, 5m)"
	case List:
		return "a comma-separated list"
	}
	return "a string"
}

func str(p func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func integer(p func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errExpected(Int, v)
		}
		*p(c) = n
		return nil
	}
}

func errExpected(k Kind, v string) error { return fmt.Errorf("expected %s, got %q", k.expected(), v) }

// Keys is the table of every setting, in the order help lists them.
func Keys() []Key {
	return []Key{
		{Name: "api", Flag: "api", Env: "DPCETL_API", Default: "production", Values: []string{"production", "sandbox", Embedded},
			Help: "DPC API: production, sandbox, a base URL, or embedded (the in-process sandbox with synthetic data; --sandbox)",
			set:  str(func(c *Config) *string { return &c.API })},
		{Name: "force_sandbox_destination", Flag: "force-sandbox-destination", Env: "DPCETL_FORCE_SANDBOX_DESTINATION", Kind: Bool, Default: "false",
			Help: "let the embedded sandbox write its synthetic claims to a non-local destination",
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errExpected(Bool, v)
				}
				c.ForceSandboxDestination = b
				return nil
			}},
		{Name: "sandbox_addr", Flag: "sandbox-addr", Env: "DPCETL_SANDBOX_ADDR", Default: "127.0.0.1:0",
			Help: "listen address of the embedded sandbox (port 0: a random one)",
			set:  str(func(c *Config) *string { return &c.SandboxAddr })},
		{Name: "credentials.client_token_file", Flag: "client-token-file", Env: "DPCETL_CLIENT_TOKEN_FILE",
			Help: "file holding the DPC client token",
			set: func(c *Config, v string) error {
				c.Credentials.ClientTokenFile, c.Credentials.ClientTokenEnv = v, ""
				return nil
			}},
		{Name: "credentials.client_token_env", Flag: "client-token-env", Env: "DPCETL_CLIENT_TOKEN_ENV",
			Help: "NAME of an environment variable holding the client token",
			set: func(c *Config, v string) error {
				c.Credentials.ClientTokenEnv, c.Credentials.ClientTokenFile = v, ""
				return nil
			}},
		{Name: "credentials.private_key_file", Flag: "private-key-file", Env: "DPCETL_PRIVATE_KEY_FILE",
			Help: "PEM file of the RSA private key (mode 0600)",
			set: func(c *Config, v string) error {
				c.Credentials.PrivateKeyFile, c.Credentials.PrivateKeyEnv = v, ""
				return nil
			}},
		{Name: "credentials.private_key_env", Flag: "private-key-env", Env: "DPCETL_PRIVATE_KEY_ENV",
			Help: "NAME of an environment variable holding the PEM private key",
			set: func(c *Config, v string) error {
				c.Credentials.PrivateKeyEnv, c.Credentials.PrivateKeyFile = v, ""
				return nil
			}},
		{Name: "credentials.key_id", Flag: "key-id", Env: "DPCETL_KEY_ID",
			Help: "id DPC returned for the uploaded public key (UUID)",
			set:  func(c *Config, v string) error { c.Credentials.KeyID, c.Credentials.KeyIDEnv = v, ""; return nil }},
		{Name: "credentials.key_id_env", Flag: "key-id-env", Env: "DPCETL_KEY_ID_ENV",
			Help: "NAME of an environment variable holding the key id",
			set:  func(c *Config, v string) error { c.Credentials.KeyIDEnv, c.Credentials.KeyID = v, ""; return nil }},
		{Name: "groups.ids", Flag: "groups", Env: "DPCETL_GROUPS", Kind: List, Default: "all groups",
			Help: "group ids to export",
			set:  func(c *Config, v string) error { c.Groups = Groups{IDs: splitList(v)}; return nil }},
		{Name: "groups.npis", Flag: "npis", Env: "DPCETL_NPIS", Kind: List,
			Help: "practitioner NPIs whose attribution groups to export",
			set:  func(c *Config, v string) error { c.Groups = Groups{NPIs: splitList(v)}; return nil }},
		{Name: "groups.all", Kind: Bool, Default: "true", Help: "every group of the organization",
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errExpected(Bool, v)
				}
				c.Groups = Groups{All: b}
				return nil
			}},
		{Name: "resource_types", Flag: "types", Env: "DPCETL_RESOURCE_TYPES", Kind: List, Default: "Patient,Coverage,ExplanationOfBenefit",
			Help: "resource types to export", Values: []string{"Patient", "Coverage", "ExplanationOfBenefit"},
			set: func(c *Config, v string) error { c.ResourceTypes = splitList(v); return nil }},
		{Name: "since", Flag: "since", Env: "DPCETL_SINCE", Default: "incremental", Values: []string{"incremental", "full"},
			Help: "incremental (what changed since the watermark), full, or an RFC 3339 instant (a backfill from then)",
			set:  str(func(c *Config) *string { return &c.Since })},
		{Name: "destination", Flag: "out", Env: "DPCETL_DESTINATION", Default: "dpcetl-out",
			Help: "where Parquet goes: a directory, file:///dir or s3://bucket/prefix",
			set:  str(func(c *Config) *string { return &c.Destination })},
		{Name: "state_dir", Flag: "state-dir", Env: "DPCETL_STATE_DIR", Default: ".dpcetl-state",
			Help: "job state, downloads and quarantined lines",
			set:  str(func(c *Config) *string { return &c.StateDir })},
		{Name: "concurrency", Flag: "concurrency", Env: "DPCETL_CONCURRENCY", Kind: Int, Default: "4",
			Help: "parallel downloads and transform workers (1-64)",
			set:  integer(func(c *Config) *int { return &c.Concurrency })},
		{Name: "views_dir", Flag: "views-dir", Env: "DPCETL_VIEWS_DIR",
			Help: "extra folder of ViewDefinition JSON files (extra tables)",
			set:  str(func(c *Config) *string { return &c.ViewsDir })},
		{Name: "quarantine.max_lines", Flag: "quarantine-max-lines", Env: "DPCETL_QUARANTINE_MAX_LINES", Kind: Int, Default: "0",
			Help: "fail when more input lines than this are quarantined (-1: no limit)",
			set:  integer(func(c *Config) *int { return &c.Quarantine.MaxLines })},
		{Name: "quarantine.max_fraction", Flag: "quarantine-max-fraction", Env: "DPCETL_QUARANTINE_MAX_FRACTION", Kind: Float, Default: "0",
			Help: "fail when more than this fraction of lines is quarantined (0: no fraction limit)",
			set: func(c *Config, v string) error {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return errExpected(Float, v)
				}
				c.Quarantine.MaxFraction = f
				return nil
			}},
		{Name: "poll_interval", Flag: "poll-interval", Env: "DPCETL_POLL_INTERVAL", Kind: DurationKind, Default: "5s",
			Help: "time between job status polls", set: duration(func(c *Config) *Duration { return &c.PollInterval })},
		{Name: "timeout", Flag: "timeout", Env: "DPCETL_TIMEOUT", Kind: DurationKind, Default: "none",
			Help: "give up after this long", set: duration(func(c *Config) *Duration { return &c.Timeout })},
		{Name: "max_attempts", Flag: "max-attempts", Env: "DPCETL_MAX_ATTEMPTS", Kind: Int, Default: "6",
			Help: "attempts per HTTP request, the first included, on 429/5xx/network errors",
			set:  integer(func(c *Config) *int { return &c.MaxAttempts })},
		{Name: "log_format", Flag: "log-format", Env: "DPCETL_LOG_FORMAT", Default: "auto", Values: []string{"auto", "text", "json"},
			Help: "auto (text on a terminal, else JSON lines), text or json",
			set:  str(func(c *Config) *string { return &c.LogFormat })},
		{Name: "log_level", Flag: "log-level", Env: "DPCETL_LOG_LEVEL", Default: "info", Values: []string{"debug", "info", "warn", "error"},
			Help: "debug, info, warn or error",
			set:  str(func(c *Config) *string { return &c.LogLevel })},
	}
}

func duration(p func(c *Config) *Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errExpected(DurationKind, v)
		}
		*p(c) = Duration(d)
		return nil
	}
}

// LookupKey finds a key by its YAML name.
func LookupKey(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// ApplyEnv overrides c with the DPCETL_* variables that are set (non-empty).
func ApplyEnv(c *Config, getenv func(string) string) error {
	for _, k := range Keys() {
		if k.Env == "" {
			continue
		}
		v := strings.TrimSpace(getenv(k.Env))
		if v == "" {
			continue
		}
		if err := c.Set(k.Name, v); err != nil {
			return fmt.Errorf("%s: %w", k.Env, err)
		}
	}
	return nil
}

// Set assigns one key from its string form (used by env variables and flags). Errors name
// the key and what it expects: `concurrency: expected an integer, got "lots"`.
func (c *Config) Set(name, v string) error {
	k, ok := LookupKey(name)
	if !ok {
		return fmt.Errorf("%w: unknown key %q", ErrInvalid, name)
	}
	if err := k.set(c, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	return nil
}
