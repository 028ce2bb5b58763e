package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// TestPlanMatchesGeneralEvaluator is the differential test of the one-pass plan (shared
// results across views, lookup indexes, node predicates): over synthetic claims of all eight
// claim types, STU3 and R4, every built-in view yields exactly the record batches of the
// general evaluator (views compiled with view.ParseGeneral, WithGeneralEvaluator), value for
// value, in both modes (Arrow batches and JSON rows).
func TestPlanMatchesGeneralEvaluator(t *testing.T) {
	for _, version := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		t.Run(version.String(), func(t *testing.T) {
			g := synth.New(synth.Options{Seed: 11, Version: version, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
			var data []byte
			for i := range 60 {
				data, _ = g.AppendNDJSON(data, g.MBI(i), synth.ResourceEOB, time.Time{}, time.Time{})
			}
			// and the real BFD samples of the eight claim types (testdata/bfd/SOURCE.md)
			files, err := filepath.Glob(filepath.Join("..", "testdata", "bfd", strings.ToLower(version.String()), "eobRead*.json"))
			if err != nil || len(files) != 8 {
				t.Fatalf("BFD EOB fixtures: %d files, %v", len(files), err)
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := json.Compact(&buf, b); err != nil {
					t.Fatal(err)
				}
				data = append(append(data, buf.Bytes()...), '\n')
			}
			plan, general := builtinViews(t, version.String())
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			pe, err := transform.New(plan, transform.WithAllocator(mem), transform.WithBatchRows(97))
			if err != nil {
				t.Fatal(err)
			}
			ge, err := transform.New(general, transform.WithAllocator(mem), transform.WithBatchRows(97), transform.WithGeneralEvaluator())
			if err != nil {
				t.Fatal(err)
			}
			pb := runBatches(t, pe, data)
			gb := runBatches(t, ge, data)
			defer release(pb)
			defer release(gb)
			if len(pb) != len(gb) {
				t.Fatalf("plan emitted %d batches, general evaluator %d", len(pb), len(gb))
			}
			rows := map[string]int64{}
			for i := range pb {
				if pb[i].Table != gb[i].Table || !array.RecordEqual(pb[i].Record, gb[i].Record) {
					t.Fatalf("batch %d (%s/%s) differs:\nplan    %v\ngeneral %v", i, pb[i].Table, gb[i].Table, pb[i].Record, gb[i].Record)
				}
				rows[pb[i].Table] += pb[i].Record.NumRows()
			}
			for _, tb := range []string{schemas.TableEOB, schemas.TableEOBAmount, schemas.TableEOBLine, schemas.TableEOBLineAmount, schemas.TableEOBDiagnosis, schemas.TableEOBProcedure, schemas.TableEOBCareTeam} {
				if rows[tb] == 0 {
					t.Errorf("table %s has no rows: the comparison would be empty", tb)
				}
			}
			// all eight claim types are in the corpus
			types := map[string]bool{}
			for _, b := range pb {
				if b.Table != schemas.TableEOB {
					continue
				}
				col := b.Record.Column(fieldIndex(t, b.Record.Schema(), "claim_type")).(*array.String)
				for k := 0; k < col.Len(); k++ {
					if col.IsValid(k) {
						types[col.Value(k)] = true
					}
				}
			}
			for _, ct := range schemas.ClaimTypes() {
				if !types[ct] {
					t.Errorf("claim type %s not in the corpus", ct)
				}
			}
			// JSON rows mode, line by line
			for n, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
				a, err := pe.Rows(line)
				if err != nil {
					t.Fatal(err)
				}
				b, err := ge.Rows(line)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("line %d: JSON rows differ:\nplan    %v\ngeneral %v", n+1, a, b)
				}
			}
		})
	}
}

func runBatches(t *testing.T, eng *transform.Engine, data []byte) []transform.Batch {
	t.Helper()
	var out []transform.Batch
	src := transform.Source{Name: "eob.ndjson", Type: "ExplanationOfBenefit", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	if _, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error {
		out = append(out, b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func release(bs []transform.Batch) {
	for _, b := range bs {
		b.Record.Release()
	}
}

func fieldIndex(t *testing.T, s *arrow.Schema, name string) int {
	t.Helper()
	idx := s.FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s", name)
	}
	return idx[0]
}

// builtinViews compiles every built-in view of a FHIR version twice: for the plan and for
// the general evaluator.
func builtinViews(tb testing.TB, version string) (plan, general []*view.View) {
	tb.Helper()
	raw, err := schemas.ViewJSON(version)
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range schemas.Tables() {
		p, err := view.Parse(name, raw[name])
		if err != nil {
			tb.Fatal(err)
		}
		q, err := view.ParseGeneral(name, raw[name])
		if err != nil {
			tb.Fatal(err)
		}
		plan, general = append(plan, p), append(general, q)
	}
	return plan, general
}

// FuzzPlanMatchesGeneral: for any resource and view, the plan (shared results, lookup
// indexes, node predicates, union-first, select-first, member paths) and the general evaluator agree: the
// same rows in JSON mode, or both fail. Seeds: the claims idioms on small resources (the
// built-in views on the synthetic corpora are TestPlanMatchesGeneralEvaluator's).
func FuzzPlanMatchesGeneral(f *testing.F) {
	ext := `{"resourceType":"ExplanationOfBenefit","id":"e","extension":[{"url":"https://bluebutton.cms.gov/resources/variables/a","valueCoding":{"system":"s","code":"1"}},{"url":"u","valueBoolean":[true,false]},{"url":"v","valueQuantity":{"value":2,"code":"x"},"valueCoding":{"code":"x"}}],` +
		`"item":[{"sequence":1,"adjudication":[{"category":{"coding":[{"system":"o","code":"k"},{"system":"https://bluebutton.cms.gov/resources/codesystem/adjudication","code":"https://bluebutton.cms.gov/resources/variables/line_x"}]},"reason":{"coding":[{"system":"r","code":"c"}]}},{"category":{"coding":[{"code":"z"}]}}]}]}`
	f.Add([]byte(ext), []byte(`{"name":"x","resource":"ExplanationOfBenefit","select":[{"forEach":"extension","column":[`+
		`{"name":"v","path":"iif(url.startsWith('https://bluebutton.cms.gov/resources/variables/'), url.substring(47), url)"},`+
		`{"name":"c","path":"(valueCoding.code | valueQuantity.code).first()"},`+
		`{"name":"w","path":"(valueCoding.display | valueBoolean.toString() | valueQuantity.value).first()"}]}]}`))
	f.Add([]byte(ext), []byte(`{"name":"a","resource":"ExplanationOfBenefit","select":[{"forEach":"item.adjudication","column":[`+
		`{"name":"v","path":"iif(category.coding.where(system = 'https://bluebutton.cms.gov/resources/codesystem/adjudication').code.first().exists(), iif(category.coding.where(system = 'https://bluebutton.cms.gov/resources/codesystem/adjudication').code.first().startsWith('https://bluebutton.cms.gov/resources/variables/'), category.coding.where(system = 'https://bluebutton.cms.gov/resources/codesystem/adjudication').code.first().substring(47), category.coding.where(system = 'https://bluebutton.cms.gov/resources/codesystem/adjudication').code.first()), iif(reason.coding.system.exists(), reason.coding.system.first(), category.coding.code.first()))"},`+
		`{"name":"n","path":"category.coding.where(iif(code.exists(), code, system) = 'k').exists()","type":"boolean"}]}]}`))
	f.Add([]byte(ext), []byte(`{"name":"s","resource":"ExplanationOfBenefit","select":[{"column":[`+
		`{"name":"c","path":"extension.select(valueQuantity.code | valueCoding.code | {}).first()"},`+
		`{"name":"d","path":"extension.select(valueCoding.system | url).first()"}]}]}`))
	f.Add([]byte(`{"resourceType":"Patient","id":"p","name":[{"family":"a","given":["x","y"]},{"family":"a"}]}`),
		[]byte(`{"name":"p","resource":"Patient","select":[{"forEach":"name","column":[{"name":"f","path":"(family | given | family).first()"},{"name":"g","path":"iif(given.exists(), iif(given.first().startsWith('x'), given.first().substring(1), given.first()), family)"}]}]}`))
	f.Fuzz(func(t *testing.T, line, viewJSON []byte) {
		p, err := view.Parse("fuzz.json", viewJSON)
		if err != nil {
			return
		}
		q, err := view.ParseGeneral("fuzz.json", viewJSON)
		if err != nil {
			t.Fatalf("view.Parse accepts the view, view.ParseGeneral does not: %v", err)
		}
		if p.Name == "" {
			p.Name, q.Name = "t", "t"
		}
		pe, err := transform.New([]*view.View{p})
		if err != nil {
			return
		}
		ge, err := transform.New([]*view.View{q}, transform.WithGeneralEvaluator())
		if err != nil {
			t.Fatalf("the plan engine compiles, the general one does not: %v", err)
		}
		a, aerr := pe.Rows(line)
		b, berr := ge.Rows(line)
		if (aerr == nil) != (berr == nil) {
			t.Fatalf("plan error %v, general evaluator error %v", aerr, berr)
		}
		if aerr == nil && !reflect.DeepEqual(a, b) {
			t.Fatalf("rows differ:\nplan    %v\ngeneral %v", a, b)
		}
	})
}
