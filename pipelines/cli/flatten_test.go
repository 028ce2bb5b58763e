package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlattenCommand runs `dpcetl flatten` on vendored R4 samples and checks the summary and
// the exit codes of its failures.
func TestFlattenCommand(t *testing.T) {
	in := t.TempDir()
	var nd bytes.Buffer
	for _, s := range []string{"eobReadCarrier.json", "eobReadPde.json", "patientRead.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bfd", "r4", s))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&nd, b); err != nil {
			t.Fatal(err)
		}
		nd.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(in, "export.ndjson"), nd.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"flatten", "--in", in, "--out", out, "--output", "json"}, Env{Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sum struct {
		Files []struct {
			FHIRVersion string `json:"fhir_version"`
		} `json:"files"`
		Rows map[string]int64 `json:"rows"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || sum.Files[0].FHIRVersion != "R4" || sum.Rows["eob"] != 2 || sum.Rows["patient"] != 1 {
		t.Errorf("summary %s", stdout.String())
	}
	code = Main(context.Background(), []string{"flatten", "--out", out}, Env{Stdout: &stdout, Stderr: &stderr})
	if code != ExitConfig {
		t.Errorf("no --in: exit %d, want %d", code, ExitConfig)
	}
	if err := os.WriteFile(filepath.Join(in, "bad.ndjson"), []byte("{broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code = Main(context.Background(), []string{"flatten", "--in", in, "--out", t.TempDir(), "--quarantine-file", filepath.Join(t.TempDir(), "q.ndjson")}, Env{Stdout: &stdout, Stderr: &stderr})
	if code != ExitBadData || !strings.Contains(stderr.String(), "quarantine") {
		t.Errorf("bad line: exit %d, want %d; %s", code, ExitBadData, stderr.String())
	}
}
