package flatten

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/dpcetl/dpcetl/schemas"
)

const bfd = "../../testdata/bfd"

// lines turns a vendored FHIR JSON sample (a resource or a Bundle) into NDJSON lines.
func lines(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var probe struct {
		ResourceType string            `json:"resourceType"`
		Entry        []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	add := func(raw []byte) {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			t.Fatal(err)
		}
		out.Write(append(c.Bytes(), '\n'))
	}
	if probe.ResourceType != "Bundle" {
		add(b)
		return out.Bytes()
	}
	for _, e := range probe.Entry {
		var r struct {
			Resource json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(e, &r); err != nil {
			t.Fatal(err)
		}
		add(r.Resource)
	}
	return out.Bytes()
}

var eobSamples = []string{"eobReadCarrier.json", "eobReadDme.json", "eobReadHha.json", "eobReadHospice.json",
	"eobReadInpatient.json", "eobReadOutpatient.json", "eobReadPde.json", "eobReadSnf.json"}

// r4Inputs writes the vendored R4 samples as a BCDA/AB2D-style directory: EOBs gzipped under a
// misleading name (the type comes from the lines), Coverage plain, Patient in a nested folder,
// plus one broken line.
func r4Inputs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var eobs []byte
	for _, s := range eobSamples {
		eobs = append(eobs, lines(t, filepath.Join(bfd, "r4", s))...)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(eobs)
	zw.Close()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "Patient.ndjson.gz"), gz.Bytes(), 0o600))
	cov := append(lines(t, filepath.Join(bfd, "r4", "coverageSearchByPatientId.json")), []byte("{\"resourceType\":\"Coverage\",\"id\":\n")...)
	must(os.WriteFile(filepath.Join(dir, "coverage.ndjson"), cov, 0o600))
	must(os.MkdirAll(filepath.Join(dir, "more"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "more", "patients.ndjson"), lines(t, filepath.Join(bfd, "r4", "patientRead.json")), 0o600))
	must(os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not NDJSON, not read\n"), 0o600))
	return dir
}

// readTable reads every published Parquet file of a table with parquet-go (an independent
// reader) and returns its rows as column → value text.
func readTable(t *testing.T, root string, sum Summary, table string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, mf := range sum.Manifest.Files {
		if mf.Table != table {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(mf.Key)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := pgo.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("parquet-go cannot open %s: %v", mf.Key, err)
		}
		cols := f.Schema().Columns()
		for _, rg := range f.RowGroups() {
			rows := rg.Rows()
			buf := make([]pgo.Row, 64)
			for {
				n, err := rows.ReadRows(buf)
				for _, r := range buf[:n] {
					m := map[string]string{}
					for _, v := range r {
						if !v.IsNull() && v.Column() < len(cols) {
							m[cols[v.Column()][0]] = v.String()
						}
					}
					out = append(out, m)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
		}
	}
	return out
}

func TestFlattenR4Samples(t *testing.T) {
	in := r4Inputs(t)
	dest := t.TempDir()
	qpath := filepath.Join(t.TempDir(), "q.ndjson")
	ctx := context.Background()
	sum, err := Run(ctx, Options{Inputs: []string{in}, Destination: dest, QuarantinePath: qpath, MaxQuarantined: 1, MaxWarnings: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 3 {
		t.Fatalf("files %+v, want the 3 NDJSON files (README.txt skipped)", sum.Files)
	}
	for _, f := range sum.Files {
		if f.FHIRVersion != schemas.R4 || !f.Detected {
			t.Errorf("%s: version %s detected=%v, want R4 from the shape", f.Path, f.FHIRVersion, f.Detected)
		}
		if f.Gzip != strings.HasSuffix(f.Path, ".gz") {
			t.Errorf("%s: gzip=%v", f.Path, f.Gzip)
		}
	}
	if sum.Quarantined != 1 || sum.Quarantine != qpath {
		t.Errorf("quarantined %d in %q, want 1 in %s", sum.Quarantined, sum.Quarantine, qpath)
	}
	q, err := os.ReadFile(qpath)
	if err != nil || !bytes.Contains(q, []byte(`"line":5`)) || !bytes.Contains(q, []byte("coverage.ndjson")) {
		t.Errorf("quarantine file %s: %v", q, err)
	}
	// The manifest, the summary and an independent read of the Parquet agree.
	want := map[string]int64{schemas.TableEOB: 8, schemas.TableCoverage: 4, schemas.TableCoverageMonth: 48, schemas.TablePatient: 1}
	for table, n := range want {
		if sum.Rows[table] != n || int64(sum.Manifest.Tables[table]) != n {
			t.Errorf("%s: summary %d, manifest %d rows, want %d", table, sum.Rows[table], sum.Manifest.Tables[table], n)
		}
	}
	for table, n := range sum.Manifest.Tables {
		if got := len(readTable(t, dest, sum, table)); got != n {
			t.Errorf("%s: parquet-go read %d rows, manifest says %d", table, got, n)
		}
	}
	eob := readTable(t, dest, sum, schemas.TableEOB)
	var ids []string
	for _, r := range eob {
		ids = append(ids, r["eob_id"])
		if r["source_fhir_version"] != "R4" || r["export_job_id"] != sum.RunID {
			t.Errorf("%s: lineage %s %s", r["eob_id"], r["source_fhir_version"], r["export_job_id"])
		}
		if r["eob_id"] == "carrier-9991831999" && (r["claim_control_number"] != "74655592568216" || r["claim_type"] != "CARRIER") {
			t.Errorf("carrier row %v", r)
		}
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "carrier-9991831999,dme-2188888888,hha-2925555555,hospice-9992223422,inpatient-333333222222,outpatient-1234567890,pde-89,snf-777777777" {
		t.Errorf("eob ids %v", ids)
	}
	// The BFD samples' provider numbers are not valid NPIs: counted, not fatal with no limit.
	if sum.Warnings["eob_line.invalid_rendering_npi"] != 7 {
		t.Errorf("warnings %v, want 7 eob_line.invalid_rendering_npi", sum.Warnings)
	}
	rep, err := os.ReadFile(filepath.Join(dest, "_runs", sum.RunID, "report.html"))
	if err != nil || !bytes.Contains(rep, []byte(`<tr data-table="eob" data-rows="8">`)) || !bytes.Contains(rep, []byte(`id="warnings" data-value="7"`)) {
		t.Errorf("report.html: %v", err)
	}
	pat := readTable(t, dest, sum, schemas.TablePatient)
	if len(pat) != 1 || pat[0]["mbi"] != "3456789" {
		t.Errorf("patient %v", pat)
	}

	// Flattening the same files again replaces the run: same id, no second copy visible.
	again, err := Run(ctx, Options{Inputs: []string{in}, Destination: dest, QuarantinePath: qpath, MaxQuarantined: 1, MaxWarnings: -1})
	if err != nil || again.RunID != sum.RunID {
		t.Fatalf("rerun: %v (run %s vs %s)", err, again.RunID, sum.RunID)
	}
	var parquet int
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.Contains(p, string(filepath.Separator)+"_") {
			parquet++
		}
		return nil
	})
	if parquet != len(again.Manifest.Files) {
		t.Errorf("%d visible parquet files after a rerun, manifest lists %d", parquet, len(again.Manifest.Files))
	}
}

// TestFlattenThresholdPublishesNothing: more bad lines than allowed fails the run and leaves
// nothing where readers look.
func TestFlattenThresholdPublishesNothing(t *testing.T) {
	in := r4Inputs(t)
	dest := t.TempDir()
	_, err := Run(context.Background(), Options{Inputs: []string{in}, Destination: dest, QuarantinePath: filepath.Join(t.TempDir(), "q.ndjson")})
	if !errors.Is(err, ErrBadData) {
		t.Fatalf("err %v, want ErrBadData", err)
	}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			if !strings.HasPrefix(rel, "_") {
				t.Errorf("visible after a failed run: %s", rel)
			}
		}
		return nil
	})
}

func TestFlattenOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, Options{Destination: t.TempDir()}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no inputs: %v", err)
	}
	if _, err := Run(ctx, Options{Inputs: []string{filepath.Join(t.TempDir(), "missing.ndjson")}, Destination: t.TempDir()}); !errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Run(ctx, Options{Inputs: []string{r4Inputs(t)}, Destination: t.TempDir(), FHIRVersion: "R5"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("R5: %v", err)
	}
	// STU3 forced on R4 files still runs (the user said so) and stamps STU3 in lineage.
	dest := t.TempDir()
	sum, err := Run(ctx, Options{Inputs: []string{r4Inputs(t)}, Destination: dest, FHIRVersion: "stu3", MaxQuarantined: -1, MaxWarnings: -1, QuarantinePath: filepath.Join(t.TempDir(), "q")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readTable(t, dest, sum, schemas.TableEOB) {
		if r["source_fhir_version"] != "STU3" {
			t.Fatalf("lineage %v", r["source_fhir_version"])
		}
	}
}

// TestFlattenWarningThreshold: more checker warnings than allowed fails the run, nothing published.
func TestFlattenWarningThreshold(t *testing.T) {
	dest := t.TempDir()
	_, err := Run(context.Background(), Options{Inputs: []string{r4Inputs(t)}, Destination: dest, MaxQuarantined: 1, MaxWarnings: 6,
		QuarantinePath: filepath.Join(t.TempDir(), "q.ndjson")})
	if !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), "invalid_rendering_npi") {
		t.Fatalf("err %v, want ErrBadData naming the warning", err)
	}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if rel, _ := filepath.Rel(dest, p); err == nil && !d.IsDir() && !strings.HasPrefix(rel, "_") {
			t.Errorf("visible after a failed run: %s", rel)
		}
		return nil
	})
}

// TestFlattenMaxZeroKeepsTheExactLine: with the default limit of 0 the first bad line fails the
// run; the error names the quarantine file, which holds that line's exact bytes (invalid UTF-8
// as raw_base64) and its file and line number.
func TestFlattenMaxZeroKeepsTheExactLine(t *testing.T) {
	in := filepath.Join(t.TempDir(), "p.ndjson")
	bad := []byte("{\"resourceType\":\"Patient\",\"id\":\"p\xff2\",\"birthDate\":\"no\"}")
	body := append([]byte(`{"resourceType":"Patient","id":"p1","birthDate":"1950-01-02"}`+"\n"), append(bad, '\n')...)
	if err := os.WriteFile(in, body, 0o600); err != nil {
		t.Fatal(err)
	}
	qpath := filepath.Join(t.TempDir(), "q", "quarantine.ndjson")
	_, err := Run(context.Background(), Options{Inputs: []string{in}, Destination: t.TempDir(), QuarantinePath: qpath})
	if !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), qpath) || !strings.Contains(err.Error(), in+" line 2") {
		t.Fatalf("err %v: want bad data naming %s and %s line 2", err, qpath, in)
	}
	b, err := os.ReadFile(qpath)
	if err != nil {
		t.Fatalf("the quarantine file the error names: %v", err)
	}
	var rec struct {
		File      string `json:"file"`
		Line      int    `json:"line"`
		RawBase64 string `json:"raw_base64"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(rec.RawBase64)
	if rec.File != in || rec.Line != 2 || !bytes.Equal(raw, bad) {
		t.Fatalf("quarantined %s line %d %q, want %s line 2 %q", rec.File, rec.Line, raw, in, bad)
	}
}
