package runner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// TestReportMatchesManifest runs the pipeline against the sandbox and checks report.html
// beside the manifest: self-contained, and every figure equals the manifest's (rows per table)
// or an independent read of the Parquet (rows and amounts per claim type, claims per month).
func TestReportMatchesManifest(t *testing.T) {
	f := newFixture(t, 100) // about 2% of the sandbox's patients are opted out (suppressed)
	sum, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	g := sum.Groups[0]
	if g.Report == "" {
		t.Fatalf("no report in the summary: %+v", g)
	}
	runs, _ := filepath.Glob(filepath.Join(f.cfg.Destination, load.RunsDir, "*", "report.html"))
	if len(runs) != 1 {
		t.Fatalf("report files %v", runs)
	}
	html, err := os.ReadFile(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(filepath.Join(filepath.Dir(runs[0]), "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man load.Manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	page := string(html)
	// Self-contained: no scripts, stylesheets, images or links fetched from anywhere.
	for _, bad := range []string{"<script", "<link", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	// Rows per table = the manifest's.
	rowsRe := regexp.MustCompile(`<tr data-table="([a-z_]+)" data-rows="(\d+)">`)
	got := map[string]int{}
	for _, m := range rowsRe.FindAllStringSubmatch(page, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(got) != len(man.Tables) || len(got) < 10 {
		t.Errorf("report lists %d tables, manifest %d", len(got), len(man.Tables))
	}
	total := 0
	for table, n := range man.Tables {
		if got[table] != n {
			t.Errorf("%s: report %d rows, manifest %d", table, got[table], n)
		}
		total += n
	}
	if !strings.Contains(page, `id="total-rows" data-value="`+strconv.Itoa(total)+`"`) {
		t.Errorf("total rows card is not %d", total)
	}
	if !strings.Contains(page, `id="files" data-value="`+strconv.Itoa(len(man.Files))+`"`) {
		t.Errorf("files card is not %d", len(man.Files))
	}
	// Claims and amounts per claim type = an independent read of the eob Parquet.
	eobs := readTable(t, f.cfg.Destination, "eob")
	wantRows := map[string]int{}
	wantPaid := map[string]decimal128.Num{}
	wantMonth := map[string]int{}
	for _, e := range eobs {
		ct := e["claim_type"]
		wantRows[ct]++
		if v, ok := e["payment_amount"]; ok {
			n, err := decimal128.FromString(v, 38, 2)
			if err != nil {
				t.Fatal(err)
			}
			wantPaid[ct] = wantPaid[ct].Add(n)
		}
		wantMonth[ct+" "+e["billable_period_start"][:7]]++
	}
	block := page[strings.Index(page, `<table class="bytype" data-table="eob">`):]
	block = block[:strings.Index(block, "</table>")]
	typeRe := regexp.MustCompile(`<tr data-type="([A-Z]+)" data-rows="(\d+)"><td>[A-Z]+</td><td class="n">\d+</td><td class="n" data-amount="payment_amount">(-?[0-9.]+)</td>`)
	seen := 0
	for _, m := range typeRe.FindAllStringSubmatch(block, -1) {
		n, _ := strconv.Atoi(m[2])
		if n != wantRows[m[1]] || m[3] != wantPaid[m[1]].ToString(2) {
			t.Errorf("%s: report %s claims Σpaid %s, Parquet %d claims Σpaid %s", m[1], m[2], m[3], wantRows[m[1]], wantPaid[m[1]].ToString(2))
		}
		seen++
	}
	if seen != len(wantRows) || seen < 5 {
		t.Errorf("report lists %d claim types, Parquet has %d", seen, len(wantRows))
	}
	barRe := regexp.MustCompile(`data-month="(\d{4}-\d{2})" data-type="([A-Z]+)" data-claims="(\d+)"`)
	bars := 0
	for _, m := range barRe.FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[3])
		if n != wantMonth[m[2]+" "+m[1]] {
			t.Errorf("chart %s %s: %d claims, Parquet %d", m[1], m[2], n, wantMonth[m[2]+" "+m[1]])
		}
		bars += n
	}
	if bars != len(eobs) {
		t.Errorf("chart bars hold %d claims, eob has %d", bars, len(eobs))
	}
	// Suppressed patients = the error file's suppressed issues; quarantine and watermark as summarised.
	supp := map[string]bool{}
	for _, e := range readTable(t, f.cfg.Destination, "export_error") {
		if e["code"] != "" {
			supp[e["patient_id"]] = true
		}
	}
	if len(supp) == 0 || len(supp) != g.Suppressed || !strings.Contains(page, `id="suppressed" data-value="`+strconv.Itoa(len(supp))+`"`) {
		t.Errorf("suppressed card is not %d (export_error) / %d (summary)", len(supp), g.Suppressed)
	}
	for why, n := range g.SuppressedWhy {
		if !strings.Contains(page, `data-why="`+why+`" data-patients="`+strconv.Itoa(n)+`"`) {
			t.Errorf("suppression reason %q (%d) not in the report", why, n)
		}
	}
	if !strings.Contains(page, `id="quarantined" data-value="`+strconv.Itoa(g.Quarantined)+`"`) || !strings.Contains(page, `id="watermark" data-value="`+g.Watermark+`"`) {
		t.Errorf("quarantine/watermark cards differ from the summary (%d, %s)", g.Quarantined, g.Watermark)
	}
	var warned int64
	for _, n := range g.Warnings {
		warned += n
	}
	if !strings.Contains(page, `id="warnings" data-value="`+strconv.FormatInt(warned, 10)+`"`) {
		t.Errorf("warnings card is not the summary's %d (%v)", warned, g.Warnings)
	}
	t.Logf("report: %d bytes, %d tables, %d claims, %d suppressed, warnings %v", len(html), len(got), len(eobs), len(supp), g.Warnings)
}

// TestAutoVersionOnR4Export: an R4-shaped export (Blue Button v2 / BCDA style) flattened
// with fhir_version auto lands in the same tables, stamped R4 in lineage.
func TestAutoVersionOnR4Export(t *testing.T) {
	f := newFixture(t, 10, dpctest.WithFHIRVersion("R4"))
	cfg := f.cfg
	cfg.FHIRVersion = "auto"
	if _, err := f.run(t, cfg); err != nil {
		t.Fatalf("run: %v", err)
	}
	eobs := readTable(t, cfg.Destination, "eob")
	if len(eobs) == 0 {
		t.Fatal("no claims")
	}
	for _, e := range eobs {
		if e["source_fhir_version"] != "R4" || e["claim_type"] == "" {
			t.Fatalf("claim %s: version %q type %q", e["eob_id"], e["source_fhir_version"], e["claim_type"])
		}
	}
	for _, p := range readTable(t, cfg.Destination, "patient") {
		if p["source_fhir_version"] != "R4" {
			t.Fatalf("patient %s: version %q (an undecided Patient file follows the job's R4 files)", p["patient_id"], p["source_fhir_version"])
		}
	}
}

// TestStageLoadWritesReport: the split stages (export wait, download, transform, then load in
// a new process) also leave report.html beside the manifest, with the manifest's rows.
func TestStageLoadWritesReport(t *testing.T) {
	f := newFixture(t, 20)
	ctx := context.Background()
	step := func(name string, fn func(*runner.Runner) (*runner.Summary, error)) *runner.Summary {
		t.Helper()
		r, err := runner.New(ctx, runner.Options{Config: f.cfg, Now: f.srv.Clock().Now})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		sum, err := fn(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sum
	}
	step("export wait", func(r *runner.Runner) (*runner.Summary, error) { return r.ExportWait(ctx) })
	dl := step("download", func(r *runner.Runner) (*runner.Summary, error) { return r.Download(ctx) })
	step("transform", func(r *runner.Runner) (*runner.Summary, error) { return r.Transform(ctx) })
	sum := step("load", func(r *runner.Runner) (*runner.Summary, error) { return r.Load(ctx) })
	if sum.Groups[0].Report == "" {
		t.Fatalf("load summary names no report: %+v", sum.Groups[0])
	}
	runs, _ := filepath.Glob(filepath.Join(f.cfg.Destination, load.RunsDir, "*", "report.html"))
	if len(runs) != 1 {
		t.Fatalf("report files %v", runs)
	}
	// What transform saw reaches the manifest of the load process: every file, DPC's checksum.
	_, ex := readRunManifest(t, f.cfg.Destination)
	if len(ex.Files) != dl.Files || ex.VerifiedBy["checksum"] != dl.Files || sum.VerifiedBy["checksum"] != dl.Files {
		t.Errorf("%d files downloaded; manifest lists %d, verified_by %v, load summary %v", dl.Files, len(ex.Files), ex.VerifiedBy, sum.VerifiedBy)
	}
	page, _ := os.ReadFile(runs[0])
	for table, n := range sum.Groups[0].Rows {
		if !strings.Contains(string(page), `<tr data-table="`+table+`" data-rows="`+strconv.FormatInt(n, 10)+`">`) {
			t.Errorf("%s: %d rows not in the stage report", table, n)
		}
	}
}
