package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
)

// TestSplitFileKeepsLineNumbers: one file cut into parts at line boundaries gives the same
// rows as the whole file, and bad lines in later parts (a blank line and a CRLF among them)
// are quarantined under the file's name with their line numbers in the whole file.
func TestSplitFileKeepsLineNumbers(t *testing.T) {
	var lines []string
	bad := map[int]bool{3: true, 1201: true, 1777: true, 1999: true}
	for i := 1; i <= 2000; i++ {
		switch {
		case bad[i]:
			lines = append(lines, fmt.Sprintf(`{"resourceType":"ExplanationOfBenefit","id":"bad%d"`, i))
		case i == 900:
			lines = append(lines, "") // blank lines count as lines
		case i == 1500:
			lines = append(lines, eobLine(fmt.Sprint("e", i), "1", 2)+"\r")
		default:
			lines = append(lines, eobLine(fmt.Sprint("e", i), "1", 2))
		}
	}
	path := filepath.Join(t.TempDir(), "eob.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil { // no final newline
		t.Fatal(err)
	}
	run := func(srcs []transform.Source) ([]string, []int64) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		q := &memQuarantine{}
		eng, err := transform.New(mustViews(t, eobView, lineView), transform.WithAllocator(mem), transform.WithQuarantine(q),
			transform.WithConcurrency(3), transform.WithThreshold(-1, -1))
		if err != nil {
			t.Fatal(err)
		}
		var c collect
		if _, err := eng.Run(context.Background(), srcs, c.emit); err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range q.recs {
			if r.File != path {
				t.Errorf("quarantined under %q, want %q", r.File, path)
			}
			if want := fmt.Sprintf(`"id":"bad%d"`, r.Line); !strings.Contains(string(r.Raw), want) {
				t.Errorf("line %d holds %q", r.Line, r.Raw)
			}
			got = append(got, r.Line)
		}
		slices.Sort(got)
		rows := append(c.rows["eob"], c.rows["eob_line"]...)
		slices.Sort(rows)
		return rows, got
	}
	whole, _ := transform.SplitFile(path, "ExplanationOfBenefit", 1, 1)
	wantRows, wantBad := run(whole)
	if !slices.Equal(wantBad, []int64{3, 1201, 1777, 1999}) {
		t.Fatalf("whole file: quarantined lines %v", wantBad)
	}
	for _, n := range []int{2, 3, 7} {
		parts, err := transform.SplitFile(path, "ExplanationOfBenefit", n, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != n {
			t.Fatalf("%d parts, want %d", len(parts), n)
		}
		rows, got := run(parts)
		if !slices.Equal(got, wantBad) {
			t.Errorf("%d parts: quarantined lines %v, want %v", n, got, wantBad)
		}
		if !slices.Equal(rows, wantRows) {
			t.Errorf("%d parts: %d rows, want the whole file's %d", n, len(rows), len(wantRows))
		}
	}
	// Parts are at least minBytes: a small file stays whole.
	if parts, _ := transform.SplitFile(path, "", 4, 1<<30); len(parts) != 1 {
		t.Errorf("%d parts of a file below minBytes", len(parts))
	}
}
