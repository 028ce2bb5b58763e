package transform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dpcetl/dpcetl/transform/view"
)

// TestKeyFilterIsInvisible checks that skipping unread members while parsing changes no
// result: every suite case and the claims bench views are evaluated with and without it.
func TestKeyFilterIsInvisible(t *testing.T) {
	type pair struct {
		views     []*view.View
		resources [][]byte
	}
	var cases []pair
	files, _ := filepath.Glob("../testdata/sqlonfhir/tests/*.json")
	next, _ := filepath.Glob("../testdata/sqlonfhir-next/tests/*.json")
	files = append(files, next...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sf struct {
			Resources []json.RawMessage `json:"resources"`
			Tests     []struct {
				View json.RawMessage `json:"view"`
			} `json:"tests"`
		}
		if err := json.Unmarshal(data, &sf); err != nil {
			t.Fatal(err)
		}
		var res [][]byte
		for _, r := range sf.Resources {
			res = append(res, r)
		}
		for _, tc := range sf.Tests {
			v, err := view.Parse(f, tc.View)
			if err != nil {
				continue
			}
			v.Name = "t"
			cases = append(cases, pair{[]*view.View{v}, res})
		}
	}
	var bv []*view.View
	for _, s := range benchViews {
		v, err := view.Parse("bench", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		bv = append(bv, v)
	}
	cases = append(cases, pair{bv, bytes.Split(bytes.TrimSpace(benchCorpus(t, 256<<10)), []byte("\n"))})
	n := 0
	for _, c := range cases {
		filtered, err := New(c.views)
		if err != nil {
			continue
		}
		plain, _ := New(c.views)
		plain.keys = nil
		for _, r := range c.resources {
			a, errA := filtered.Rows(r)
			b, errB := plain.Rows(r)
			if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
				t.Fatalf("filter changed the result for %s:\n%v %v\n%v %v", r, a, errA, b, errB)
			}
			n++
		}
	}
	if n < 500 {
		t.Fatalf("only %d comparisons", n)
	}
}
