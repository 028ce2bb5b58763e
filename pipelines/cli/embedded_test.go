package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/pipelines/cli"
)

// `dpcetl doctor --sandbox --dialect X` starts the embedded sandbox speaking X with a client
// registered for it and runs that source's checks (not DPC's); `run` exports from it.
func TestEmbeddedDialects(t *testing.T) {
	for _, d := range []string{"bcda", "ab2d", "smart"} {
		t.Run(d, func(t *testing.T) {
			var out, errb bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := cli.Main(ctx, []string{"doctor", "--sandbox", "--dialect", d, "--out", t.TempDir()}, cli.Env{Stdout: &out, Stderr: &errb})
			if code != 0 || !strings.Contains(out.String(), "ok   token exchange") || !strings.Contains(out.String(), "ok   metadata: FHIR 4.0.1") ||
				strings.Contains(out.String(), "Token/validate") || strings.Contains(out.String(), "client token") {
				t.Fatalf("doctor --dialect %s: exit %d\n%s\n%s", d, code, out.String(), errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	dest := filepath.Join(t.TempDir(), "out")
	code := cli.Main(context.Background(), []string{"run", "--sandbox", "--dialect", "smart", "--out", dest, "--poll-interval", "50ms"}, cli.Env{Stdout: &out, Stderr: &errb})
	var sum struct {
		API    string
		Rows   map[string]int64
		Groups []struct{ Group, Status string }
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || code != 0 {
		t.Fatalf("run --sandbox --dialect smart: exit %d, %v\n%s\n%s", code, err, out.String(), errb.String())
	}
	if !strings.HasSuffix(sum.API, "/smart/fhir") || len(sum.Groups) != 1 || sum.Groups[0].Group != "practice-1" || sum.Rows["eob"] == 0 || sum.Rows["patient"] == 0 {
		t.Fatalf("summary %+v", sum)
	}
}
