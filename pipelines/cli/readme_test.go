package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

var updateReadme = flag.Bool("update", false, "rewrite the README's generated flag table")

// flagTable is the README's flag table, generated from config.Keys.
func flagTable() string {
	var b strings.Builder
	b.WriteString("| flag | config key | env var | default | what |\n|---|---|---|---|---|\n")
	b.WriteString("| `--config FILE` | – | `DPCETL_CONFIG` | | the YAML config file |\n")
	b.WriteString("| `--sandbox` | `api: embedded` | | | the embedded DPC sandbox with synthetic data |\n")
	b.WriteString("| `--dialect VALUE` | `source` | | | with `--sandbox`: the API the embedded sandbox speaks (dpc, bcda, ab2d, smart) |\n")
	for _, k := range config.Keys() {
		flagCol, envCol := "–", ""
		if k.Flag != "" {
			flagCol = "`--" + strings.TrimSpace(k.Flag+" "+metavar(k)) + "`"
		}
		if k.Env != "" {
			envCol = "`" + k.Env + "`"
		}
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", flagCol, k.Name, envCol, def, strings.ReplaceAll(k.Help, "|", `\|`))
	}
	return b.String()
}

// TestReadmeFlagTable keeps the README's flag table identical to the key table the flags,
// env variables and help are generated from (go test ./pipelines/cli -run ReadmeFlag -update).
func TestReadmeFlagTable(t *testing.T) {
	const begin, end = "<!-- flags:begin (generated from config.Keys; go test ./pipelines/cli -run ReadmeFlag -update) -->\n", "<!-- flags:end -->"
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	got, want := s[i+len(begin):j], flagTable()
	if got == want {
		return
	}
	if !*updateReadme {
		t.Fatalf("README flag table is stale; run go test ./pipelines/cli -run ReadmeFlag -update\nwant:\n%s", want)
	}
	if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
