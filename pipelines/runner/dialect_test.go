package runner_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// dialectFiles exports and downloads one job from a sandbox speaking another bulk API.
func dialectFiles(t *testing.T, d dpctest.Dialect, r export.Request) (*export.Job, []extract.File) {
	t.Helper()
	srv := dpctest.NewServer(dpctest.WithDialect(d), dpctest.WithPatients(40), dpctest.WithJobDuration(50*time.Millisecond),
		dpctest.WithFileResources(15), dpctest.WithJobRetryAfter(0), dpctest.WithSuppressedShare(0.2))
	t.Cleanup(srv.Close)
	cfg, err := sandbox.DialectClient(srv, d)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := smartauth.NewTokenSource(cfg, smartauth.WithClock(srv.Clock().Now))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: ts.Transport(nil)}
	fast := retry.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 3}
	dir := t.TempDir()
	job, err := export.New(srv.DialectBaseURL(), hc, export.WithRetry(fast), export.WithClock(srv.Clock().Now),
		export.WithPollBackoff(retry.Policy{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond})).Run(context.Background(), dir, r)
	if err != nil {
		t.Fatal(err)
	}
	files, err := download.New(hc, dir, download.WithRetry(fast)).Download(context.Background(), job.ID, job.Manifest.Files())
	if err != nil {
		t.Fatal(err)
	}
	return job, files
}

// TestDialectJobsLandWithTheirVerification: real jobs of the SMART (deleted[], counts, no
// checksum), BCDA (no checksum, no count) and AB2D (checksum) sandboxes go through transform
// and load: every output resource lands, every deletion lands in deleted_resource and is
// counted per type, error files land in export_error, and the summary, the run manifest and
// report.html say how each file was verified, none of the unverified as checksum-verified.
func TestDialectJobsLandWithTheirVerification(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     dpctest.Dialect
		req   export.Request
		by    string
		group string
	}{
		{"smart system since", dpctest.DialectSMART, export.Request{Level: export.LevelSystem, Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, extract.VerifiedCount, "system"},
		{"bcda patient", dpctest.DialectBCDA, export.Request{Level: export.LevelPatient}, extract.VerifiedStructure, "patient"},
		{"ab2d contract", dpctest.DialectAB2D, export.Request{GroupID: "Z0001"}, extract.VerifiedChecksum, "Z0001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job, files := dialectFiles(t, tc.d, tc.req)
			cfg := smartConfig(t)
			cfg.FHIRVersion = "auto"
			gs, err := runner.LoadFiles(context.Background(), cfg, tc.group, job.ID, job.Manifest, files)
			if err != nil {
				t.Fatalf("%s job: %v", tc.name, err)
			}
			if gs.Quarantined != 0 || gs.WatermarkHeld != "" {
				t.Fatalf("quarantined %d, held %q", gs.Quarantined, gs.WatermarkHeld)
			}
			lines := map[string]int64{}
			var deleted int64
			for _, f := range files {
				if f.List == extract.ListDeleted {
					deleted += f.Lines // one DELETE entry per Bundle in the sandbox
					continue
				}
				lines[f.Type] += f.Lines
			}
			if got := int64(len(readTable(t, cfg.Destination, "patient"))); got != lines["Patient"] {
				t.Errorf("patient rows %d, delivered %d", got, lines["Patient"])
			}
			if got := int64(len(readTable(t, cfg.Destination, "eob"))); got != lines["ExplanationOfBenefit"] || got == 0 {
				t.Errorf("eob rows %d, delivered %d", got, lines["ExplanationOfBenefit"])
			}
			if got := int64(len(readTable(t, cfg.Destination, "export_error"))); got < lines["OperationOutcome"] || lines["OperationOutcome"] == 0 {
				t.Errorf("export_error rows %d, delivered %d OperationOutcomes", got, lines["OperationOutcome"])
			}
			var counted int64
			for _, n := range gs.Deleted {
				counted += n
			}
			if got := int64(len(readTable(t, cfg.Destination, "deleted_resource"))); got != deleted || counted != deleted {
				t.Errorf("deleted_resource rows %d, summary %v, delivered %d", got, gs.Deleted, deleted)
			}
			if tc.d == dpctest.DialectSMART && deleted == 0 {
				t.Error("the SMART job with _since has no deleted[] file")
			}
			// Output files are verified as far as the dialect's manifest allows; an error file's
			// count is not trusted (servers disagree with themselves there), whatever it says.
			m, ex := readRunManifest(t, cfg.Destination)
			want := map[string]int{}
			for i, f := range files {
				if f.List == extract.ListOutput && f.VerifiedBy != tc.by || ex.Files[i].VerifiedBy != f.VerifiedBy {
					t.Errorf("%s (%s): verified by %s, manifest says %s, want %s", f.URL, f.List, f.VerifiedBy, ex.Files[i].VerifiedBy, tc.by)
				}
				want[f.VerifiedBy]++
			}
			for k, n := range want {
				if gs.VerifiedBy[k] != n || ex.VerifiedBy[k] != n {
					t.Errorf("verified_by %s: summary %d manifest %d, want %d", k, gs.VerifiedBy[k], ex.VerifiedBy[k], n)
				}
			}
			html, _ := os.ReadFile(filepath.Join(cfg.Destination, "_runs", m.RunID, "report.html"))
			rows := regexp.MustCompile(`<tr data-file="[^"]+" data-verified-by="([^"]+)">(.*?)</tr>`).FindAllStringSubmatch(string(html), -1)
			if len(rows) != len(files) {
				t.Fatalf("report lists %d files, want %d", len(rows), len(files))
			}
			for _, r := range rows {
				if !strings.Contains(r[2], report.VerifiedNote(r[1])) || (r[1] != extract.VerifiedChecksum) == strings.Contains(r[2], "checksum-verified") {
					t.Errorf("report row (%s): %s", r[1], r[2])
				}
			}
		})
	}
}
