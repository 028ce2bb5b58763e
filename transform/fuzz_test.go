package transform_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/jsontree"
	"github.com/dpcetl/dpcetl/transform/view"
)

// FuzzEngine feeds arbitrary NDJSON lines and ViewDefinitions to the parser, the view
// compiler and the engine: nothing may panic, leak Arrow memory, or lose a line
// (every non-blank line either becomes a resource, is skipped by type, or is quarantined).
// Seeds: f.Add below plus testdata/fuzz/FuzzEngine.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(eobLine("e1", "12.50", 2)), []byte(eobView))
	f.Add([]byte(eobLine("e1", "1e2", 1)), []byte(lineView))
	f.Add([]byte(`{"resourceType":"Patient","id":"p","name":[{"family":"a\u00e9\"b","given":["x",null]}],"birthDate":"2020-02"}`),
		[]byte(`{"name":"p","resource":"Patient","select":[{"forEachOrNull":"name","column":[{"name":"f","path":"family","type":"string"},{"name":"g","path":"given.join(',')"}]},{"column":[{"name":"b","path":"birthDate","type":"date"},{"name":"lb","path":"birthDate.lowBoundary()","type":"date"}]}]}`))
	f.Add([]byte(`{"resourceType":"QuestionnaireResponse","id":"q","item":[{"linkId":"1","item":[{"linkId":"1.1"}]}]}`),
		[]byte(`{"name":"q","resource":"QuestionnaireResponse","select":[{"repeat":["item"],"column":[{"name":"l","path":"linkId"},{"name":"i","path":"%rowIndex","type":"integer"}]}]}`))
	f.Add([]byte(`{"resourceType":"Patient","id":"x","active":true,"deceasedBoolean":false}`),
		[]byte(`{"name":"u","resource":"Patient","where":[{"path":"active"}],"select":[{"unionAll":[{"column":[{"name":"a","path":"iif(active, 1, 2) + 3 * 4 div 2 mod 5","type":"integer"}]},{"column":[{"name":"a","path":"deceased.ofType(boolean).count()","type":"integer"}]}]}]}`))
	f.Add([]byte(`[1,2,{"a":[true,false,null,-0.5e+3]}]`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, line, viewJSON []byte) {
		var doc jsontree.Doc
		perr := doc.Parse(line)
		// jsontree is stricter than encoding/json on one point: strings must be valid UTF-8
		if valid := json.Valid(line) && utf8.Valid(line); valid != (perr == nil) && perr != jsontree.ErrTooDeep {
			t.Fatalf("jsontree.Parse error %v but encoding/json Valid=%v for %q", perr, valid, line)
		}
		// skipping members (jsontree.KeySet) must not change what counts as valid JSON
		fdoc := jsontree.Doc{Filter: jsontree.NewKeySet([]string{"a", "id", "resourceType"}, []string{"X"})}
		if ferr := fdoc.Parse(line); (ferr == nil) != (perr == nil) && ferr != jsontree.ErrTooDeep && perr != jsontree.ErrTooDeep {
			t.Fatalf("filtered parse error %v, unfiltered %v for %q", ferr, perr, line)
		}
		v, err := view.Parse("fuzz.json", viewJSON)
		if err != nil {
			return
		}
		if v.Name == "" {
			v.Name = "t"
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		q := &memQuarantine{}
		eng, err := transform.New([]*view.View{v}, transform.WithAllocator(mem), transform.WithQuarantine(q), transform.WithBatchRows(2))
		if err != nil {
			return
		}
		_, _ = eng.Rows(line)
		input := strings.ReplaceAll(string(line), "\n", " ") + "\n" + string(line)
		var c collect
		st, err := eng.Run(context.Background(), []transform.Source{src("fuzz", input)}, c.emit)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if st.Resources+st.Skipped+st.Quarantined != st.Lines {
			t.Fatalf("lines unaccounted for: %+v", st)
		}
	})
}
