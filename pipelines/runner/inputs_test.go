package runner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// job is a delivered job: its files written as the downloader leaves them (verified, decoded).
type job struct {
	dir   string
	files []extract.File
}

func (j *job) add(t *testing.T, list, typ, verifiedBy string, count int, lines ...string) {
	t.Helper()
	body := []byte(strings.Join(lines, "\n") + "\n")
	name := typ + "-" + list + ".ndjson"
	p := filepath.Join(j.dir, name)
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(body)
	j.files = append(j.files, extract.File{Type: typ, URL: "http://127.0.0.1:1/files/" + name + "?sig=secret", Path: p, SHA256: hex.EncodeToString(h[:]),
		Bytes: int64(len(body)), Count: count, Lines: int64(len(lines)), JobID: "job-1", List: list, VerifiedBy: verifiedBy})
}

func deletedBundle(id string, urls ...string) string {
	var es []string
	for _, u := range urls {
		es = append(es, `{"request":{"method":"DELETE","url":"`+u+`"}}`)
	}
	return `{"resourceType":"Bundle","id":"` + id + `","type":"transaction","entry":[` + strings.Join(es, ",") + `]}`
}

// smartJob is what a generic SMART server delivers for an incremental export: Patients, a
// type no built-in view reads (Condition), an error file whose count disagrees with its lines,
// and a deleted[] file, each file verified a different way.
func smartJob(t *testing.T, deletedLines ...string) *job {
	j := &job{dir: t.TempDir()}
	j.add(t, extract.ListOutput, "Patient", extract.VerifiedChecksum, 3,
		`{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-02"}`,
		`{"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1951-03-04"}`,
		`{"resourceType":"Patient","id":"p3","gender":"male","birthDate":"1952-05-06"}`)
	j.add(t, extract.ListOutput, "Condition", extract.VerifiedLength, 0,
		`{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"x"}}`,
		`{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"}}`)
	j.add(t, extract.ListError, "OperationOutcome", extract.VerifiedCount, 3,
		`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"Patient/p7 failed"}]}`,
		`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"Patient/p8 failed"}]}`)
	if len(deletedLines) == 0 {
		deletedLines = []string{deletedBundle("b1", "Patient/p9", "ExplanationOfBenefit/e1"), deletedBundle("b2", "ExplanationOfBenefit/e2")}
	}
	j.add(t, extract.ListDeleted, "Bundle", extract.VerifiedStructure, 0, deletedLines...)
	return j
}

func smartConfig(t *testing.T) config.Config {
	cfg := config.Default()
	dir := t.TempDir()
	cfg.Destination = filepath.Join(dir, "out")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.FHIRVersion = "R4"
	cfg.Concurrency = 2
	cfg.Since = "incremental"
	return cfg
}

func readRunManifest(t *testing.T, dest string) (load.Manifest, report.Export) {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join(dest, "_runs", "*", "_manifest.json"))
	if len(ms) != 1 {
		t.Fatalf("manifests %v", ms)
	}
	b, err := os.ReadFile(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	var m load.Manifest
	var ex report.Export
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m.Export, &ex); err != nil {
		t.Fatalf("export record: %v in %s", err, b)
	}
	return m, ex
}

// TestSMARTJobDeletedErrorRawAndVerification: deletions land in deleted_resource (counted per
// type in the summary and the run manifest), the error file's count mismatch is recorded and
// its OperationOutcomes still land in export_error, Condition (no view) is kept raw beside the
// tables with its sha256 in the manifest, and each file says how it was verified.
func TestSMARTJobDeletedErrorRawAndVerification(t *testing.T) {
	cfg := smartConfig(t)
	j := smartJob(t)
	tx := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	gs, err := runner.LoadFiles(context.Background(), cfg, "practice-1", "job-1", &export.Manifest{TransactionTime: tx}, j.files)
	if err != nil {
		t.Fatalf("a server's count mismatch, deletions and unknown types must not fail the run: %v", err)
	}
	if gs.WatermarkHeld != "" {
		t.Fatalf("watermark held: %s", gs.WatermarkHeld)
	}
	if wm, err := readWatermark(t, &fixture{cfg: cfg}, "practice-1"); err != nil || !wm.Equal(tx) {
		t.Fatalf("watermark %v %v, want %v", wm, err, tx)
	}

	// Deletions: Parquet read back, and counted per type.
	del := readTable(t, cfg.Destination, "deleted_resource")
	var urls []string
	for _, r := range del {
		urls = append(urls, r["resource_type"]+" "+r["resource_id"]+" "+r["request_method"]+" "+r["request_url"])
	}
	sort.Strings(urls)
	want := []string{"ExplanationOfBenefit e1 DELETE ExplanationOfBenefit/e1", "ExplanationOfBenefit e2 DELETE ExplanationOfBenefit/e2", "Patient p9 DELETE Patient/p9"}
	if strings.Join(urls, "|") != strings.Join(want, "|") {
		t.Fatalf("deleted_resource rows %v, want %v", urls, want)
	}
	wantDel := map[string]int64{"ExplanationOfBenefit": 2, "Patient": 1}
	m, ex := readRunManifest(t, cfg.Destination)
	for ty, n := range wantDel {
		if gs.Deleted[ty] != n || ex.Deleted[ty] != n {
			t.Errorf("deleted %s: summary %d, manifest %d, want %d", ty, gs.Deleted[ty], ex.Deleted[ty], n)
		}
	}
	// A deleted[] Bundle never reaches the other tables, and the output's patients are all there.
	if n := len(readTable(t, cfg.Destination, "patient")); n != 3 {
		t.Errorf("patient rows %d, want 3", n)
	}

	// The error file: mismatch recorded, its lines in export_error.
	if len(gs.CountMismatches) != 1 || gs.CountMismatches[0] != (report.CountMismatch{File: "OperationOutcome-error.ndjson", Count: 3, Lines: 2}) {
		t.Errorf("summary mismatches %+v", gs.CountMismatches)
	}
	if len(ex.CountMismatches) != 1 || ex.CountMismatches[0].Lines != 2 || ex.CountMismatches[0].Count != 3 {
		t.Errorf("manifest mismatches %+v", ex.CountMismatches)
	}
	if n := len(readTable(t, cfg.Destination, "export_error")); n != 2 {
		t.Errorf("export_error rows %d, want 2", n)
	}

	// Condition kept raw: published with the run, listed with the sha256 of the object.
	if gs.Raw["Condition"] != 2 {
		t.Errorf("summary raw %v", gs.Raw)
	}
	var rawFile *load.ManifestFile
	for i, f := range m.Files {
		if f.Table == "raw/Condition" {
			rawFile = &m.Files[i]
		}
	}
	if rawFile == nil || !regexp.MustCompile(`^raw/Condition/export_date=2026-11-30/group_id=practice-1/Condition-output\.ndjson\.zst$`).MatchString(rawFile.Key) || rawFile.Rows != 2 {
		t.Fatalf("raw file in manifest: %+v", rawFile)
	}
	obj, err := os.ReadFile(filepath.Join(cfg.Destination, rawFile.Key))
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(obj); hex.EncodeToString(h[:]) != rawFile.SHA256 || int64(len(obj)) != rawFile.Bytes {
		t.Errorf("raw object sha256/bytes differ from the manifest")
	}
	zr, err := zstd.NewReader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	zr.Close()
	orig, _ := os.ReadFile(filepath.Join(j.dir, "Condition-output.ndjson"))
	if err != nil || !bytes.Equal(got, orig) {
		t.Fatalf("raw Condition is not the delivered bytes: %v", err)
	}
	if gs.Quarantined != 0 {
		t.Errorf("quarantined %d: a type without a view must be kept raw, not quarantined", gs.Quarantined)
	}

	// Every file's own hash, bytes, lines and method; never a URL query.
	if len(ex.Files) != len(j.files) {
		t.Fatalf("manifest lists %d files, want %d", len(ex.Files), len(j.files))
	}
	for i, in := range ex.Files {
		f := j.files[i]
		if in.SHA256 != f.SHA256 || in.Bytes != f.Bytes || in.Lines != f.Lines || in.VerifiedBy != f.VerifiedBy || in.List != f.List || strings.Contains(in.File, "secret") {
			t.Errorf("manifest file %+v for %+v", in, f)
		}
	}
	if raw := ex.Files[1].Raw; raw != rawFile.Key {
		t.Errorf("Condition's raw key %q, want %q", raw, rawFile.Key)
	}
	wantBy := map[string]int{extract.VerifiedChecksum: 1, extract.VerifiedLength: 1, extract.VerifiedCount: 1, extract.VerifiedStructure: 1}
	for k, n := range wantBy {
		if gs.VerifiedBy[k] != n || ex.VerifiedBy[k] != n {
			t.Errorf("verified_by %s: summary %d manifest %d, want %d", k, gs.VerifiedBy[k], ex.VerifiedBy[k], n)
		}
	}

	// report.html: one row per file; only the checksum file reads as checksum-verified.
	html, err := os.ReadFile(filepath.Join(cfg.Destination, "_runs", m.RunID, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`<tr data-file="([^"]+)" data-verified-by="([^"]+)">(.*?)</tr>`).FindAllStringSubmatch(string(html), -1)
	if len(rows) != 4 {
		t.Fatalf("report lists %d input files, want 4", len(rows))
	}
	for _, r := range rows {
		note := report.VerifiedNote(r[2])
		if !strings.Contains(r[3], note) {
			t.Errorf("%s (%s): row does not say %q: %s", r[1], r[2], note, r[3])
		}
		if (r[2] == extract.VerifiedChecksum) != strings.Contains(r[3], "checksum-verified") {
			t.Errorf("%s (%s) presented as %s", r[1], r[2], r[3])
		}
	}
	if !strings.Contains(string(html), "length-verified only (server sent no checksum)") {
		t.Error("report lacks the length-verified-only note")
	}
	parquet := 0
	for _, f := range m.Files {
		if strings.HasSuffix(f.Key, ".parquet") {
			parquet++
		}
	}
	if card := fmt.Sprintf(`data-value="%d">%d</b>Parquet files`, parquet, parquet); parquet != len(m.Files)-1 || !strings.Contains(string(html), card) {
		t.Errorf("report does not count %d Parquet files (the raw file is not one)", parquet)
	}
}

// TestDeletionNotLandedHoldsTheWatermark: a quarantined line of a deleted[] file (under the
// quarantine limit) commits the run but holds the watermark, with the reason in the summary
// and the run manifest; once the deletions land, the watermark moves.
func TestDeletionNotLandedHoldsTheWatermark(t *testing.T) {
	cfg := smartConfig(t)
	cfg.Quarantine.MaxLines = 5
	tx := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	bad := smartJob(t, deletedBundle("b1", "Patient/p9"), `{"resourceType":"Patient","id":"not-a-bundle"}`)
	gs, err := runner.LoadFiles(context.Background(), cfg, "practice-1", "job-1", &export.Manifest{TransactionTime: tx}, bad.files)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gs.WatermarkHeld, "1 lines of deleted file Bundle-deleted.ndjson quarantined") {
		t.Fatalf("watermark_held %q", gs.WatermarkHeld)
	}
	if wm, err := readWatermark(t, &fixture{cfg: cfg}, "practice-1"); err != nil || !wm.IsZero() {
		t.Fatalf("watermark moved to %v (%v) past a deletion that did not land", wm, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Destination, "_state", "groups", "practice-1", "pending.json")); !os.IsNotExist(err) {
		t.Fatalf("pending record left: %v", err)
	}
	_, ex := readRunManifest(t, cfg.Destination)
	if ex.WatermarkHeld != gs.WatermarkHeld || ex.Files[3].Quarantined != 1 {
		t.Fatalf("manifest: held %q, deleted file quarantined %d", ex.WatermarkHeld, ex.Files[3].Quarantined)
	}
	if gs.Deleted["Patient"] != 1 {
		t.Errorf("the landed deletion is still counted: %v", gs.Deleted)
	}

	// The same window again, now complete: the run replaces the first and the watermark moves.
	good := smartJob(t)
	gs, err = runner.LoadFiles(context.Background(), cfg, "practice-1", "job-2", &export.Manifest{TransactionTime: tx}, good.files)
	if err != nil || gs.WatermarkHeld != "" {
		t.Fatalf("%v, held %q", err, gs.WatermarkHeld)
	}
	if wm, err := readWatermark(t, &fixture{cfg: cfg}, "practice-1"); err != nil || !wm.Equal(tx) {
		t.Fatalf("watermark %v %v, want %v", wm, err, tx)
	}
	if n := len(readTable(t, cfg.Destination, "deleted_resource")); n != 3 {
		t.Fatalf("deleted_resource rows %d after the rerun, want 3 (no duplicates)", n)
	}
}

// TestMaxLinesZeroNamesRealFiles: with quarantine.max_lines 0 (the default) the first bad line
// fails the run through the whole pipeline (sandbox, download, transform); the error names the
// quarantine file, which exists and holds that line, and the delivered file and line it came
// from; the summary names the quarantine file too.
func TestMaxLinesZeroNamesRealFiles(t *testing.T) {
	f := newFixture(t, 6)
	views := t.TempDir()
	// A user view whose column type every Patient breaks (gender is no integer).
	v := `{"resourceType":"ViewDefinition","name":"patient_gender_code","status":"active","resource":"Patient",
	  "select":[{"column":[{"name":"patient_id","path":"id","type":"string"},{"name":"gender_code","path":"gender","type":"integer"}]}]}`
	if err := os.WriteFile(filepath.Join(views, "v.json"), []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	cfg.ViewsDir = views
	cfg.Quarantine.MaxLines = 0
	sum, err := f.run(t, cfg)
	if !errors.Is(err, runner.ErrBadData) {
		t.Fatalf("err = %v, want ErrBadData", err)
	}
	gs := sum.Groups[0]
	if gs.QuarantineFile == "" || sum.QuarantineDir == "" || !strings.HasPrefix(gs.QuarantineFile, sum.QuarantineDir) {
		t.Fatalf("summary names no quarantine file: %q / %q", gs.QuarantineFile, sum.QuarantineDir)
	}
	if !strings.Contains(err.Error(), gs.QuarantineFile) {
		t.Errorf("error does not name the quarantine file %s: %v", gs.QuarantineFile, err)
	}
	b, rerr := os.ReadFile(gs.QuarantineFile)
	if rerr != nil {
		t.Fatalf("the quarantine file the error names does not exist: %v", rerr)
	}
	var q struct {
		File string `json:"file"`
		Line int    `json:"line"`
		Raw  string `json:"raw"`
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[0]), &q); err != nil || len(lines) != 1 {
		t.Fatalf("quarantine file %q: %v", b, err)
	}
	m := regexp.MustCompile(`: (/\S+) line (\d+): `).FindStringSubmatch(err.Error())
	if m == nil || m[1] != q.File || m[2] != fmt.Sprint(q.Line) {
		t.Fatalf("error names %v, quarantine record %s line %d: %v", m, q.File, q.Line, err)
	}
	src, serr := os.ReadFile(q.File)
	if serr != nil {
		t.Fatalf("the delivered file the error names does not exist: %v", serr)
	}
	if got := strings.Split(string(src), "\n")[q.Line-1]; got != q.Raw {
		t.Errorf("line %d of %s is %q, the quarantine holds %q", q.Line, q.File, got, q.Raw)
	}
	if ms, _ := filepath.Glob(filepath.Join(cfg.Destination, "_runs", "*", "_SUCCESS")); len(ms) != 0 {
		t.Errorf("a run over the threshold published %v", ms)
	}
}

// TestMoneyPolicyRoundingsInSummaryAndManifest: CARIN claims with floating-point money
// (112.41600000000001) are quarantined under money_policy strict and land rounded under
// round_half_even, each rounding counted per table.column in the summary, the run manifest
// and report.html.
func TestMoneyPolicyRoundingsInSummaryAndManifest(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bulk", "carin-eob.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	for _, policy := range []string{"strict", "round_half_even"} {
		t.Run(policy, func(t *testing.T) {
			cfg := smartConfig(t)
			cfg.MoneyPolicy = policy
			cfg.Quarantine.MaxLines = -1
			j := &job{dir: t.TempDir()}
			j.add(t, extract.ListOutput, "ExplanationOfBenefit", extract.VerifiedCount, len(lines), lines...)
			gs, err := runner.LoadFiles(context.Background(), cfg, "practice-1", "job-1",
				&export.Manifest{TransactionTime: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}, j.files)
			if err != nil {
				t.Fatal(err)
			}
			var rounded int64
			for _, n := range gs.Rounded {
				rounded += n
			}
			m, ex := readRunManifest(t, cfg.Destination)
			if policy == "strict" {
				if gs.Quarantined == 0 || rounded != 0 {
					t.Fatalf("strict: %d quarantined, %d rounded", gs.Quarantined, rounded)
				}
				return
			}
			if gs.Quarantined != 0 || rounded == 0 || len(ex.Rounded) != len(gs.Rounded) {
				t.Fatalf("round_half_even: %d quarantined, rounded %v, manifest %v", gs.Quarantined, gs.Rounded, ex.Rounded)
			}
			html, _ := os.ReadFile(filepath.Join(cfg.Destination, "_runs", m.RunID, "report.html"))
			for col, n := range gs.Rounded {
				if ex.Rounded[col] != n || !strings.Contains(string(html), fmt.Sprintf(`data-column="%s" data-rounded="%d"`, col, n)) {
					t.Errorf("%s: %d rounded, manifest %d, or not in report.html", col, n, ex.Rounded[col])
				}
			}
			if n := len(readTable(t, cfg.Destination, "eob")); n != len(lines) {
				t.Errorf("eob rows %d, want %d", n, len(lines))
			}
		})
	}
}

// TestDeletedURLsNotOfTheFormTypeID: deletions whose url is absolute or versioned still land
// (the row keeps the url as sent) and are counted, under "unknown", never dropped.
func TestDeletedURLsNotOfTheFormTypeID(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bulk", "deleted.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := smartConfig(t)
	j := smartJob(t, strings.Split(strings.TrimSpace(string(body)), "\n")...)
	gs, err := runner.LoadFiles(context.Background(), cfg, "practice-1", "job-1", &export.Manifest{TransactionTime: time.Now()}, j.files)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"Patient": 1, "ExplanationOfBenefit": 1, "MedicationRequest": 1, "unknown": 2}
	if fmt.Sprint(gs.Deleted) != fmt.Sprint(want) {
		t.Fatalf("deleted %v, want %v", gs.Deleted, want)
	}
	if n := len(readTable(t, cfg.Destination, "deleted_resource")); n != 5 {
		t.Fatalf("deleted_resource rows %d, want 5", n)
	}
}
