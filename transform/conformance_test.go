package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

var (
	update     = flag.Bool("update", false, "rewrite golden files (testdata/sqlonfhir/test_report.json)")
	reportPath = flag.String("report", "", "where to write test_report.json (default: a temp dir)")
)

type suiteFile struct {
	Title     string            `json:"title"`
	Resources []json.RawMessage `json:"resources"`
	Tests     []suiteCase       `json:"tests"`
}

type suiteCase struct {
	Title         string          `json:"title"`
	Tags          []string        `json:"tags"`
	View          json.RawMessage `json:"view"`
	Expect        []any           `json:"expect"`
	ExpectError   bool            `json:"expectError"`
	ExpectCount   *int            `json:"expectCount"`
	ExpectColumns []string        `json:"expectColumns"`
}

type reportEntry struct {
	Name   string       `json:"name"`
	Result reportResult `json:"result"`
}

type reportResult struct {
	Passed bool   `json:"passed"`
	Reason string `json:"reason,omitempty"`
}

// runCase runs one suite case; it returns "" when it passed, else why not.
func runCase(file string, sf *suiteFile, tc *suiteCase) string {
	v, err := view.Parse(file, tc.View)
	var eng *transform.Engine
	if err == nil {
		if v.Name == "" {
			v.Name = "t"
		}
		eng, err = transform.New([]*view.View{v})
	}
	var rows []any
	if err == nil {
		for _, r := range sf.Resources {
			var out map[string][]map[string]any
			out, err = eng.Rows(r)
			if err != nil {
				break
			}
			for _, row := range out[v.Name] {
				rows = append(rows, map[string]any(row))
			}
		}
	}
	if tc.ExpectError {
		if err == nil {
			return "expected an error, got none"
		}
		return ""
	}
	if err != nil {
		return "unexpected error: " + err.Error()
	}
	if tc.ExpectCount != nil {
		if len(rows) != *tc.ExpectCount {
			return fmt.Sprintf("got %d rows, want %d", len(rows), *tc.ExpectCount)
		}
		return ""
	}
	if tc.ExpectColumns != nil {
		var got []string
		for _, c := range v.Columns {
			got = append(got, c.Name)
		}
		if !reflect.DeepEqual(got, tc.ExpectColumns) {
			return fmt.Sprintf("columns %v, want %v", got, tc.ExpectColumns)
		}
	}
	if diff := compareRows(rows, tc.Expect); diff != "" {
		return diff
	}
	return arrowAgrees(eng, v, sf, rows)
}

// arrowAgrees runs the same plan through the Arrow path and checks it yields the same rows
// (row counts), or that a resource whose value does not fit its column type is
// quarantined rather than dropped.
func arrowAgrees(eng *transform.Engine, v *view.View, sf *suiteFile, jsonRows []any) string {
	var nd []string
	for _, r := range sf.Resources {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r); err != nil {
			return err.Error()
		}
		nd = append(nd, buf.String())
	}
	q := &memQuarantine{}
	eng2, err := transform.New([]*view.View{v}, transform.WithQuarantine(q))
	if err != nil {
		return "arrow: " + err.Error()
	}
	var c collect
	st, err := eng2.Run(context.Background(), []transform.Source{src("suite", strings.Join(nd, "\n"))}, c.emit)
	if err != nil {
		return "arrow: " + err.Error()
	}
	if st.Quarantined > 0 {
		for _, r := range q.recs {
			if !strings.Contains(r.Err, "(") { // conversion errors name the column type in parentheses
				return "arrow: unexpected quarantine: " + r.Err
			}
		}
		return ""
	}
	if int(st.Rows[v.Name]) != len(jsonRows) {
		return fmt.Sprintf("arrow: %d rows, JSON mode %d", st.Rows[v.Name], len(jsonRows))
	}
	return ""
}

// compareRows compares row sets ignoring order (values compared as JSON).
func compareRows(got, want []any) string {
	norm := func(rows []any) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			b, _ := json.Marshal(r) // map keys are sorted by encoding/json
			out[i] = string(b)
		}
		sort.Strings(out)
		return out
	}
	// round-trip expected through JSON so numbers are float64 like ours
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("rows differ:\n got  %s\n want %s", strings.Join(g, "\n      "), strings.Join(w, "\n      "))
	}
	return ""
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob("../testdata/sqlonfhir/tests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no suite files: %v", err)
	}
	report := map[string]map[string][]reportEntry{}
	var shareable, shareablePassed, experimental, experimentalPassed int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sf suiteFile
		if err := json.Unmarshal(data, &sf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		base := filepath.Base(f)
		var entries []reportEntry
		for i := range sf.Tests {
			tc := &sf.Tests[i]
			why := runCase(base, &sf, tc)
			isShareable := contains(tc.Tags, "shareable")
			if isShareable {
				shareable++
			} else {
				experimental++
			}
			if why == "" {
				if isShareable {
					shareablePassed++
				} else {
					experimentalPassed++
				}
			} else if isShareable {
				t.Errorf("%s: %q (shareable) failed: %s", base, tc.Title, why)
			} else {
				t.Logf("%s: %q (experimental) failed: %s", base, tc.Title, why)
			}
			entries = append(entries, reportEntry{Name: tc.Title, Result: reportResult{Passed: why == ""}})
		}
		report[base] = map[string][]reportEntry{"tests": entries}
	}
	t.Logf("shareable: %d/%d passed; experimental: %d/%d passed", shareablePassed, shareable, experimentalPassed, experimental)
	if shareable != 123 {
		t.Errorf("suite has %d shareable cases, want 123 (was the vendored copy changed?)", shareable)
	}
	out, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	path := *reportPath
	if path == "" {
		path = filepath.Join(t.TempDir(), "test_report.json")
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	golden := "../testdata/sqlonfhir/test_report.json"
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if prev, err := os.ReadFile(golden); err != nil {
		t.Errorf("missing %s (run with -update): %v", golden, err)
	} else if string(prev) != string(out) {
		t.Errorf("%s is out of date (run with -update)", golden)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
