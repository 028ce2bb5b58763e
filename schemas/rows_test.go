package schemas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

const bfdDir = "../testdata/bfd"

// row is one output row: values rendered as exact text (nil = null), plus the sample it came from.
type row struct {
	source string
	vals   []*string
}

// tableRows is one table's output.
type tableRows struct {
	cols []string
	rows []row
}

// ndjsonLines turns a FHIR JSON file into NDJSON: one line per Bundle entry resource, or the
// resource itself; .ndjson files are returned as they are.
func ndjsonLines(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".ndjson") {
		return data
	}
	var probe struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out bytes.Buffer
	add := func(raw []byte) {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out.Write(c.Bytes())
		out.WriteByte('\n')
	}
	if probe.ResourceType == "Bundle" {
		for _, e := range probe.Entry {
			add(e.Resource)
		}
	} else {
		add(data)
	}
	return out.Bytes()
}

// runEngine runs views over NDJSON sources (name → bytes), one Run per source so every row
// knows its sample, and returns the rows of every table.
func runEngine(t testing.TB, version string, names []string, data map[string][]byte, opts ...transform.Option) (map[string]*tableRows, transform.Stats) {
	t.Helper()
	views, err := Views(version)
	if err != nil {
		t.Fatal(err)
	}
	srcs := make([]transform.Source, len(names))
	for i, n := range names {
		b := data[n]
		srcs[i] = transform.Source{Name: n, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	}
	return runSources(t, views, srcs, opts...)
}

// runSources runs views over each source in turn and collects the rows of every table.
func runSources(t testing.TB, views []*view.View, srcs []transform.Source, opts ...transform.Option) (map[string]*tableRows, transform.Stats) {
	t.Helper()
	eng, err := transform.New(views, opts...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*tableRows{}
	for name, sch := range eng.Schemas() {
		tr := &tableRows{}
		for _, f := range sch.Fields() {
			tr.cols = append(tr.cols, f.Name)
		}
		out[name] = tr
	}
	total := transform.Stats{Rows: map[string]int64{}}
	for _, src := range srcs {
		st, err := eng.Run(context.Background(), []transform.Source{src}, func(bt transform.Batch) error {
			defer bt.Record.Release()
			tr := out[bt.Table]
			for i := 0; i < int(bt.Record.NumRows()); i++ {
				r := row{source: src.Name}
				for c := 0; c < int(bt.Record.NumCols()); c++ {
					r.vals = append(r.vals, render(bt.Record.Column(c), i))
				}
				tr.rows = append(tr.rows, r)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", src.Name, err)
		}
		total.Lines += st.Lines
		total.Resources += st.Resources
		total.Quarantined += st.Quarantined
		total.Skipped += st.Skipped
		for k, v := range st.Rows {
			total.Rows[k] += v
		}
		for k, v := range st.Rounded {
			if total.Rounded == nil {
				total.Rounded = map[string]int64{}
			}
			total.Rounded[k] += v
		}
	}
	return out, total
}

// render formats one value exactly: decimals with their scale, dates as YYYY-MM-DD,
// timestamps as RFC 3339 UTC with microseconds.
func render(a arrow.Array, i int) *string {
	if a.IsNull(i) {
		return nil
	}
	var s string
	switch a := a.(type) {
	case *array.String:
		s = a.Value(i)
	case *array.Int32:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		s = strconv.FormatInt(a.Value(i), 10)
	case *array.Boolean:
		s = strconv.FormatBool(a.Value(i))
	case *array.Decimal128:
		s = a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		s = a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		s = time.UnixMicro(int64(a.Value(i))).UTC().Format("2006-01-02T15:04:05.000000Z")
	case *array.Dictionary:
		return render(a.Dictionary(), a.GetValueIndex(i))
	case *array.List:
		start, end := a.ValueOffsets(i)
		var parts []string
		for k := start; k < end; k++ {
			v := render(a.ListValues(), int(k))
			if v == nil {
				parts = append(parts, "null")
			} else {
				parts = append(parts, strconv.Quote(*v))
			}
		}
		s = "[" + strings.Join(parts, ",") + "]"
	default:
		s = fmt.Sprintf("<unsupported %s>", a.DataType())
	}
	return &s
}

// get returns the value of column name in r (nil for null); it fails on an unknown column.
func (tr *tableRows) get(t testing.TB, r row, name string) *string {
	t.Helper()
	for i, c := range tr.cols {
		if c == name {
			return r.vals[i]
		}
	}
	t.Fatalf("no column %s", name)
	return nil
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// goldenJSON renders a table as JSON with one object per row and keys in column order.
func goldenJSON(table, version string, tr *tableRows) []byte {
	var b bytes.Buffer
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  \"table\": %s,\n  \"fhir_version\": %s,\n  \"schema_version\": %s,\n", q(table), q(version), q(Version))
	b.WriteString("  \"checked\": " + q("Every value in these rows was checked by hand against the source JSON named in _source (testdata/bfd/"+strings.ToLower(version)+"/ or testdata/bfd/dpc/); the per-claim-type checklist is in testdata/golden/README.md. Regenerate with go test ./schemas -update only after re-checking.") + ",\n")
	b.WriteString("  \"rows\": [")
	for i, r := range tr.rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    {\"_source\": " + q(r.source))
		for c, name := range tr.cols {
			v := "null"
			if r.vals[c] != nil {
				v = q(*r.vals[c])
			}
			fmt.Fprintf(&b, ", %s: %s", q(name), v)
		}
		b.WriteString("}")
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

func sampleNames(t testing.TB, dir string, names ...string) ([]string, map[string][]byte) {
	t.Helper()
	data := map[string][]byte{}
	for _, n := range names {
		data[n] = ndjsonLines(t, filepath.Join(bfdDir, dir, n))
	}
	return names, data
}
