package schemas

import (
	"bytes"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/schemas/internal/viewgen"
	"github.com/dpcetl/dpcetl/transform/view"
)

// TestGeneratedFilesUpToDate is the drift test of go:generate: the checked-in (and embedded)
// views must be byte-for-byte the generator's output, with no view the generator does not write.
func TestGeneratedFilesUpToDate(t *testing.T) {
	want, err := viewgen.Files()
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, dir := range []string{"stu3", "r4"} {
		names, err := fs.Glob(viewFS, dir+"/*.json")
		if err != nil {
			t.Fatal(err)
		}
		have = append(have, names...)
	}
	sort.Strings(have)
	for _, n := range have {
		got, err := viewFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[n]
		switch {
		case !ok:
			t.Errorf("schemas/%s is not written by the generator (remove it, or add it to viewgen, then go generate ./schemas)", n)
		case !bytes.Equal(got, w) || !bytes.Equal(disk, w):
			t.Errorf("schemas/%s differs from the generator's output: edit schemas/internal/viewgen, not the JSON, and run go generate ./schemas", n)
		}
		delete(want, n)
	}
	for n := range want {
		t.Errorf("generator writes schemas/%s but it is not checked in (run go generate ./schemas)", n)
	}
	for _, ver := range []string{STU3, R4} {
		raw, err := ViewJSON(ver)
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range raw {
			if !strings.Contains(string(b), `"code": "generated"`) {
				t.Errorf("%s/%s does not say it is generated", ver, name)
			}
		}
	}
}

// TestTableOrderIsGenerators keeps the package's table list and the generator's in step.
func TestTableOrderIsGenerators(t *testing.T) {
	if got, want := strings.Join(Tables(), ","), strings.Join(viewgen.Tables, ","); got != want {
		t.Errorf("schemas tables %s, generator tables %s", got, want)
	}
}

// TestViewsConformToProfiles: every built-in view passes the SQL on FHIR base, Shareable and
// Tabular profiles, so any conformant engine can run them.
func TestViewsConformToProfiles(t *testing.T) {
	for _, ver := range []string{STU3, R4} {
		vs, err := Views(ver)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			for _, err := range view.Conform(v, view.Profiles()...) {
				t.Errorf("%s %s: %v", ver, v.Name, err)
			}
		}
	}
}
