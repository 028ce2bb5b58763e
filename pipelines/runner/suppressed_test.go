package runner_test

import (
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// A run where most patients come back only as OperationOutcome lines (DPC's lookback and
// opt-out) succeeds, fills export_error with one row per such patient, and the summary
// says how many were suppressed and why.
func TestMostlySuppressedExportSucceeds(t *testing.T) {
	f := newFixture(t, 60, dpctest.WithSuppressedShare(0.8))
	sum, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	gen := f.srv.Generator()
	want := map[string]bool{}
	for _, mbi := range f.sb.MBIs {
		if _, ok := gen.Suppressed(mbi); ok {
			want[mbi] = true
		}
	}
	if len(want) < len(f.sb.MBIs)/2 {
		t.Fatalf("only %d of %d patients suppressed: the fixture does not test a mostly-error export", len(want), len(f.sb.MBIs))
	}
	if len(sum.Groups) != 1 || sum.Groups[0].Status != "ok" || sum.Suppressed != len(want) || sum.Groups[0].Suppressed != len(want) {
		t.Fatalf("summary: %d groups, %d suppressed, want %d", len(sum.Groups), sum.Suppressed, len(want))
	}
	total := 0
	for why, n := range sum.SuppressedWhy {
		if why == "" || n <= 0 {
			t.Errorf("reason %q: %d", why, n)
		}
		total += n
	}
	if total != len(want) || sum.SuppressedWhy["opted out"]+sum.SuppressedWhy["lookback: no claim in 18 months"] == 0 {
		t.Fatalf("reasons %v do not add up to %d", sum.SuppressedWhy, len(want))
	}
	rows := readTable(t, f.cfg.Destination, "export_error")
	got := map[string]bool{}
	for _, r := range rows {
		got[r["patient_id"]] = true
		if r["severity"] != "error" || (r["code"] != "suppressed" && r["code"] != "exception") || r["details_text"] == "" {
			t.Errorf("export_error row %v", r)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("export_error has %d rows, want %d", len(rows), len(want))
	}
	for mbi := range want {
		if !got[mbi] {
			t.Errorf("suppressed patient %s has no export_error row", mbi)
		}
	}
	if n := len(readTable(t, f.cfg.Destination, "patient")); n != len(f.sb.MBIs)-len(want) {
		t.Fatalf("patient has %d rows, want %d", n, len(f.sb.MBIs)-len(want))
	}
}
