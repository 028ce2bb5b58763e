package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

func TestParseUnknownKeyNamesKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"top", "api: sandbox\ndestinaton: /tmp/x\n", `cfg.yaml:2: unknown key "destinaton" (in top level)`},
		{"nested", "credentials:\n  client_token_file: a\n  private_kye_file: b\n", `cfg.yaml:3: unknown key "private_kye_file" (in credentials)`},
		{"groups", "groups:\n  npi: [\"1\"]\n", `cfg.yaml:2: unknown key "npi" (in groups)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("cfg.yaml", []byte(tt.yaml), config.Default())
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseBadValue(t *testing.T) {
	_, err := config.Parse("c.yaml", []byte("concurrency: lots\n"), config.Default())
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "c.yaml:1:") {
		t.Fatalf("err = %v", err)
	}
	_, err = config.Parse("c.yaml", []byte("poll_interval: soon\n"), config.Default())
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), `poll_interval: expected a duration (e.g. 30s, 5m), got "soon"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateNamesEveryBadKey(t *testing.T) {
	c := config.Default()
	c.API = "sandbox"
	c.Credentials.KeyID = "not-a-uuid"
	c.Credentials.PrivateKeyEnv = "-----BEGIN"
	c.Groups = config.Groups{IDs: []string{"nope"}, NPIs: []string{"12"}}
	c.Since = "sometimes"
	c.Concurrency = 0
	c.LogFormat = "xml"
	c.ResourceTypes = []string{"Claim"}
	c.Quarantine.MaxFraction = 2
	err := c.Validate()
	if !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, key := range []string{"credentials.client_token_file", "credentials.key_id", "credentials.private_key_env",
		"groups.ids", "groups.npis", "since", "concurrency", "log_format", "resource_types", "quarantine.max_fraction"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
}

// With nothing configured the default is DPC production, which needs credentials: Validate
// names them and points at --sandbox. The embedded sandbox runs only when asked for.
func TestDefaultNeedsCredentialsOrSandbox(t *testing.T) {
	c := config.Default()
	if c.Embedded() || c.BaseURL() != config.ProductionURL {
		t.Fatalf("default API is %q", c.BaseURL())
	}
	err := c.Validate()
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "credentials: missing") ||
		!strings.Contains(err.Error(), "DPCETL_CLIENT_TOKEN_FILE") || !strings.Contains(err.Error(), "--sandbox") {
		t.Fatalf("err = %v", err)
	}
	c.API = config.Embedded
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || c.BaseURL() != "" {
		t.Fatalf("api: embedded is not embedded: %q", c.BaseURL())
	}
}

func TestSandboxRefusesRemoteDestination(t *testing.T) {
	c := config.Default()
	c.API = config.Embedded
	for _, dest := range []string{"s3://prod-bucket/claims", "gs://x/y"} {
		c.Destination = dest
		err := c.Validate()
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "destination:") || !strings.Contains(err.Error(), "--force-sandbox-destination") {
			t.Errorf("%s: err = %v", dest, err)
		}
	}
	c.Destination = "s3://prod-bucket/claims"
	c.ForceSandboxDestination = true
	if err := c.Validate(); err != nil {
		t.Fatalf("forced: %v", err)
	}
	c.ForceSandboxDestination = false
	for _, dest := range []string{"out", "/tmp/out", "file:///tmp/out"} {
		c.Destination = dest
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", dest, err)
		}
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("destination: /from/file\nconcurrency: 2\nresource_types: [Patient]\npoll_interval: 1m\n"), 0o600)
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Destination != "/from/file" || c.Concurrency != 2 || len(c.ResourceTypes) != 1 || time.Duration(c.PollInterval) != time.Minute {
		t.Fatalf("file not applied: %+v", c)
	}
	if c.Since != "incremental" {
		t.Fatalf("default lost: since=%q", c.Since)
	}
	env := map[string]string{"DPCETL_DESTINATION": "/from/env", "DPCETL_GROUPS": "a, b"}
	if err := config.ApplyEnv(&c, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Destination != "/from/env" || c.Concurrency != 2 || strings.Join(c.Groups.IDs, "|") != "a|b" || c.Groups.All {
		t.Fatalf("env not applied: %+v", c)
	}
	err = config.ApplyEnv(&c, func(k string) string {
		if k == "DPCETL_CONCURRENCY" {
			return "many"
		}
		return ""
	})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "DPCETL_CONCURRENCY") {
		t.Fatalf("err = %v", err)
	}
}

func TestExamplesAreValid(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) < 2 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		c, err := config.Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func ExampleParse() {
	_, err := config.Parse("dpcetl.yaml", []byte("api: sandbox\nconcurency: 8\n"), config.Default())
	fmt.Println(err)
	// Output: invalid configuration: dpcetl.yaml:2: unknown key "concurency" (in top level)
}

// Type errors name the file, line and key, and what the key expects.
func TestTypeErrorsNameTheKey(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"concurrency: lots\n", `c.yaml:1: concurrency: expected an integer, got "lots"`},
		{"since: full\nquarantine:\n  max_fraction: half\n", `c.yaml:3: quarantine.max_fraction: expected a number, got "half"`},
		{"poll_interval: often\n", `c.yaml:1: poll_interval: expected a duration (e.g. 30s, 5m), got "often"`},
		{"groups:\n  all: maybe\n", `c.yaml:2: groups.all: expected true or false, got "maybe"`},
		{"resource_types: Patient\n", `c.yaml:1: resource_types: expected a list, got "Patient"`},
	}
	for _, tt := range tests {
		_, err := config.Parse("c.yaml", []byte(tt.yaml), config.Default())
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
	// The same wording from env variables and flags (Set).
	var c config.Config
	err := c.Set("concurrency", "lots")
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), `concurrency: expected an integer, got "lots"`) {
		t.Errorf("Set: %v", err)
	}
}

// Every key of the table can be set from its string form, and env variables and flags are unique.
func TestKeyTable(t *testing.T) {
	seen := map[string]string{}
	for _, k := range config.Keys() {
		for _, s := range []string{"key " + k.Name, "flag " + k.Flag, "env " + k.Env} {
			if strings.HasSuffix(s, " ") {
				continue
			}
			if prev, dup := seen[s]; dup {
				t.Errorf("%s used by %s and %s", s, prev, k.Name)
			}
			seen[s] = k.Name
		}
		if k.Env != "" && k.Env != "DPCETL_"+strings.ToUpper(strings.NewReplacer("-", "_").Replace(k.Flag)) &&
			!map[string]bool{"DPCETL_DESTINATION": true, "DPCETL_RESOURCE_TYPES": true}[k.Env] {
			t.Errorf("%s: env %s does not follow the flag --%s", k.Name, k.Env, k.Flag)
		}
		if k.Help == "" {
			t.Errorf("%s has no help", k.Name)
		}
	}
}

// A credential given as a file replaces one given as a variable name (and back), so an env
// variable or flag always wins over the config file's other spelling of the same secret.
func TestSetCredentialReplacesItsOtherForm(t *testing.T) {
	c := config.Default()
	c.Credentials = config.Credentials{ClientTokenEnv: "TOK", PrivateKeyFile: "k.pem", KeyID: "id"}
	c.Credentials.ClientSecretFile = "s.txt"
	for k, v := range map[string]string{"credentials.client_token_file": "t.txt", "credentials.private_key_env": "KEY", "credentials.key_id_env": "KID",
		"credentials.client_secret_env": "SECRET"} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	want := config.Credentials{ClientTokenFile: "t.txt", PrivateKeyEnv: "KEY", KeyIDEnv: "KID", ClientSecretEnv: "SECRET"}
	if !reflect.DeepEqual(c.Credentials, want) {
		t.Fatalf("credentials = %+v, want %+v", c.Credentials, want)
	}
}

func TestSinceInstant(t *testing.T) {
	c := config.Default()
	c.API = config.Embedded
	for _, ok := range []string{"full", "incremental", "2026-01-01T00:00:00Z", "2026-06-30T12:00:00.5-04:00"} {
		c.Since = ok
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	c.Since = "2026-06-30T12:00:00-04:00"
	if tm, ok := c.SinceInstant(); !ok || !tm.Equal(time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("SinceInstant = %v, %v", tm, ok)
	}
	for _, bad := range []string{"2026-01-01", "yesterday", "sometimes"} {
		c.Since = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

// Each source needs its own credentials and says which key is missing or does not apply;
// non-DPC sources take FHIR ids (not only UUIDs) for groups and any kid.
func TestValidateSources(t *testing.T) {
	valid := map[string]config.Credentials{
		"bcda":  {ClientID: "id", ClientSecretFile: "secret"},
		"ab2d":  {ClientID: "id", ClientSecretEnv: "AB2D_SECRET", TokenURL: "https://idp.example/oauth2/x/v1/token"},
		"smart": {ClientID: "id", PrivateKeyFile: "k.pem", KeyID: "kid-not-a-uuid"},
	}
	for src, cr := range valid {
		c := config.Default()
		c.Source, c.API, c.Credentials = src, "https://fhir.example.org/r4", cr
		c.Groups = config.Groups{IDs: []string{"practice-1", "Z0001", "all"}}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", src, err)
		}
		if c.Resolved().FHIRVersion != "R4" {
			t.Errorf("%s: fhir_version %q, want R4", src, c.Resolved().FHIRVersion)
		}
	}
	if v := config.Default().Resolved().FHIRVersion; v != "STU3" {
		t.Errorf("dpc fhir_version %q", v)
	}
	for _, tc := range []struct {
		name string
		edit func(c *config.Config)
		key  string
	}{
		{"unknown source", func(c *config.Config) { c.Source = "epic" }, "source:"},
		{"bcda without secret", func(c *config.Config) { c.Source, c.Credentials = "bcda", config.Credentials{ClientID: "id"} }, "credentials.client_secret_file:"},
		{"bcda without client id", func(c *config.Config) { c.Source, c.Credentials = "bcda", config.Credentials{ClientSecretFile: "s"} }, "credentials.client_id:"},
		{"ab2d without token url", func(c *config.Config) {
			c.Source, c.Credentials = "ab2d", config.Credentials{ClientID: "id", ClientSecretFile: "s"}
		}, "credentials.token_url:"},
		{"smart without key", func(c *config.Config) {
			c.Source, c.Credentials = "smart", config.Credentials{ClientID: "id", KeyID: "k"}
		}, "credentials.private_key_file:"},
		{"smart without kid", func(c *config.Config) {
			c.Source, c.Credentials = "smart", config.Credentials{ClientID: "id", PrivateKeyFile: "k"}
		}, "credentials.key_id:"},
		{"smart bad alg", func(c *config.Config) { c.Source = "smart"; c.Credentials.Alg = "HS256" }, "credentials.alg:"},
		{"smart needs a URL", func(c *config.Config) { c.Source, c.API = "smart", "production" }, "api:"},
		{"client token on bcda", func(c *config.Config) { c.Source = "bcda"; c.Credentials.ClientTokenFile = "t" }, "credentials.client_token_file:"},
		{"npis on smart", func(c *config.Config) { c.Source = "smart"; c.Groups = config.Groups{NPIs: []string{"1234567893"}} }, "groups.npis:"},
		{"not a FHIR id", func(c *config.Config) { c.Source = "smart"; c.Groups = config.Groups{IDs: []string{"a/b"}} }, "groups.ids:"},
		{"leading dot", func(c *config.Config) { c.Source = "smart"; c.Groups = config.Groups{IDs: []string{".."}} }, "groups.ids:"},
		{"level with ids", func(c *config.Config) { c.Source = "smart"; c.Export.Level = "system" }, "export.level:"},
		{"group level without ids", func(c *config.Config) { c.Source = "smart"; c.Groups = config.Groups{}; c.Export.Level = "group" }, "groups.ids:"},
		{"bad level", func(c *config.Config) { c.Source = "smart"; c.Groups = config.Groups{}; c.Export.Level = "org" }, "export.level:"},
		{"export keys on dpc", func(c *config.Config) {
			*c = config.Default()
			c.API = config.Embedded
			c.Export.Elements = []string{"id"}
		}, "export:"},
		{"dpc UUIDs only", func(c *config.Config) {
			*c = config.Default()
			c.API = config.Embedded
			c.Groups = config.Groups{IDs: []string{"practice-1"}}
		}, "groups.ids:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Source, c.API, c.Credentials = "smart", "https://fhir.example.org/r4", valid["smart"]
			c.Groups = config.Groups{IDs: []string{"practice-1"}}
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want it to name %s", err, tc.key)
			}
		})
	}
}

// BCDA and AB2D have public sandbox and production bases; the export level follows the ids;
// AB2D's only resource type is its default; the YAML keys parse.
func TestSourceDefaults(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte("source: ab2d\napi: sandbox\ncredentials:\n  scopes: [a, b]\nexport:\n  level: system\n  type_filter: [\"ExplanationOfBenefit?service-date=gt2024-01-01\"]\n"), config.Default())
	if err != nil {
		t.Fatal(err)
	}
	r := c.Resolved()
	if r.BaseURL() != "https://sandbox.ab2d.cms.gov/api/v2/fhir" || r.Level() != "system" || !slices.Equal(r.ResourceTypes, []string{"ExplanationOfBenefit"}) ||
		!slices.Equal(r.Credentials.Scopes, []string{"a", "b"}) || len(r.Export.TypeFilter) != 1 {
		t.Fatalf("resolved %+v (base %s, level %s)", r, r.BaseURL(), r.Level())
	}
	b := config.Default()
	b.Source = "bcda"
	if b.BaseURL() != "https://api.bcda.cms.gov/api/v2" || b.Level() != "patient" {
		t.Fatalf("bcda: %s %s", b.BaseURL(), b.Level())
	}
	b.Groups = config.Groups{IDs: []string{"runout"}}
	if b.Level() != "group" {
		t.Fatalf("bcda with ids: %s", b.Level())
	}
	if _, err := config.Parse("c.yaml", []byte("export:\n  levle: group\n"), config.Default()); err == nil || !strings.Contains(err.Error(), "(in export)") {
		t.Fatalf("unknown export key: %v", err)
	}
}
