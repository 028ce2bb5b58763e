package sandbox_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// edge lists the only non-test packages allowed to depend on the test server (dpctest) and its
// synthetic data (synth): the server itself, this wiring package, test helpers, the CLI and the
// commands. bench is allowed because it is a benchmark harness, not part of dpcetl: it generates
// its NDJSON corpus with synth, and only its own command (bench/dpcetlbench) imports it, which
// the test checks too. Production stages (runner, the API client, export, download, transform,
// load) never depend on either.
var edge = []string{
	"bench",
	"cmd/",
	"extract/dpctest",
	"extract/internal/sandboxtest",
	"extract/sandbox",
	"pipelines/cli",
}

func TestOnlyTheEdgeDependsOnTheSandbox(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/dpcetl/dpcetl/"
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		checked++
		allowed := slices.ContainsFunc(edge, func(e string) bool { return pkg == e || strings.HasPrefix(pkg, strings.TrimSuffix(e, "/")+"/") })
		for _, d := range fields[1:] {
			if (d == mod+"extract/dpctest" || d == mod+"extract/dpctest/synth") && !allowed {
				t.Errorf("%s depends on %s: production code must not import the test sandbox (wire it in pipelines/cli or extract/sandbox)", pkg, strings.TrimPrefix(d, mod))
			}
			if d == mod+"bench" && !strings.HasPrefix(pkg, "bench/") {
				t.Errorf("%s depends on the benchmark harness bench: only bench's own commands may", pkg)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("go list saw only %d packages", checked)
	}
	for _, must := range []string{"pipelines/runner", "extract/dpc"} {
		if !strings.Contains(string(out), mod+must+" ") {
			t.Errorf("go list did not list %s", must)
		}
	}
}
