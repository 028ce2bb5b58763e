package export_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract/export"
)

// FuzzParseManifest: any job body parses or fails with an error, never a
// panic; what parses has no negative or impossible number, and survives the
// round trip through the state file's flattened form unchanged.
func FuzzParseManifest(f *testing.F) {
	// SOURCE: testdata/extract/manifest-guide.json (the DPC API guide's example manifest).
	if b, err := os.ReadFile("../../testdata/extract/manifest-guide.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		`{"output":[{"type":"Patient","url":"https://x/Data/a.ndjson","count":2.0,"extension":[{"url":"https://dpc.cms.gov/file_length","valueDecimal":12}]}]}`,
		`{"output":[{"count":-1}]}`, `{"output":[{"count":1e30}]}`, `{"output":[{"file_length":"7"}]}`, `{"error":[{}]}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m export.Manifest
		if err := export.ParseManifest(b, &m); err != nil {
			if !strings.HasPrefix(err.Error(), "manifest: ") {
				t.Fatalf("error %q does not say it is the manifest", err)
			}
			return
		}
		for _, o := range m.Files() {
			if o.Count < 0 || o.Count > 1<<40 || o.FileLength < 0 {
				t.Fatalf("impossible entry accepted: %+v", o)
			}
		}
		flat, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		var again export.Manifest
		if err := export.ParseManifest(flat, &again); err != nil || !reflect.DeepEqual(normal(m), normal(again)) {
			t.Fatalf("state round trip: %v\n%+v\n%+v", err, m, again)
		}
	})
}

// normal makes nil and empty slices compare equal.
func normal(m export.Manifest) export.Manifest {
	if len(m.Output) == 0 {
		m.Output = nil
	}
	if len(m.Error) == 0 {
		m.Error = nil
	}
	m.TransactionTime = m.TransactionTime.UTC()
	return m
}

// FuzzParseProgress: any X-Progress value gives a state and a percentage in
// [0, 100] when ok, -1 otherwise.
func FuzzParseProgress(f *testing.F) {
	for _, s := range []string{"RUNNING: 45.50%", "QUEUED", "IN_PROGRESS: 100%", "x: 101%", ": %", "RUNNING:-1%", "\xff: 1%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		state, pct, ok := export.ParseProgress(v)
		if ok && (pct < 0 || pct > 100 || state == "") || !ok && pct != -1 {
			t.Fatalf("ParseProgress(%q) = %q, %v, %v", v, state, pct, ok)
		}
	})
}
