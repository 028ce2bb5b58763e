package load_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/sink"
)

// TestPutFileAndDescribe: an object staged with PutFile appears only at commit, listed with
// the sha256 of its bytes; Describe's record reaches the manifest; an aborted run leaves neither
// the object nor anything staged.
func TestPutFileAndDescribe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sink.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := []byte(`{"resourceType":"Condition","id":"c1"}` + "\n")
	put := func(id string) (*load.Run, string) {
		run, err := load.NewRun(s, load.RunOptions{RunID: id, ExportDate: exportDate, Group: "g1", JobID: "j", TransactionTime: txTime})
		if err != nil {
			t.Fatal(err)
		}
		key := run.PartitionKey("raw/Condition", id+".ndjson")
		if err := run.PutFile(ctx, "raw/Condition", key, 1, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, key)); !os.IsNotExist(err) {
			t.Fatalf("%s visible before commit: %v", key, err)
		}
		return run, key
	}
	run, key := put("run-a")
	if err := run.Describe(map[string]int{"files": 1}); err != nil {
		t.Fatal(err)
	}
	m, err := run.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, key))
	h := sha256.Sum256(body)
	if err != nil || string(got) != string(body) || len(m.Files) != 1 || m.Files[0].SHA256 != hex.EncodeToString(h[:]) || m.Files[0].Rows != 1 || m.Files[0].Key != key {
		t.Fatalf("published %q (%v), manifest %+v", got, err, m.Files)
	}
	if key != "raw/Condition/export_date=2026-01-02/group_id=g1/run-a.ndjson" {
		t.Errorf("key %s", key)
	}
	rm, err := load.ReadManifest(ctx, s, "run-a")
	var rec map[string]int
	if err != nil || json.Unmarshal(rm.Export, &rec) != nil || rec["files"] != 1 {
		t.Fatalf("export record %s (%v)", rm.Export, err)
	}

	run, key = put("run-b")
	if err := run.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, load.StagingDir, "run-b", "*"))
	if _, err := os.Stat(filepath.Join(dir, key)); !os.IsNotExist(err) || len(left) != 0 {
		t.Fatalf("aborted run left %s (%v) and staged %v", key, err, left)
	}
}
