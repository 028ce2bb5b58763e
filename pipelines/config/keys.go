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
	Default string   // as help shows it ("" for none)
	Help    string   // one line
	Values  []string // the allowed values, for completion (nil: free)
	Kind    Kind     // how the value is parsed, from the field's type

	field func(c *Config) any // pointer to the field Set assigns
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

var expected = [...]string{String: "a string", Int: "an integer", Float: "a number", Bool: "true or false",
	DurationKind: "a duration (e.g. 30s, 5m)", List: "a comma-separated list"}

// Keys is the table of every setting, in the order help lists it.
func Keys() []Key {
	ks := []Key{
		{"api", "api", "DPCETL_API", "production", "DPC API: production, sandbox, a base URL, or embedded (the in-process sandbox with synthetic data; --sandbox)",
			[]string{"production", "sandbox", Embedded}, 0, func(c *Config) any { return &c.API }},
		{"force_sandbox_destination", "force-sandbox-destination", "DPCETL_FORCE_SANDBOX_DESTINATION", "false",
			"let the embedded sandbox write its synthetic claims to a non-local destination", nil, 0, func(c *Config) any { return &c.ForceSandboxDestination }},
		{"sandbox_addr", "sandbox-addr", "DPCETL_SANDBOX_ADDR", "127.0.0.1:0", "listen address of the embedded sandbox (port 0: a random one)",
			nil, 0, func(c *Config) any { return &c.SandboxAddr }},
		{"credentials.client_token_file", "client-token-file", "DPCETL_CLIENT_TOKEN_FILE", "", "file holding the DPC client token",
			nil, 0, func(c *Config) any { return &c.Credentials.ClientTokenFile }},
		{"credentials.client_token_env", "client-token-env", "DPCETL_CLIENT_TOKEN_ENV", "", "NAME of an environment variable holding the client token",
			nil, 0, func(c *Config) any { return &c.Credentials.ClientTokenEnv }},
		{"credentials.private_key_file", "private-key-file", "DPCETL_PRIVATE_KEY_FILE", "", "PEM file of the RSA private key (mode 0600)",
			nil, 0, func(c *Config) any { return &c.Credentials.PrivateKeyFile }},
		{"credentials.private_key_env", "private-key-env", "DPCETL_PRIVATE_KEY_ENV", "", "NAME of an environment variable holding the PEM private key",
			nil, 0, func(c *Config) any { return &c.Credentials.PrivateKeyEnv }},
		{"credentials.key_id", "key-id", "DPCETL_KEY_ID", "", "id DPC returned for the uploaded public key (UUID)",
			nil, 0, func(c *Config) any { return &c.Credentials.KeyID }},
		{"credentials.key_id_env", "key-id-env", "DPCETL_KEY_ID_ENV", "", "NAME of an environment variable holding the key id",
			nil, 0, func(c *Config) any { return &c.Credentials.KeyIDEnv }},
		{"groups.ids", "groups", "DPCETL_GROUPS", "all groups", "group ids to export", nil, 0, func(c *Config) any { return &c.Groups.IDs }},
		{"groups.npis", "npis", "DPCETL_NPIS", "", "practitioner NPIs whose attribution groups to export", nil, 0, func(c *Config) any { return &c.Groups.NPIs }},
		{"groups.all", "", "", "true", "every group of the organization", nil, 0, func(c *Config) any { return &c.Groups.All }},
		{"resource_types", "types", "DPCETL_RESOURCE_TYPES", "Patient,Coverage,ExplanationOfBenefit", "resource types to export",
			[]string{"Patient", "Coverage", "ExplanationOfBenefit"}, 0, func(c *Config) any { return &c.ResourceTypes }},
		{"since", "since", "DPCETL_SINCE", "incremental", "incremental (what changed since the watermark), full, or an RFC 3339 instant (a backfill from then)",
			[]string{"incremental", "full"}, 0, func(c *Config) any { return &c.Since }},
		{"destination", "out", "DPCETL_DESTINATION", "dpcetl-out", "where Parquet goes: a directory, file:///dir or s3://bucket/prefix",
			nil, 0, func(c *Config) any { return &c.Destination }},
		{"state_dir", "state-dir", "DPCETL_STATE_DIR", ".dpcetl-state", "job state, downloads and quarantined lines", nil, 0, func(c *Config) any { return &c.StateDir }},
		{"concurrency", "concurrency", "DPCETL_CONCURRENCY", "4", "parallel downloads and transform workers (1-64)", nil, 0, func(c *Config) any { return &c.Concurrency }},
		{"memory_limit", "memory-limit", "DPCETL_MEMORY_LIMIT", "256", "memory budget in MiB shared by every group's batches, row groups and S3 parts (also Go's soft GOMEMLIMIT)", nil, 0, func(c *Config) any { return &c.MemoryLimit }},
		{"views_dir", "views-dir", "DPCETL_VIEWS_DIR", "", "extra folder of ViewDefinition JSON files (extra tables)", nil, 0, func(c *Config) any { return &c.ViewsDir }},
		{"fhir_version", "fhir-version", "DPCETL_FHIR_VERSION", "STU3", "FHIR version of the input: STU3 (DPC), R4 (Blue Button v2, BCDA, AB2D) or auto (per file)",
			[]string{"STU3", "R4", "auto"}, 0, func(c *Config) any { return &c.FHIRVersion }},
		{"max_warnings", "max-warnings", "DPCETL_MAX_WARNINGS", "-1", "fail (publish nothing) when the claims checks count more warnings than this (-1: never)",
			nil, 0, func(c *Config) any { return &c.MaxWarnings }},
		{"money_policy", "money-policy", "DPCETL_MONEY_POLICY", "strict", "money with more decimals than its column: strict (quarantine the claim), round_half_even (round, counted in the summary) or exact (DECIMAL(38,18))",
			[]string{"strict", "round_half_even", "exact"}, 0, func(c *Config) any { return &c.MoneyPolicy }},
		{"quarantine.max_lines", "quarantine-max-lines", "DPCETL_QUARANTINE_MAX_LINES", "0", "fail when more input lines than this are quarantined (-1: no limit)",
			nil, 0, func(c *Config) any { return &c.Quarantine.MaxLines }},
		{"quarantine.max_fraction", "quarantine-max-fraction", "DPCETL_QUARANTINE_MAX_FRACTION", "0", "fail when more than this fraction of lines is quarantined (0: no fraction limit)",
			nil, 0, func(c *Config) any { return &c.Quarantine.MaxFraction }},
		{"poll_interval", "poll-interval", "DPCETL_POLL_INTERVAL", "5s", "time between job status polls", nil, 0, func(c *Config) any { return &c.PollInterval }},
		{"timeout", "timeout", "DPCETL_TIMEOUT", "none", "give up after this long", nil, 0, func(c *Config) any { return &c.Timeout }},
		{"max_attempts", "max-attempts", "DPCETL_MAX_ATTEMPTS", "6", "attempts per HTTP request, the first included, on 429/5xx/network errors",
			nil, 0, func(c *Config) any { return &c.MaxAttempts }},
		{"log_format", "log-format", "DPCETL_LOG_FORMAT", "auto", "auto (text on a terminal, else JSON lines), text or json",
			[]string{"auto", "text", "json"}, 0, func(c *Config) any { return &c.LogFormat }},
		{"log_level", "log-level", "DPCETL_LOG_LEVEL", "info", "debug, info, warn or error",
			[]string{"debug", "info", "warn", "error"}, 0, func(c *Config) any { return &c.LogLevel }},
	}
	var probe Config
	for i := range ks {
		switch ks[i].field(&probe).(type) {
		case *int:
			ks[i].Kind = Int
		case *float64:
			ks[i].Kind = Float
		case *bool:
			ks[i].Kind = Bool
		case *Duration:
			ks[i].Kind = DurationKind
		case *[]string:
			ks[i].Kind = List
		}
	}
	return ks
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
		if v := strings.TrimSpace(getenv(k.Env)); k.Env != "" && v != "" {
			if err := c.Set(k.Name, v); err != nil {
				return fmt.Errorf("%s: %w", k.Env, err)
			}
		}
	}
	return nil
}

// Set assigns one key from its string form (used by env variables and flags). Errors name
// the key and what it expects: `concurrency: expected an integer, got "lots"`. A credential
// given as a file replaces one given as a variable name, and the other way round; a group
// selection replaces the previous one.
func (c *Config) Set(name, v string) error {
	k, ok := LookupKey(name)
	if !ok {
		return fmt.Errorf("%w: unknown key %q", ErrInvalid, name)
	}
	bad := fmt.Errorf("%w: %s: expected %s, got %q", ErrInvalid, name, expected[k.Kind], v)
	if strings.HasPrefix(name, "groups.") {
		c.Groups = Groups{}
	}
	switch p := k.field(c).(type) {
	case *string:
		*p = v
		const cr = "credentials."
		other := map[string]string{cr + "client_token_file": cr + "client_token_env", cr + "client_token_env": cr + "client_token_file",
			cr + "private_key_file": cr + "private_key_env", cr + "private_key_env": cr + "private_key_file",
			cr + "key_id": cr + "key_id_env", cr + "key_id_env": cr + "key_id"}
		if o, ok := LookupKey(other[name]); ok {
			*o.field(c).(*string) = ""
		}
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad
		}
		*p = n
	case *float64:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return bad
		}
		*p = f
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad
		}
		*p = b
	case *Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return bad
		}
		*p = Duration(d)
	case *[]string:
		*p = splitList(v)
	}
	return nil
}
