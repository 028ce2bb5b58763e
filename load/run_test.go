package load_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dpcetl/dpcetl/load"
	lparquet "github.com/dpcetl/dpcetl/load/parquet"
)

func TestRoundTripLogicalTypesAndValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, _ := fileSink(t)
	o := runOptions("run-1")
	o.Allocator = mem
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < 3000; start += 1000 {
		rec := claimsRecord(mem, start, 1000)
		if err := run.Write(ctxT(t), "claims", rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "claims/export_date=2026-01-02/group_id=grp-0001/part-00000-run-1.parquet"
	if got := readerVisible(t, s); !slices.Equal(got, []string{want}) {
		t.Fatalf("visible = %q, want [%s]", got, want)
	}
	if len(m.Files) != 1 || m.Files[0].Rows != 3000 || m.Tables["claims"] != 3000 {
		t.Fatalf("manifest = %+v", m)
	}
	data := readObject(t, s, want)
	sum := sha256.Sum256(data)
	if m.Files[0].SHA256 != hex.EncodeToString(sum[:]) || m.Files[0].Bytes != int64(len(data)) {
		t.Errorf("manifest sha/bytes %s/%d, file %x/%d", m.Files[0].SHA256, m.Files[0].Bytes, sum, len(data))
	}
	f := openParquet(t, data)
	wantTypes := map[string]string{
		"claim_id":    "BYTE_ARRAY STRING",
		"claim_type":  "BYTE_ARRAY STRING",
		"hcpcs_code":  "BYTE_ARRAY STRING",
		"from_date":   "INT32 DATE",
		"thru_date":   "INT32 DATE",
		"paid_amount": "INT64 DECIMAL(15,2)",
		"line_num":    "INT32 INT(32,true)",
		"ingested_at": "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)",
	}
	for _, fld := range f.Schema().Fields() {
		got := fld.Type().Kind().String() + " " + fld.Type().LogicalType().String()
		if got != wantTypes[fld.Name()] {
			t.Errorf("column %s: type %q, want %q", fld.Name(), got, wantTypes[fld.Name()])
		}
	}
	if n := checkRows(t, f, 0); n != 3000 {
		t.Errorf("read %d rows, want 3000", n)
	}
	for k, v := range map[string]string{
		load.MetaSchemaVersion:   "v3",
		load.MetaVersion:         "0.1.0-test",
		load.MetaExportJob:       "job-42",
		load.MetaTransactionTime: "2026-01-02T03:04:05.123456Z",
		load.MetaRunID:           "run-1",
		load.MetaTable:           "claims",
	} {
		if got, ok := f.Lookup(k); !ok || got != v {
			t.Errorf("key-value %s = %q (%v), want %q", k, got, ok, v)
		}
	}
	// Statistics on, dictionary only where tagged, zstd by default.
	md := f.Metadata()
	for _, cc := range md.RowGroups[0].Columns {
		name := cc.MetaData.PathInSchema[0]
		if cc.MetaData.Codec != format.Zstd {
			t.Errorf("%s codec = %v, want ZSTD", name, cc.MetaData.Codec)
		}
		if len(cc.MetaData.Statistics.MinValue) == 0 || len(cc.MetaData.Statistics.MaxValue) == 0 {
			t.Errorf("%s has no min/max statistics", name)
		}
		dict := slices.Contains(cc.MetaData.Encoding, format.RLEDictionary)
		if dict != (name == "claim_type") {
			t.Errorf("%s dictionary encoded = %v, want %v (encodings %v)", name, dict, name == "claim_type", cc.MetaData.Encoding)
		}
	}
	got, err := load.ReadManifest(ctxT(t), s, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Files[0] != m.Files[0] || got.TransactionTime != "2026-01-02T03:04:05.123456Z" || got.JobID != "job-42" || got.SchemaVersion != "v3" {
		t.Errorf("stored manifest = %+v", got)
	}
	// Staging is gone after commit.
	if objs, _ := s.List(ctxT(t), load.StagingDir+"/"); len(objs) != 0 {
		t.Errorf("staging not cleaned: %v", objs)
	}
}

func TestCompressionSelectable(t *testing.T) {
	for _, tc := range []struct {
		c    lparquet.Compression
		want format.CompressionCodec
	}{
		{lparquet.Zstd, format.Zstd},
		{lparquet.Snappy, format.Snappy},
		{lparquet.Gzip, format.Gzip},
		{lparquet.None, format.Uncompressed},
		{"", format.Zstd},
	} {
		t.Run(string(tc.c), func(t *testing.T) {
			s, _ := fileSink(t)
			o := runOptions("r")
			o.Compression = tc.c
			m := commitClaims(t, s, o, 100, 100)
			f := openParquet(t, readObject(t, s, m.Files[0].Key))
			for _, cc := range f.Metadata().RowGroups[0].Columns {
				if cc.MetaData.Codec != tc.want {
					t.Errorf("codec %v, want %v", cc.MetaData.Codec, tc.want)
				}
			}
			if n := checkRows(t, f, 0); n != 100 {
				t.Errorf("rows = %d", n)
			}
		})
	}
	if _, err := lparquet.ParseCompression("lzo"); err == nil {
		t.Error("ParseCompression(lzo) succeeded")
	}
}

func TestFilesRollOverAtTargetSize(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, _ := fileSink(t)
	o := runOptions("roll")
	o.Allocator = mem
	o.TargetFileBytes = 32 << 10
	o.RowGroupRows = 500
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	const total = 20000
	for start := 0; start < total; start += 500 {
		rec := claimsRecord(mem, start, 500)
		err := run.Write(ctxT(t), "claims", rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	rec := claimsRecord(mem, 0, 10)
	if err := run.Write(ctxT(t), "other_table", rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) < 3 {
		t.Fatalf("%d files, want several rolled files", len(m.Files))
	}
	var rows int64
	next := 0
	for i, mf := range m.Files {
		if mf.Table != "claims" {
			continue
		}
		want := fmt.Sprintf("claims/export_date=2026-01-02/group_id=grp-0001/part-%05d-roll.parquet", i)
		if mf.Key != want {
			t.Errorf("file %d key %q, want %q", i, mf.Key, want)
		}
		data := readObject(t, s, mf.Key)
		f := openParquet(t, data)
		if got := checkRows(t, f, next); int64(got) != mf.Rows {
			t.Errorf("%s: read %d rows, manifest says %d", mf.Key, got, mf.Rows)
		}
		next += int(mf.Rows)
		rows += mf.Rows
		// A file may exceed the target by at most one batch's worth.
		if mf.Bytes > 3*o.TargetFileBytes {
			t.Errorf("%s is %d bytes, target %d", mf.Key, mf.Bytes, o.TargetFileBytes)
		}
	}
	if rows != total || m.Tables["claims"] != total || m.Tables["other_table"] != 10 {
		t.Errorf("rows = %d, tables %v", rows, m.Tables)
	}
}

func TestRerunReplacesOwnFilesOnly(t *testing.T) {
	s, _ := fileSink(t)
	write := func(id string, rows int, target int64) load.Manifest {
		o := runOptions(id)
		o.TargetFileBytes = target
		o.RowGroupRows = 500
		return commitClaims(t, s, o, rows, 500)
	}
	first := write("run-a", 8000, 32<<10)
	other := write("run-b", 1000, 1<<30)
	if len(first.Files) < 2 {
		t.Fatalf("first attempt wrote %d files, want several", len(first.Files))
	}
	second := write("run-a", 1200, 1<<30) // the rerun: fewer rows, one file
	visible := readerVisible(t, s)
	var want []string
	for _, f := range append(second.Files, other.Files...) {
		want = append(want, f.Key)
	}
	slices.Sort(want)
	if !slices.Equal(visible, want) {
		t.Fatalf("visible after rerun = %q, want %q", visible, want)
	}
	var rows int64
	for _, k := range visible {
		rows += openParquet(t, readObject(t, s, k)).NumRows()
	}
	if rows != 1200+1000 {
		t.Errorf("rows visible = %d, want %d (no duplicates from the first attempt)", rows, 2200)
	}
	runs, err := load.CommittedRuns(ctxT(t), s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(runs, []string{"run-a", "run-b"}) {
		t.Errorf("committed runs = %q", runs)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s, dir := fileSink(t)
	run := writeClaims(t, s, runOptions("ab"), 100, 100)
	if err := run.Abort(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if objs, _ := s.List(ctxT(t), ""); len(objs) != 0 {
		t.Errorf("objects after abort: %v", objs)
	}
	assertNoFiles(t, dir)
	if _, err := run.Commit(ctxT(t)); !errors.Is(err, load.ErrRunClosed) {
		t.Errorf("Commit after Abort = %v, want ErrRunClosed", err)
	}
}

func TestFailedWriteFailsRunAndLeavesNothing(t *testing.T) {
	s, dir := fileSink(t)
	run := writeClaims(t, s, runOptions("bad"), 100, 100)
	// A batch with another schema for the same table fails the run.
	other := nanosRecord(t, 1000)
	defer other.Release()
	err := run.Write(ctxT(t), "claims", other)
	if !errors.Is(err, load.ErrSchemaMismatch) {
		t.Fatalf("Write with another schema = %v, want ErrSchemaMismatch", err)
	}
	if _, err := run.Commit(ctxT(t)); !errors.Is(err, load.ErrRunClosed) {
		t.Errorf("Commit after failure = %v, want ErrRunClosed", err)
	}
	assertNoFiles(t, dir)
}

// The trap: pqarrow closes its writer when a write fails. The sink writer must not commit then.
func TestParquetWriteErrorDoesNotCommit(t *testing.T) {
	s, dir := fileSink(t)
	run, err := load.NewRun(s, runOptions("trap"))
	if err != nil {
		t.Fatal(err)
	}
	rec := nanosRecord(t, 1_000_000_001) // not representable in micros: pqarrow refuses to truncate
	defer rec.Release()
	err = run.Write(ctxT(t), "events", rec)
	if err == nil { // the encoder runs behind Write: the error may come with Commit
		_, err = run.Commit(ctxT(t))
	}
	if err == nil {
		t.Fatal("write of a nanosecond value that would be truncated succeeded")
	}
	if !strings.Contains(err.Error(), "events/export_date=2026-01-02/group_id=grp-0001/part-00000-trap.parquet") {
		t.Errorf("error does not name the object: %v", err)
	}
	assertNoFiles(t, dir)
}

func TestInvalidOptions(t *testing.T) {
	s, _ := fileSink(t)
	for name, mut := range map[string]func(*load.RunOptions){
		"empty run id":    func(o *load.RunOptions) { o.RunID = "" },
		"slash in run id": func(o *load.RunOptions) { o.RunID = "a/b" },
		"no date":         func(o *load.RunOptions) { o.ExportDate = time.Time{} },
		"slash in group":  func(o *load.RunOptions) { o.Group = "a/b" },
		"no group":        func(o *load.RunOptions) { o.Group = "" },
		"codec":           func(o *load.RunOptions) { o.Compression = "lz4" },
	} {
		o := runOptions("x")
		mut(&o)
		if _, err := load.NewRun(s, o); !errors.Is(err, load.ErrInvalidOptions) {
			t.Errorf("%s: NewRun = %v, want ErrInvalidOptions", name, err)
		}
	}
	run, _ := load.NewRun(s, runOptions("x"))
	rec := claimsRecord(memory.DefaultAllocator, 0, 1)
	defer rec.Release()
	for _, table := range []string{"_staging", "../x", "a/b", ""} {
		if err := run.Write(ctxT(t), table, rec); err == nil {
			t.Errorf("Write to table %q succeeded", table)
		}
	}
}

func TestConcurrentWritesToSeveralTables(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, _ := fileSink(t)
	o := runOptions("conc")
	o.Allocator = mem
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	tables := []string{"eob", "eob_line", "patient", "coverage"}
	var wg sync.WaitGroup
	errs := make(chan error, len(tables))
	for _, table := range tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := 0; start < 2000; start += 250 {
				rec := claimsRecord(mem, start, 250)
				err := run.Write(ctxT(t), table, rec)
				rec.Release()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if n := checkRows(t, openParquet(t, readObject(t, s, f.Key)), 0); n != 2000 {
			t.Errorf("%s: %d rows, want 2000", f.Key, n)
		}
	}
	if len(m.Files) != len(tables) {
		t.Errorf("%d files, want %d", len(m.Files), len(tables))
	}
}

func TestCancelledContextFailsRunAndLeavesNothing(t *testing.T) {
	for _, when := range []string{"write", "commit"} {
		t.Run(when, func(t *testing.T) {
			s, dir := fileSink(t)
			run, err := load.NewRun(s, runOptions("cancel"))
			if err != nil {
				t.Fatal(err)
			}
			rec := claimsRecord(memory.DefaultAllocator, 0, 100)
			defer rec.Release()
			if err := run.Write(ctxT(t), "claims", rec); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if when == "write" {
				err = run.Write(ctx, "claims", rec)
			} else {
				_, err = run.Commit(ctx)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s with a cancelled context = %v, want context.Canceled", when, err)
			}
			if _, err := run.Commit(ctxT(t)); !errors.Is(err, load.ErrRunClosed) {
				t.Errorf("Commit after cancellation = %v, want ErrRunClosed", err)
			}
			assertNoFiles(t, dir)
		})
	}
}
