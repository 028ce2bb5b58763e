package runner_test

import (
	"context"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// A 1024-bit key shared by every test: key generation is the slowest part of provisioning.
var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func sharedKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := dpc.GenerateKey(1024)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// fixture is a provisioned sandbox plus a config pointing at it through credential files.
type fixture struct {
	srv *dpctest.Server
	sb  *sandbox.Sandbox
	cfg config.Config
	dir string
}

func newFixture(t *testing.T, patients int, opts ...dpctest.Option) *fixture {
	t.Helper()
	return newFixtureN(t, patients, 1, opts...)
}

// newFixtureN provisions practitioners attribution groups sharing the patients.
func newFixtureN(t *testing.T, patients, practitioners int, opts ...dpctest.Option) *fixture {
	t.Helper()
	base := []dpctest.Option{dpctest.WithMinKeyBits(1024), dpctest.WithJobDuration(50 * time.Millisecond)}
	srv := dpctest.NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	sb, err := sandbox.Provision(ctx, srv.URL, sandbox.Options{Key: sharedKey(t), Patients: patients, Practitioners: practitioners, Now: srv.Clock().Now})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	dir := t.TempDir()
	tok := filepath.Join(dir, "client_token")
	key := filepath.Join(dir, "private.pem")
	if err := os.WriteFile(tok, []byte(sb.Credentials.ClientToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, sb.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.API = srv.BaseURL()
	cfg.Credentials = config.Credentials{ClientTokenFile: tok, PrivateKeyFile: key, KeyID: sb.KeyID}
	cfg.Groups = config.Groups{IDs: sb.GroupIDs}
	cfg.Destination = filepath.Join(dir, "out")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.PollInterval = config.Duration(20 * time.Millisecond)
	cfg.MaxAttempts = 2
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, sb: sb, cfg: cfg, dir: dir}
}

func (f *fixture) run(t *testing.T, cfg config.Config) (*runner.Summary, error) {
	t.Helper()
	ctx := context.Background()
	r, err := runner.New(ctx, runner.Options{Config: cfg, Now: f.srv.Clock().Now})
	if err != nil {
		t.Fatalf("runner.New: %v", err)
	}
	defer r.Close()
	return r.Run(ctx)
}

// readTable reads every Parquet file of a table under the destination.
func readTable(t *testing.T, dest, table string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	files, _ := filepath.Glob(filepath.Join(dest, table, "export_date=*", "group_id=*", "*.parquet"))
	for _, p := range files {
		rows = append(rows, readParquet(t, p)...)
	}
	return rows
}

func readParquet(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1024)
	defer tr.Release()
	var out []map[string]string
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := map[string]string{}
			for c, fld := range rec.Schema().Fields() {
				col := rec.Column(c)
				if col.IsNull(i) {
					continue
				}
				row[fld.Name] = valueStr(col, i)
			}
			out = append(out, row)
		}
	}
	return out
}

func valueStr(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		return a.Value(i).ToString(dt.Scale)
	}
	return col.ValueStr(i)
}

func TestEndToEndParquetMatchesExport(t *testing.T) {
	f := newFixture(t, 12)
	sum, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(sum.Groups) != 1 || sum.Groups[0].Status != "ok" {
		t.Fatalf("groups: %+v", sum.Groups)
	}
	g := sum.Groups[0]
	// Each root table holds exactly what the export's manifest counted.
	for table, typ := range map[string]string{"patient": "Patient", "coverage": "Coverage", "eob": "ExplanationOfBenefit", "export_error": "OperationOutcome"} {
		rows := readTable(t, f.cfg.Destination, table)
		if len(rows) != g.Resources[typ] || int64(len(rows)) != g.Rows[table] {
			t.Errorf("%s: %d rows in Parquet, summary %d, manifest counted %d %s", table, len(rows), g.Rows[table], g.Resources[typ], typ)
		}
	}
	if g.Resources["Patient"] == 0 || g.Resources["ExplanationOfBenefit"] == 0 {
		t.Fatalf("empty export: %+v", g.Resources)
	}
	// Known values from the generator's own record came through exactly.
	tx, _ := time.Parse(time.RFC3339Nano, g.TransactionTime)
	gen := f.srv.Generator()
	patients := readTable(t, f.cfg.Destination, "patient")
	eobs := readTable(t, f.cfg.Destination, "eob")
	lines := readTable(t, f.cfg.Destination, "eob_line")
	byMBI := map[string]map[string]string{}
	for _, p := range patients {
		byMBI[p["mbi"]] = p
	}
	byClaim := map[string]map[string]string{}
	for _, e := range eobs {
		byClaim[e["claim_id"]] = e
	}
	checked, paid, wantLines := 0, 0, 0
	for _, mbi := range f.sb.MBIs {
		rec := gen.Record(mbi)
		if rec.Suppressed {
			if _, ok := byMBI[mbi]; ok {
				t.Errorf("suppressed %s has a patient row", mbi)
			}
			continue
		}
		p, ok := byMBI[mbi]
		if !ok {
			t.Errorf("MBI %s missing from patient", mbi)
			continue
		}
		if p["bene_id"] != rec.Patient.BeneID || p["family_name"] != rec.Patient.Family || p["birth_date"] != rec.Patient.BirthDate {
			t.Errorf("patient %s: got %v, want bene %s %s %s", mbi, p, rec.Patient.BeneID, rec.Patient.Family, rec.Patient.BirthDate)
		}
		for _, c := range rec.Claims {
			if c.LastUpdated.After(tx) {
				continue
			}
			wantLines += len(c.Items)
			e, ok := byClaim[c.ClaimID]
			if !ok {
				t.Errorf("claim %s of %s missing", c.ClaimID, mbi)
				continue
			}
			if c.PaymentAmount != "" {
				paid++
				if e["payment_amount"] != c.PaymentAmount {
					t.Errorf("claim %s payment_amount = %q, want %q", c.ClaimID, e["payment_amount"], c.PaymentAmount)
				}
			}
			if e["export_job_id"] != g.JobID || e["source_fhir_version"] != "STU3" {
				t.Errorf("claim %s lineage = %q %q", c.ClaimID, e["export_job_id"], e["source_fhir_version"])
			}
			checked++
		}
	}
	if checked == 0 || paid == 0 {
		t.Fatalf("checked %d claims, %d payment amounts", checked, paid)
	}
	if len(lines) != wantLines {
		t.Errorf("eob_line: %d rows, generator has %d items", len(lines), wantLines)
	}
	// The watermark sits beside the output and equals the job's transactionTime.
	b, err := os.ReadFile(filepath.Join(f.cfg.Destination, "_state", "groups", f.sb.GroupIDs[0], "watermark.json"))
	if err != nil || !strings.Contains(string(b), g.TransactionTime) {
		t.Fatalf("watermark: %v %s", err, b)
	}
	// The state directory forgot the finished job.
	if left, _ := filepath.Glob(filepath.Join(f.cfg.StateDir, "jobs", "*.json")); len(left) != 0 {
		t.Errorf("job state left behind: %v", left)
	}
	// An immediate incremental rerun has (almost) nothing new: it still commits, moves the
	// watermark and adds no duplicate.
	again, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("empty incremental run: %v", err)
	}
	if again.Groups[0].Since != g.TransactionTime || again.Groups[0].Watermark == g.TransactionTime {
		t.Fatalf("empty run: since %q watermark %q (previous %q)", again.Groups[0].Since, again.Groups[0].Watermark, g.TransactionTime)
	}
	eobIDs(t, f)
}
