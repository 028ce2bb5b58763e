package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestViewCommands runs `view validate` and `view run` in-process; the logic is tested in
// transform/viewtool, this checks the wiring: arguments, flags after arguments, exit codes.
func TestViewCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"resourceType":"ViewDefinition","url":"https://example.org/v","name":"pt","status":"active",
	  "fhirVersion":["4.0.1"],"resource":"Patient","select":[{"column":[{"name":"id","path":"id","type":"id"},
	  {"name":"bd","path":"birthDate","type":"date"}]}]}`)
	bad := write("bad.json", `{"resource":"Patient","select":[{"column":[{"name":"id","path":"id"}]}]}`)
	in := write("in.ndjson", `{"resourceType":"Patient","id":"a","birthDate":"1970-06"}`+"\n"+`{"resourceType":"Patient","id":"b"}`+"\n")

	code, out, errs := runViewCLI(t, "view", "validate", good)
	if code != ExitOK || !strings.Contains(out, good+": ok (") {
		t.Fatalf("validate good: exit %d, out %q, err %q", code, out, errs)
	}
	code, out, _ = runViewCLI(t, "view", "validate", "--profile", "shareable", good, bad)
	if code != ExitConfig || !strings.Contains(out, bad+": status: ") || !strings.Contains(out, bad+": select[0].column[0].type: ") {
		t.Errorf("validate bad: exit %d, out %q", code, out)
	}
	if code, _, _ := runViewCLI(t, "view", "validate"); code != ExitUsage {
		t.Errorf("validate without files: exit %d", code)
	}
	code, out, errs = runViewCLI(t, "view", "run", good, "--in", in, "--format", "json")
	if want := `{"id":"a","bd":"1970-06-01"}` + "\n" + `{"id":"b","bd":null}` + "\n"; code != ExitOK || out != want || !strings.Contains(errs, "2 rows from 2 resources") {
		t.Errorf("run: exit %d, out %q, err %q", code, out, errs)
	}
	code, out, _ = runViewCLI(t, "view", "run", "--in", in, good)
	if code != ExitOK || out != "id,bd\na,1970-06-01\nb,\n" {
		t.Errorf("run csv: exit %d, out %q", code, out)
	}
	if code, _, _ := runViewCLI(t, "view", "run", good); code != ExitUsage {
		t.Errorf("run without --in: exit %d", code)
	}
	if code, _, _ := runViewCLI(t, "view", "run", good, "--in", in, "--format", "xml"); code != ExitUsage {
		t.Errorf("run --format xml: exit %d", code)
	}
	if code, _, _ := runViewCLI(t, "view", "run", filepath.Join(dir, "none.json"), "--in", in); code != ExitConfig {
		t.Errorf("run a missing view: exit %d", code)
	}
	broken := write("broken.ndjson", `{"resourceType":"Patient","id":"a","birthDate":"June"}`+"\n")
	if code, _, errs := runViewCLI(t, "view", "run", good, "--in", broken); code != ExitBadData || strings.Contains(errs, "June") {
		t.Errorf("run over a bad line: exit %d, err %q", code, errs)
	}
	code, out, _ = runViewCLI(t, "help", "view", "run")
	if code != ExitOK || !strings.Contains(out, "-quarantine") || !strings.Contains(out, "-format") {
		t.Errorf("help view run: %q", out)
	}
}

func runViewCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}
