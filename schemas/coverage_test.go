package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const bfdVar = "https://bluebutton.cms.gov/resources/variables/"

// occurrence is one variable a resource sends: an extension (by URL), a coding whose system is
// a BFD variable, a category coding whose code is one (adjudication, information/supportingInfo,
// benefitBalance, total), or an identifier; where it sits (path without indexes) and, under item[], the line.
type occurrence struct {
	kind, path, key, value string
	line                   string // item.sequence for line-level occurrences
}

func (o occurrence) String() string {
	s := fmt.Sprintf("%s %s %s", o.kind, o.path, o.key)
	if o.line != "" {
		s += " (line " + o.line + ")"
	}
	return s
}

// occurrences walks one resource and lists every variable it sends.
func occurrences(res map[string]any) []occurrence {
	var out []occurrence
	var walk func(v any, path, line string)
	walk = func(v any, path, line string) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, path, line)
			}
		case map[string]any:
			if strings.HasSuffix(path, "extension") {
				if u, ok := x["url"].(string); ok {
					out = append(out, occurrence{kind: "extension", path: path, key: strings.TrimPrefix(u, bfdVar), line: line})
				}
			}
			if strings.HasSuffix(path, "identifier") {
				val, _ := x["value"].(string)
				sys, _ := x["system"].(string)
				out = append(out, occurrence{kind: "identifier", path: path, key: strings.TrimPrefix(sys, bfdVar), value: val, line: line})
			} else if sys, ok := x["system"].(string); ok && strings.HasPrefix(sys, bfdVar) && !strings.HasSuffix(path, "extension.valueCoding") && !strings.HasSuffix(path, "valueIdentifier") {
				out = append(out, occurrence{kind: "coding", path: path, key: sys, line: line})
			} else if code, ok := x["code"].(string); ok && strings.HasPrefix(code, bfdVar) {
				// A BFD variable named by a category code: adjudication, information /
				// supportingInfo, benefitBalance type, total category.
				out = append(out, occurrence{kind: "category", path: path, key: strings.TrimPrefix(code, bfdVar), line: line})
			}
			for k, c := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				l := line
				if path == "" && k == "item" {
					for _, it := range c.([]any) {
						walk(it, p, fmt.Sprint(it.(map[string]any)["sequence"]))
					}
					continue
				}
				if k == "contained" {
					p = strings.TrimSuffix(p, "contained") + "contained"
				}
				walk(c, p, l)
			}
		}
	}
	walk(res, "", "")
	return out
}

// placedIn reports the occurrences of one resource that land in no detail table row.
func unplaced(t *testing.T, version string, line []byte) (id string, missing []occurrence, checked int) {
	t.Helper()
	var res map[string]any
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatal(err)
	}
	id, _ = res["id"].(string)
	occ := occurrences(res)
	out, _ := runEngine(t, version, []string{"r"}, map[string][]byte{"r": append(append([]byte(nil), line...), '\n')})
	type row struct{ source, variable, system, value, code, line string }
	var rows []row
	for _, table := range []string{TableEOBDetail, TableEOBLineDetail, TablePatientDetail, TableCoverageDetail} {
		tr := out[table]
		for _, r := range tr.rows {
			rw := row{source: str(tr.get(t, r, "source")), variable: str(tr.get(t, r, "variable")), system: str(tr.get(t, r, "system")),
				value: str(tr.get(t, r, "value")), code: str(tr.get(t, r, "code"))}
			if table == TableEOBLineDetail {
				rw.source = "item." + rw.source
				rw.line = str(tr.get(t, r, "line_number"))
			}
			rows = append(rows, rw)
		}
	}
	for _, o := range occ {
		found := false
		for _, r := range rows {
			if r.line != o.line {
				continue
			}
			switch o.kind {
			case "extension":
				found = r.source == o.path && r.variable == o.key
			case "identifier":
				found = r.source == o.path && r.value == o.value
			case "coding":
				found = r.system == o.key || r.variable == strings.TrimPrefix(o.key, bfdVar)
			case "category":
				found = r.variable == o.key || r.value == o.key
			}
			if found {
				break
			}
		}
		checked++
		if !found {
			missing = append(missing, o)
		}
	}
	return id, missing, checked
}

// TestEveryVariableLands walks every vendored BFD/DPC fixture (STU3 and R4) and fails, naming
// it, on any extension, BFD-variable coding or identifier that lands in no detail table row.
func TestEveryVariableLands(t *testing.T) {
	total, resources := 0, 0
	for _, dir := range []string{"stu3", "r4", "dpc"} {
		version := STU3
		if dir == "r4" {
			version = R4
		}
		files, err := filepath.Glob(filepath.Join(bfdDir, dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, ".json") && !strings.HasSuffix(f, ".ndjson") || strings.HasSuffix(f, "JobCompletionModel.json") {
				continue // the job body is not a FHIR resource
			}
			for _, line := range bytes.Split(bytes.TrimSpace(ndjsonLines(t, f)), []byte("\n")) {
				id, missing, n := unplaced(t, version, line)
				total += n
				resources++
				for _, m := range missing {
					t.Errorf("%s/%s %s: unplaced %s", dir, filepath.Base(f), id, m)
				}
			}
		}
	}
	// The sandbox's synthetic exports (the generator modelled on these samples) too.
	for _, version := range []string{STU3, R4} {
		f := filepath.Join("..", "testdata", "synth", "golden", version+".ndjson")
		for _, line := range bytes.Split(bytes.TrimSpace(ndjsonLines(t, f)), []byte("\n")) {
			id, missing, n := unplaced(t, version, line)
			total += n
			resources++
			for _, m := range missing {
				t.Errorf("synth/golden/%s.ndjson %s: unplaced %s", version, id, m)
			}
		}
	}
	if resources < 40 || total < 1000 {
		t.Errorf("walked %d resources, %d variables: too few", resources, total)
	}
	if !t.Failed() {
		t.Logf("%d resources, %d variable occurrences, all placed", resources, total)
	}
}

// TestUnplacedVariableIsNamed proves the coverage walk can fail: a variable in a place no
// detail branch reads is reported with its path.
func TestUnplacedVariableIsNamed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(bfdDir, "r4", "eobReadCarrier.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	res["payee"] = map[string]any{"extension": []any{map[string]any{"url": bfdVar + "made_up_cd", "valueCoding": map[string]any{"code": "X"}}}}
	line, _ := json.Marshal(res)
	_, missing, _ := unplaced(t, R4, line)
	var names []string
	for _, m := range missing {
		names = append(names, m.String())
	}
	sort.Strings(names)
	if len(missing) != 1 || missing[0].path != "payee.extension" || missing[0].key != "made_up_cd" {
		t.Errorf("missing %v, want the payee.extension made_up_cd only", names)
	}
}
