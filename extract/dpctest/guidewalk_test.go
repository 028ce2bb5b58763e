package dpctest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// TestGuideWalk runs testdata/guide_walk.sh, the API guide's curl sequence, against an
// in-process sandbox (cmd/dpc-sandbox runs the same script against the built binary).
func TestGuideWalk(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl", "jq", "sha256sum", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the guide walk needs %s on PATH (apt-get install curl openssl jq coreutils gzip)", tool)
		}
	}
	srv := newServer(t, dpctest.WithBatchSize(2))
	cmd := exec.Command("bash", "testdata/guide_walk.sh")
	cmd.Env = append(os.Environ(), "DPC_ROOT="+srv.URL, "KEY_BITS=1024", "WORKDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("guide walk failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "guide walk: OK") {
		t.Fatalf("no OK line:\n%s", out)
	}
	t.Logf("%s", out)
}
