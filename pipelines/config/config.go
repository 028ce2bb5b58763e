// Package config is dpcetl's run configuration: a strict YAML file, overridden by DPCETL_*
// environment variables and then by command-line flags, validated before anything runs.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid marks every configuration error (exit code "config").
var ErrInvalid = errors.New("invalid configuration")

// Well-known API base URLs; "embedded" starts the in-process sandbox (only when asked for).
const (
	Embedded      = "embedded"
	SandboxURL    = "https://sandbox.dpc.cms.gov/api/v1"
	ProductionURL = "https://api.dpc.cms.gov/api/v1"
)

// Config is one run's configuration. YAML keys are the snake_case names in the tags.
type Config struct {
	// Source is the bulk-data API: dpc (default), bcda, ab2d, or smart (any FHIR Bulk Data
	// server with SMART Backend Services auth). It picks the auth, FHIR version and kick-off.
	Source string `yaml:"source"`
	// API is the DPC base URL: "production" (default), "sandbox", a URL, or "embedded" for the
	// in-process sandbox with synthetic data (`dpcetl run --sandbox`).
	API string `yaml:"api"`
	// ForceSandboxDestination lets the embedded sandbox write its synthetic claims to a
	// non-local destination (refused by default: a demo must not land in a production bucket).
	ForceSandboxDestination bool `yaml:"force_sandbox_destination"`
	// SandboxAddr is where the embedded sandbox listens (default 127.0.0.1:0, a random port).
	SandboxAddr string `yaml:"sandbox_addr"`
	// Credentials are references only: file paths or environment variable NAMES.
	Credentials Credentials `yaml:"credentials"`
	Groups      Groups      `yaml:"groups"`
	// ResourceTypes to export (_type; default Patient, Coverage, ExplanationOfBenefit; AB2D:
	// ExplanationOfBenefit). Non-DPC sources take any FHIR resource type.
	ResourceTypes []string `yaml:"resource_types"`
	// Export shapes the kick-off of non-DPC sources: level and Bulk Data parameters.
	Export Export `yaml:"export"`
	// BearerHosts are origins besides the FHIR server's own that may receive the access
	// token, for manifest files that say requiresAccessToken: true.
	BearerHosts []string `yaml:"bearer_hosts"`
	// Since is "incremental" (default: _since = the watermark), "full" (everything, every run),
	// or an RFC 3339 instant: a backfill with _since = that instant (e.g. an Airflow data interval).
	Since string `yaml:"since"`
	// Destination is where Parquet goes: a directory, file:///dir or s3://bucket/prefix.
	Destination string `yaml:"destination"`
	// StateDir holds job state, downloaded files and quarantined lines (default .dpcetl-state).
	StateDir string `yaml:"state_dir"`
	// Concurrency bounds parallel downloads and transform workers (default 4).
	Concurrency int `yaml:"concurrency"`
	// MemoryLimit is the run's memory budget in MiB (default 256): see load.Budget.
	MemoryLimit int `yaml:"memory_limit"`
	// ViewsDir is an extra folder of ViewDefinition JSON files added to the built-in tables.
	ViewsDir string `yaml:"views_dir"`
	// FHIRVersion of the input: STU3 (default, what DPC serves), R4 (Blue Button v2, BCDA,
	// AB2D) or auto (decided per file from the resources' shape, recorded in source_fhir_version).
	FHIRVersion string     `yaml:"fhir_version"`
	Quarantine  Quarantine `yaml:"quarantine"`
	// MaxWarnings fails a run (bad data, nothing published) when the claims checks
	// (schemas.Checker) count more warnings than this; -1 (the default) never fails.
	MaxWarnings int `yaml:"max_warnings"`
	// MoneyPolicy: what becomes of money with more decimals than its column (transform.MoneyPolicy):
	// strict (the claim is quarantined), round_half_even (counted in the summary) or exact. Empty
	// resolves by source: strict for dpc, bcda and ab2d (CMS money is always cents, so more digits
	// mean a broken claim), exact for smart (payers and EHRs compute amounts in floating point).
	MoneyPolicy string `yaml:"money_policy"`
	// PollInterval between job status checks (default 5s; DPC's own tests use 20s).
	PollInterval Duration `yaml:"poll_interval"`
	// Timeout for the whole run (default none).
	Timeout Duration `yaml:"timeout"`
	// MaxAttempts per HTTP request, including the first, for 429/5xx/network failures (default 6).
	MaxAttempts int `yaml:"max_attempts"`
	// LogFormat is "auto" (text on a terminal, JSON otherwise), "text" or "json".
	LogFormat string `yaml:"log_format"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
}

// Credentials point at the secrets; the values never live in the config file.
type Credentials struct {
	ClientTokenFile string `yaml:"client_token_file"`
	ClientTokenEnv  string `yaml:"client_token_env"`
	PrivateKeyFile  string `yaml:"private_key_file"`
	PrivateKeyEnv   string `yaml:"private_key_env"`
	KeyID           string `yaml:"key_id"`
	KeyIDEnv        string `yaml:"key_id_env"`
	// Non-DPC sources: the OAuth client id, the client secret (BCDA, AB2D), the token URL
	// (AB2D; SMART discovers it, BCDA derives it), the assertion algorithm and scopes (SMART).
	ClientID         string   `yaml:"client_id"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	ClientSecretEnv  string   `yaml:"client_secret_env"`
	TokenURL         string   `yaml:"token_url"`
	Alg              string   `yaml:"alg"`
	Scopes           []string `yaml:"scopes"`
}

// Export is the kick-off of a non-DPC source (DPC exports groups with _type and _since only).
type Export struct {
	// Level is group, patient or system; empty: group when groups.ids are set, else patient.
	Level                 string   `yaml:"level"`
	TypeFilter            []string `yaml:"type_filter"`
	Elements              []string `yaml:"elements"`
	IncludeAssociatedData []string `yaml:"include_associated_data"`
}

// Sources and export levels.
const (
	SourceDPC   = "dpc"
	SourceBCDA  = "bcda"
	SourceAB2D  = "ab2d"
	SourceSMART = "smart"

	LevelGroup   = "group"
	LevelPatient = "patient"
	LevelSystem  = "system"
)

// sourceURLs are the public sandbox and production FHIR bases of BCDA (v2, R4) and AB2D
// (v2, R4), from bcda.cms.gov and ab2d.cms.gov's user guides.
var sourceURLs = map[string][2]string{
	SourceBCDA: {"https://sandbox.bcda.cms.gov/api/v2", "https://api.bcda.cms.gov/api/v2"},
	SourceAB2D: {"https://sandbox.ab2d.cms.gov/api/v2/fhir", "https://api.ab2d.cms.gov/api/v2/fhir"},
}

// Groups selects what to export: group ids, practitioner NPIs (their attribution groups), or all.
type Groups struct {
	IDs  []string `yaml:"ids"`
	NPIs []string `yaml:"npis"`
	All  bool     `yaml:"all"`
}

// Quarantine thresholds: a run fails (bad data) when more lines than MaxLines, or more than
// MaxFraction of all lines, fail to transform. MaxLines 0 (the default) tolerates no bad
// line, -1 removes the count limit; MaxFraction 0 (the default) means no fraction limit.
type Quarantine struct {
	MaxLines    int     `yaml:"max_lines"`
	MaxFraction float64 `yaml:"max_fraction"`
}

// Duration is a time.Duration written as "30s" or "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: expected a duration (e.g. 30s, 5m), got %q", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as "30s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default is the configuration of `dpcetl run` with nothing given: DPC production, which
// still needs credentials (Validate names them); the embedded sandbox only when asked for.
func Default() Config {
	return Config{
		API:           "production",
		SandboxAddr:   "127.0.0.1:0",
		Groups:        Groups{All: true},
		ResourceTypes: []string{"Patient", "Coverage", "ExplanationOfBenefit"},
		Since:         "incremental",
		Destination:   "dpcetl-out",
		StateDir:      ".dpcetl-state",
		Concurrency:   4,
		MemoryLimit:   256,
		Quarantine:    Quarantine{MaxLines: 0, MaxFraction: 0},
		MaxWarnings:   -1,
		PollInterval:  Duration(5 * time.Second),
		MaxAttempts:   6,
		LogFormat:     "auto",
		LogLevel:      "info",
	}
}

var yamlFieldErr = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

// Parse reads YAML over the defaults. Unknown keys are errors naming the key and its line.
func Parse(name string, data []byte, base Config) (Config, error) {
	c := base
	// Lists in the file replace the defaults instead of merging into them.
	var probe map[string]any
	if err := yaml.Unmarshal(data, &probe); err == nil {
		if _, ok := probe["resource_types"]; ok {
			c.ResourceTypes = nil
		}
		if _, ok := probe["groups"]; ok {
			c.Groups = Groups{}
		}
		if cr, ok := probe["credentials"].(map[string]any); ok && cr["scopes"] != nil {
			c.Credentials.Scopes = nil
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		msg := err.Error()
		if m := yamlFieldErr.FindAllStringSubmatch(msg, -1); m != nil {
			var parts []string
			for _, s := range m {
				parts = append(parts, fmt.Sprintf("%s:%s: unknown key %q (in %s)", name, s[1], s[2], section(s[3])))
			}
			return c, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(parts, "; "))
		}
		if parts := typeErrors(name, data, msg); parts != nil {
			return c, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(parts, "; "))
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
		return c, fmt.Errorf("%w: %s: %s", ErrInvalid, name, msg)
	}
	return c, nil
}

var (
	yamlTypeErr = regexp.MustCompile("line (\\d+): cannot unmarshal !!\\w+ `(.*)` into (\\S+)")
	ownTypeErr  = regexp.MustCompile(`line (\d+): expected (.*), got (".*")`)
)

// typeErrors rewrites yaml's type errors so that each names its key and what it expects:
// `dpcetl.yaml:3: concurrency: expected an integer, got "lots"`. nil when there are none.
func typeErrors(name string, data []byte, msg string) []string {
	keys := keyLines(data)
	var parts []string
	for _, m := range yamlTypeErr.FindAllStringSubmatch(msg, -1) {
		want := map[string]string{"int": "an integer", "float64": "a number", "bool": "true or false",
			"[]string": "a list", "string": "a string"}[m[3]]
		if want == "" {
			want = "a mapping of " + section(m[3]) + " keys"
		}
		line, _ := strconv.Atoi(m[1])
		parts = append(parts, fmt.Sprintf("%s:%d: %s: expected %s, got %q", name, line, keys[line], want, m[2]))
	}
	for _, m := range ownTypeErr.FindAllStringSubmatch(msg, -1) {
		line, _ := strconv.Atoi(m[1])
		parts = append(parts, fmt.Sprintf("%s:%d: %s: expected %s, got %s", name, line, keys[line], m[2], m[3]))
	}
	return parts
}

// keyLines maps each line of a YAML document to the dotted key whose value is on it.
func keyLines(data []byte) map[int]string {
	out := map[int]string{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := prefix + k.Value
			out[k.Line] = path
			out[v.Line] = path
			for _, item := range v.Content {
				if v.Kind == yaml.SequenceNode {
					out[item.Line] = path
				}
			}
			walk(v, path+".")
		}
	}
	walk(doc.Content[0], "")
	return out
}

func section(goType string) string {
	switch goType {
	case "config.Config":
		return "top level"
	case "config.Credentials":
		return "credentials"
	case "config.Groups":
		return "groups"
	case "config.Quarantine":
		return "quarantine"
	case "config.Export":
		return "export"
	}
	return goType
}

// Load reads a config file over the defaults.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Parse(path, data, Default())
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var (
	uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	npiRe  = regexp.MustCompile(`^[0-9]{10}$`)
	envRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// fhirIDRe is FHIR's id datatype: what BCDA, AB2D and SMART servers call their groups.
	fhirIDRe = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	typeRe   = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)
)

// validateDPC checks the DPC credentials: a client token, a private key and a key id (a UUID).
func (c Config) validateDPC(add func(key, format string, a ...any)) {
	cr := c.Credentials
	switch {
	case cr.ClientTokenFile == "" && cr.ClientTokenEnv == "" && cr.PrivateKeyFile == "" && cr.PrivateKeyEnv == "" && cr.KeyID == "" && cr.KeyIDEnv == "":
		add("credentials", "missing for %s: set credentials.client_token_file, private_key_file and key_id (or DPCETL_CLIENT_TOKEN_FILE, DPCETL_PRIVATE_KEY_FILE, DPCETL_KEY_ID); to try dpcetl on synthetic data instead, run `dpcetl run --sandbox`", c.BaseURL())
	default:
		if cr.ClientTokenFile == "" && cr.ClientTokenEnv == "" {
			add("credentials.client_token_file", "set client_token_file or client_token_env (a real DPC API needs a client token)")
		}
		if cr.PrivateKeyFile == "" && cr.PrivateKeyEnv == "" {
			add("credentials.private_key_file", "set private_key_file or private_key_env")
		}
		if cr.KeyID == "" && cr.KeyIDEnv == "" {
			add("credentials.key_id", "set key_id (the public key id DPC returned, a UUID) or key_id_env")
		}
	}
	if cr.KeyID != "" && !uuidRe.MatchString(cr.KeyID) {
		add("credentials.key_id", "%q is not a UUID (the id DPC returned when the public key was uploaded)", cr.KeyID)
	}
	for k, v := range map[string]string{"credentials.client_id": cr.ClientID, "credentials.client_secret_file": cr.ClientSecretFile + cr.ClientSecretEnv,
		"credentials.token_url": cr.TokenURL, "credentials.alg": cr.Alg} {
		if v != "" {
			add(k, "not used by source dpc (set source: bcda, ab2d or smart)")
		}
	}
	if len(c.Groups.IDs) == 0 && len(c.Groups.NPIs) == 0 && !c.Groups.All {
		add("groups", "name ids, npis, or set all: true")
	}
}

// validateOAuth checks the credentials of BCDA and AB2D (client id and secret) and SMART
// (client id, private key, kid).
func (c Config) validateOAuth(add func(key, format string, a ...any)) {
	cr, src := c.Credentials, c.Source
	if cr.ClientID == "" {
		add("credentials.client_id", "required for source %s", src)
	}
	if cr.ClientTokenFile != "" || cr.ClientTokenEnv != "" {
		add("credentials.client_token_file", "a DPC client token is not used by source %s", src)
	}
	secret, key := cr.ClientSecretFile != "" || cr.ClientSecretEnv != "", cr.PrivateKeyFile != "" || cr.PrivateKeyEnv != ""
	if src == SourceSMART {
		if !key {
			add("credentials.private_key_file", "source smart signs its client assertion: set private_key_file or private_key_env (RSA for RS384, EC P-384 for ES384)")
		}
		if cr.KeyID == "" && cr.KeyIDEnv == "" {
			add("credentials.key_id", "set key_id (the kid of the key registered with the server) or key_id_env")
		}
		if secret {
			add("credentials.client_secret_file", "source smart authenticates with a private key, not a client secret")
		}
		if cr.Alg != "" && cr.Alg != "RS384" && cr.Alg != "ES384" {
			add("credentials.alg", "%q is not RS384 or ES384", cr.Alg)
		}
	} else {
		if !secret {
			add("credentials.client_secret_file", "source %s needs its client secret: set client_secret_file or client_secret_env", src)
		}
		if key || cr.Alg != "" {
			add("credentials.private_key_file", "source %s authenticates with a client id and secret, not a key", src)
		}
	}
	if src == SourceAB2D && cr.TokenURL == "" {
		add("credentials.token_url", "source ab2d needs the Okta token URL AB2D gave you (sandbox: https://test.idp.idm.cms.gov/oauth2/aus2r7y3gdaFMKBol297/v1/token)")
	}
	if u, err := url.Parse(cr.TokenURL); cr.TokenURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		add("credentials.token_url", "%q is not an http(s) URL", cr.TokenURL)
	}
	if len(c.Groups.NPIs) > 0 {
		add("groups.npis", "NPIs name DPC attribution groups; source %s takes groups.ids or export.level", src)
	}
}

// validateExport checks the export level and the Bulk Data parameters, which only non-DPC
// sources take (DPC refuses them).
func (c Config) validateExport(add func(key, format string, a ...any)) {
	e := c.Export
	if c.IsDPC() {
		if e.Level != "" && e.Level != LevelGroup || len(e.TypeFilter)+len(e.Elements)+len(e.IncludeAssociatedData) > 0 || len(c.Credentials.Scopes) > 0 {
			add("export", "source dpc exports groups with _type and _since only (export.* and credentials.scopes are for bcda, ab2d and smart)")
		}
		return
	}
	switch c.Level() {
	case LevelGroup:
		if len(c.Groups.IDs) == 0 {
			add("groups.ids", "export.level group needs the group ids (BCDA: all or runout; AB2D: a contract number)")
		}
	case LevelPatient, LevelSystem:
		if len(c.Groups.IDs) > 0 {
			add("export.level", "%s-level exports take no groups.ids (use level group)", c.Level())
		}
	default:
		add("export.level", "%q is not group, patient or system", e.Level)
	}
}

// BaseURL resolves the API setting: "" for embedded, else the absolute base URL (unset:
// production; for BCDA and AB2D their own sandbox and production, SMART has neither).
func (c Config) BaseURL() string {
	i := map[string]int{"sandbox": 0, "production": 1, "": 1}
	switch n, named := i[c.API]; {
	case c.API == Embedded:
		return ""
	case named && c.IsDPC():
		return [2]string{SandboxURL, ProductionURL}[n]
	case named && sourceURLs[c.Source][n] != "":
		return sourceURLs[c.Source][n]
	}
	return strings.TrimRight(c.API, "/")
}

// IsDPC reports whether the source is the DPC API (the default).
func (c Config) IsDPC() bool { return c.Source == "" || c.Source == SourceDPC }

// Resolved fills the defaults that depend on the source: the FHIR version (DPC STU3,
// the others R4) and AB2D's only resource type.
func (c Config) Resolved() Config {
	if c.IsDPC() {
		c.Source = SourceDPC
	}
	if c.FHIRVersion == "" {
		c.FHIRVersion = map[bool]string{true: "STU3", false: "R4"}[c.IsDPC()]
	}
	if c.MoneyPolicy == "" {
		c.MoneyPolicy = map[bool]string{true: "exact", false: "strict"}[c.Source == SourceSMART]
	}
	if c.Source == SourceAB2D && slices.Equal(c.ResourceTypes, Default().ResourceTypes) {
		c.ResourceTypes = []string{"ExplanationOfBenefit"}
	}
	return c
}

// Level is the export level: always group for DPC; for the others the configured one, or
// group when groups.ids are set, else patient.
func (c Config) Level() string {
	switch {
	case c.IsDPC() || (c.Export.Level == "" && len(c.Groups.IDs) > 0):
		return LevelGroup
	case c.Export.Level == "":
		return LevelPatient
	}
	return c.Export.Level
}

// SinceInstant is the start of a backfill when since is an RFC 3339 instant.
func (c Config) SinceInstant() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, c.Since)
	return t.UTC(), err == nil
}

// Embedded reports whether the run uses the in-process sandbox.
func (c Config) Embedded() bool { return c.BaseURL() == "" }

// Validate checks every value and returns all problems at once, each naming its key.
func (c Config) Validate() error {
	c = c.Resolved()
	var errs []string
	add := func(key, format string, a ...any) { errs = append(errs, key+": "+fmt.Sprintf(format, a...)) }
	if !slices.Contains([]string{"", SourceDPC, SourceBCDA, SourceAB2D, SourceSMART}, c.Source) {
		add("source", "%q is not dpc, bcda, ab2d or smart", c.Source)
	}
	if !c.Embedded() {
		u, err := url.Parse(c.BaseURL())
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			if c.Source == SourceSMART {
				add("api", "%q is not an http(s) URL: source smart needs the FHIR base URL of the server", c.API)
			} else {
				add("api", "%q is not embedded, sandbox, production or an http(s) URL", c.API)
			}
		}
		if c.IsDPC() {
			c.validateDPC(add)
		} else {
			c.validateOAuth(add)
		}
		for k, v := range map[string]string{"credentials.client_token_env": c.Credentials.ClientTokenEnv, "credentials.private_key_env": c.Credentials.PrivateKeyEnv,
			"credentials.key_id_env": c.Credentials.KeyIDEnv, "credentials.client_secret_env": c.Credentials.ClientSecretEnv} {
			if v != "" && !envRe.MatchString(v) {
				add(k, "%q is not an environment variable NAME (put the value in the environment, not here)", v)
			}
		}
	}
	c.validateExport(add)
	switch strings.ToUpper(c.FHIRVersion) {
	case "", "STU3", "R4", "AUTO":
	default:
		add("fhir_version", "%q is not STU3, R4 or auto", c.FHIRVersion)
	}
	for _, id := range c.Groups.IDs {
		if c.IsDPC() && !uuidRe.MatchString(id) {
			add("groups.ids", "%q is not a group id (a UUID)", id)
		} else if !fhirIDRe.MatchString(id) || id[0] == '.' {
			add("groups.ids", "%q is not a FHIR id (letters, digits, '-' and '.', at most 64, not starting with '.')", id)
		}
	}
	for _, n := range c.Groups.NPIs {
		if !npiRe.MatchString(n) {
			add("groups.npis", "%q is not a 10-digit NPI", n)
		}
	}
	if c.Groups.All && (len(c.Groups.IDs) > 0 || len(c.Groups.NPIs) > 0) {
		add("groups.all", "all: true cannot be combined with ids or npis")
	}
	if len(c.ResourceTypes) == 0 {
		add("resource_types", "empty; use Patient, Coverage and/or ExplanationOfBenefit")
	}
	for _, t := range c.ResourceTypes {
		if c.IsDPC() && !slices.Contains([]string{"Patient", "Coverage", "ExplanationOfBenefit"}, t) {
			add("resource_types", "%q is not Patient, Coverage or ExplanationOfBenefit", t)
		} else if !typeRe.MatchString(t) {
			add("resource_types", "%q is not a FHIR resource type", t)
		}
	}
	if _, instant := c.SinceInstant(); c.Since != "full" && c.Since != "incremental" && !instant {
		add("since", "%q is not full, incremental or an RFC 3339 instant (e.g. 2026-01-01T00:00:00Z)", c.Since)
	}
	if c.Embedded() && !c.ForceSandboxDestination && c.Destination != "" {
		if u, err := url.Parse(c.Destination); err == nil && len(u.Scheme) > 1 && u.Scheme != "file" {
			add("destination", "%q is not local: the embedded sandbox writes synthetic claims and refuses to put them there (use a local directory, or force_sandbox_destination / --force-sandbox-destination)", c.Destination)
		}
	}
	if c.Destination == "" {
		add("destination", "empty; use a directory, file:///dir or s3://bucket/prefix")
	} else if u, err := url.Parse(c.Destination); err == nil && u.Scheme != "" && len(u.Scheme) > 1 && u.Scheme != "file" && u.Scheme != "s3" {
		add("destination", "scheme %q not supported (file or s3)", u.Scheme)
	}
	if c.StateDir == "" {
		add("state_dir", "empty")
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		add("concurrency", "%d is not between 1 and 64", c.Concurrency)
	}
	if c.MaxWarnings < -1 {
		add("max_warnings", "%d: use -1 for no limit", c.MaxWarnings)
	}
	if !slices.Contains([]string{"", "strict", "round_half_even", "exact"}, c.MoneyPolicy) {
		add("money_policy", "%q: use strict, round_half_even or exact", c.MoneyPolicy)
	}
	if c.Quarantine.MaxLines < -1 {
		add("quarantine.max_lines", "%d: use -1 for no limit", c.Quarantine.MaxLines)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		add("max_attempts", "%d is not between 1 and 100", c.MaxAttempts)
	}
	if c.Quarantine.MaxFraction < 0 || c.Quarantine.MaxFraction > 1 {
		add("quarantine.max_fraction", "%v is not between 0 and 1", c.Quarantine.MaxFraction)
	}
	if c.PollInterval <= 0 {
		add("poll_interval", "must be positive")
	}
	if c.Timeout < 0 {
		add("timeout", "negative")
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.LogFormat) {
		add("log_format", "%q is not auto, text or json", c.LogFormat)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}
