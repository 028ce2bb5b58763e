package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/transform"
)

// TestQuarantineKeepsTheLineThatCrossesTheThresholdAndExactBytes: the error of a run over
// the quarantine threshold names the quarantine file, which must exist and hold the line
// that crossed it; a line with invalid UTF-8 is stored byte for byte (issue 18 defect 6).
func TestQuarantineKeepsTheLineThatCrossesTheThresholdAndExactBytes(t *testing.T) {
	dir := t.TempDir()
	bad := []byte("{\"resourceType\":\"Patient\",\"id\":\"p\xff\xfe1\",\"birthDate\":\"nope\"}")
	good := `{"resourceType":"Patient","id":"ok1","birthDate":"1950-01-02"}`
	nd := filepath.Join(dir, "Patient.ndjson")
	if err := os.WriteFile(nd, append(append([]byte(good+"\n"), bad...), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, maxLines := range []int{0, 1} {
		cfg := config.Default()
		cfg.Quarantine.MaxLines = maxLines
		cfg.Concurrency = 1
		r := &Runner{cfg: cfg, log: slog.New(slog.DiscardHandler), now: time.Now, stateDir: filepath.Join(dir, "state")}
		gs := newGroupSummary("g1")
		err := r.transform(context.Background(), "g1", "job1", nil,
			[]extract.File{{Type: "Patient", Path: nd, JobID: "job1"}}, gs,
			func(b transform.Batch) error { b.Record.Release(); return nil })
		q := r.quarantinePath("g1", "job1")
		if maxLines == 1 {
			if err != nil {
				t.Fatalf("one bad line under max_lines 1: %v", err)
			}
		} else {
			if !errors.Is(err, ErrBadData) {
				t.Fatalf("err = %v, want ErrBadData", err)
			}
			if !strings.Contains(err.Error(), q) {
				t.Errorf("error does not name the quarantine file %s: %v", q, err)
			}
		}
		f, ferr := os.Open(q)
		if ferr != nil {
			t.Fatalf("max_lines %d: the quarantine file named by the error does not exist: %v", maxLines, ferr)
		}
		sc := bufio.NewScanner(f)
		var lines []map[string]any
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, m)
		}
		f.Close()
		if len(lines) != 1 {
			t.Fatalf("max_lines %d: %d quarantined lines, want 1", maxLines, len(lines))
		}
		if _, ok := lines[0]["raw"]; ok {
			t.Errorf("invalid UTF-8 stored as a (lossy) JSON string: %v", lines[0]["raw"])
		}
		raw, err := base64.StdEncoding.DecodeString(lines[0]["raw_base64"].(string))
		if err != nil || !bytes.Equal(raw, bad) {
			t.Errorf("raw_base64 = %q (%v), want the exact bytes %q", raw, err, bad)
		}
		if lines[0]["line"].(float64) != 2 {
			t.Errorf("line = %v, want 2", lines[0]["line"])
		}
		if gs.Quarantined != 1 {
			t.Errorf("quarantined = %d", gs.Quarantined)
		}
	}
}
