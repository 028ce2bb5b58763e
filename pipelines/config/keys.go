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
		{"source", "source", "DPCETL_SOURCE", "dpc", "bulk-data API: dpc, bcda, ab2d or smart (a FHIR Bulk Data server with SMART Backend Services auth)",
			[]string{SourceDPC, SourceBCDA, SourceAB2D, SourceSMART}, 0, func(c *Config) any { return &c.Source }},
		{"api", "api", "DPCETL_API", "production", "API (FHIR base URL): production, sandbox (dpc, bcda, ab2d), a URL, or embedded (the in-process sandbox with synthetic data; --sandbox)",
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
		{"credentials.key_id", "key-id", "DPCETL_KEY_ID", "", "dpc: the id DPC returned for the uploaded public key (UUID); smart: the key's kid",
			nil, 0, func(c *Config) any { return &c.Credentials.KeyID }},
		{"credentials.key_id_env", "key-id-env", "DPCETL_KEY_ID_ENV", "", "NAME of an environment variable holding the key id",
			nil, 0, func(c *Config) any { return &c.Credentials.KeyIDEnv }},
		{"credentials.client_id", "client-id", "DPCETL_CLIENT_ID", "", "bcda, ab2d, smart: the OAuth client id",
			nil, 0, func(c *Config) any { return &c.Credentials.ClientID }},
		{"credentials.client_secret_file", "client-secret-file", "DPCETL_CLIENT_SECRET_FILE", "", "bcda, ab2d: file holding the client secret",
			nil, 0, func(c *Config) any { return &c.Credentials.ClientSecretFile }},
		{"credentials.client_secret_env", "client-secret-env", "DPCETL_CLIENT_SECRET_ENV", "", "bcda, ab2d: NAME of an environment variable holding the client secret",
			nil, 0, func(c *Config) any { return &c.Credentials.ClientSecretEnv }},
		{"credentials.token_url", "token-url", "DPCETL_TOKEN_URL", "by source", "token endpoint: required for ab2d (its Okta URL); bcda {root}/auth/token; smart from .well-known/smart-configuration",
			nil, 0, func(c *Config) any { return &c.Credentials.TokenURL }},
		{"credentials.alg", "alg", "DPCETL_ALG", "from the key", "smart: client assertion algorithm, RS384 (RSA key) or ES384 (EC P-384 key)",
			[]string{"RS384", "ES384"}, 0, func(c *Config) any { return &c.Credentials.Alg }},
		{"credentials.scopes", "scopes", "DPCETL_SCOPES", "system/*.read", "smart: scopes to ask for (bcda none, ab2d clientCreds)",
			nil, 0, func(c *Config) any { return &c.Credentials.Scopes }},
		{"groups.ids", "groups", "DPCETL_GROUPS", "all groups", "group ids to export (dpc: UUIDs; others: FHIR ids, e.g. BCDA all/runout, an AB2D contract)", nil, 0, func(c *Config) any { return &c.Groups.IDs }},
		{"groups.npis", "npis", "DPCETL_NPIS", "", "practitioner NPIs whose attribution groups to export", nil, 0, func(c *Config) any { return &c.Groups.NPIs }},
		{"groups.all", "", "", "true", "every group of the organization", nil, 0, func(c *Config) any { return &c.Groups.All }},
		{"resource_types", "types", "DPCETL_RESOURCE_TYPES", "Patient,Coverage,ExplanationOfBenefit", "resource types to export (_type; ab2d: ExplanationOfBenefit)",
			[]string{"Patient", "Coverage", "ExplanationOfBenefit"}, 0, func(c *Config) any { return &c.ResourceTypes }},
		{"export.level", "level", "DPCETL_LEVEL", "group", "bcda, ab2d, smart: group, patient or system $export (default: group with groups.ids, else patient)",
			[]string{LevelGroup, LevelPatient, LevelSystem}, 0, func(c *Config) any { return &c.Export.Level }},
		{"export.type_filter", "type-filter", "DPCETL_TYPE_FILTER", "", "bcda, ab2d, smart: _typeFilter queries (e.g. ExplanationOfBenefit?service-date=gt2024-01-01)",
			nil, 0, func(c *Config) any { return &c.Export.TypeFilter }},
		{"export.elements", "elements", "DPCETL_ELEMENTS", "", "smart: _elements to keep (the server marks resources SUBSETTED)",
			nil, 0, func(c *Config) any { return &c.Export.Elements }},
		{"export.include_associated_data", "include-associated-data", "DPCETL_INCLUDE_ASSOCIATED_DATA", "", "smart: includeAssociatedData values",
			nil, 0, func(c *Config) any { return &c.Export.IncludeAssociatedData }},
		{"bearer_hosts", "bearer-hosts", "DPCETL_BEARER_HOSTS", "", "origins (https://host:port) besides the API's own that may receive the access token for files that require it",
			nil, 0, func(c *Config) any { return &c.BearerHosts }},
		{"since", "since", "DPCETL_SINCE", "incremental", "incremental (what changed since the watermark), full, or an RFC 3339 instant (a backfill from then)",
			[]string{"incremental", "full"}, 0, func(c *Config) any { return &c.Since }},
		{"destination", "out", "DPCETL_DESTINATION", "dpcetl-out", "where Parquet goes: a directory, file:///dir or s3://bucket/prefix",
			nil, 0, func(c *Config) any { return &c.Destination }},
		{"state_dir", "state-dir", "DPCETL_STATE_DIR", ".dpcetl-state", "job state, downloads and quarantined lines", nil, 0, func(c *Config) any { return &c.StateDir }},
		{"concurrency", "concurrency", "DPCETL_CONCURRENCY", "4", "parallel downloads and transform workers (1-64)", nil, 0, func(c *Config) any { return &c.Concurrency }},
		{"memory_limit", "memory-limit", "DPCETL_MEMORY_LIMIT", "256", "memory budget in MiB shared by every group's batches, row groups and S3 parts (also Go's soft GOMEMLIMIT)", nil, 0, func(c *Config) any { return &c.MemoryLimit }},
		{"views_dir", "views-dir", "DPCETL_VIEWS_DIR", "", "extra folder of ViewDefinition JSON files (extra tables)", nil, 0, func(c *Config) any { return &c.ViewsDir }},
		{"fhir_version", "fhir-version", "DPCETL_FHIR_VERSION", "STU3 (dpc), R4 (others)", "FHIR version of the input: STU3 (DPC), R4 (Blue Button v2, BCDA, AB2D) or auto (per file)",
			[]string{"STU3", "R4", "auto"}, 0, func(c *Config) any { return &c.FHIRVersion }},
		{"max_warnings", "max-warnings", "DPCETL_MAX_WARNINGS", "-1", "fail (publish nothing) when the claims checks count more warnings than this (-1: never)",
			nil, 0, func(c *Config) any { return &c.MaxWarnings }},
		{"money_policy", "money-policy", "DPCETL_MONEY_POLICY", "strict (dpc, bcda, ab2d), exact (smart)", "money with more decimals than its column: strict (quarantine the claim), round_half_even (round, counted in the summary) or exact (DECIMAL(38,18))",
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
			cr + "key_id": cr + "key_id_env", cr + "key_id_env": cr + "key_id",
			cr + "client_secret_file": cr + "client_secret_env", cr + "client_secret_env": cr + "client_secret_file"}
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
