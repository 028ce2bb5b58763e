package load_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pgo "github.com/parquet-go/parquet-go"

	"github.com/dpcetl/dpcetl/load"
	lparquet "github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/load/sink"
)

var (
	exportDate = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	txTime     = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
)

// claimsSchema is a small claims-like table covering every logical type load must get right.
func claimsSchema() *arrow.Schema {
	dict := arrow.NewMetadata([]string{lparquet.DictionaryKey}, []string{"true"})
	return arrow.NewSchema([]arrow.Field{
		{Name: "claim_id", Type: arrow.BinaryTypes.String},
		{Name: "claim_type", Type: arrow.BinaryTypes.String, Metadata: dict},
		{Name: "hcpcs_code", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "from_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "thru_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "paid_amount", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "line_num", Type: arrow.PrimitiveTypes.Int32},
		{Name: "ingested_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
}

// row i of the claims table, as the test expects to read it back.
type claimRow struct {
	id, typ  string
	hcpcs    *string
	from     int32 // days since epoch
	thru     *int32
	paid     *int64 // unscaled cents
	line     int32
	ingested int64 // micros
}

var claimTypes = []string{"carrier", "inpatient", "outpatient", "dme"}

func wantRow(i int) claimRow {
	r := claimRow{
		id:       fmt.Sprintf("C%09d", i),
		typ:      claimTypes[i%len(claimTypes)],
		from:     int32(20000 + i%400),
		line:     int32(i%7 + 1),
		ingested: txTime.UnixMicro() + int64(i),
	}
	if i%5 != 0 {
		h := fmt.Sprintf("%05d", i%1000) // leading zeros must survive
		r.hcpcs = &h
	}
	if i%3 != 0 {
		d := r.from + 3
		r.thru = &d
	}
	if i%11 != 0 {
		// Up to 13 integer digits: exercises the full DECIMAL(15,2) range, negatives too.
		p := int64(i)*100_003_717 + 99
		if i%2 == 1 {
			p = -p
		}
		if i == 1 {
			p = 999_999_999_999_99 // the largest DECIMAL(15,2)
		}
		r.paid = &p
	}
	return r
}

// claimsRecord builds rows [start, start+n) of the claims table.
func claimsRecord(mem memory.Allocator, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, claimsSchema())
	defer b.Release()
	for i := start; i < start+n; i++ {
		r := wantRow(i)
		b.Field(0).(*array.StringBuilder).Append(r.id)
		b.Field(1).(*array.StringBuilder).Append(r.typ)
		if r.hcpcs != nil {
			b.Field(2).(*array.StringBuilder).Append(*r.hcpcs)
		} else {
			b.Field(2).AppendNull()
		}
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32(r.from))
		if r.thru != nil {
			b.Field(4).(*array.Date32Builder).Append(arrow.Date32(*r.thru))
		} else {
			b.Field(4).AppendNull()
		}
		if r.paid != nil {
			b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(*r.paid))
		} else {
			b.Field(5).AppendNull()
		}
		b.Field(6).(*array.Int32Builder).Append(r.line)
		b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(r.ingested))
	}
	return b.NewRecordBatch()
}

func runOptions(id string) load.RunOptions {
	return load.RunOptions{
		RunID:           id,
		ExportDate:      exportDate,
		Group:           "grp-0001",
		JobID:           "job-42",
		TransactionTime: txTime,
		SchemaVersion:   "v3",
		DPCETLVersion:   "0.1.0-test",
	}
}

// writeClaims opens a run with o and writes claims rows [0, rows) to table "claims" in batches
// of batch rows.
func writeClaims(t *testing.T, s sink.Sink, o load.RunOptions, rows, batch int) *load.Run {
	t.Helper()
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < rows; start += batch {
		rec := claimsRecord(memory.DefaultAllocator, start, min(batch, rows-start))
		err := run.Write(ctxT(t), "claims", rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	return run
}

// commitClaims is writeClaims and a Commit that must succeed.
func commitClaims(t *testing.T, s sink.Sink, o load.RunOptions, rows, batch int) load.Manifest {
	t.Helper()
	m, err := writeClaims(t, s, o, rows, batch).Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func fileSink(t *testing.T) (*sink.File, string) {
	dir := t.TempDir()
	s, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func readObject(t *testing.T, s sink.Sink, key string) []byte {
	t.Helper()
	rc, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openParquet(t *testing.T, data []byte) *pgo.File {
	t.Helper()
	f, err := pgo.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	return f
}

// readerVisible lists keys a reader globbing the data layout would see: everything
// outside the underscore directories.
func readerVisible(t *testing.T, s sink.Sink) []string {
	t.Helper()
	objs, err := s.List(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, "_") {
			out = append(out, o.Key)
		}
	}
	return out
}

// readRows reads every row of a parquet file with parquet-go and checks them against wantRow,
// starting at row index first. It returns the number of rows read.
func checkRows(t *testing.T, f *pgo.File, first int) int {
	t.Helper()
	cols := map[string]int{}
	for i, path := range f.Schema().Columns() {
		cols[path[0]] = i
	}
	n := 0
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]pgo.Row, 256)
		for {
			k, err := rows.ReadRows(buf)
			for _, row := range buf[:k] {
				checkRow(t, first+n, row, cols)
				n++
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
	return n
}

func checkRow(t *testing.T, i int, row pgo.Row, cols map[string]int) {
	t.Helper()
	w := wantRow(i)
	v := func(name string) pgo.Value { return row[cols[name]] }
	str := func(name string) *string {
		if v(name).IsNull() {
			return nil
		}
		s := string(v(name).ByteArray())
		return &s
	}
	eqp := func(name string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("row %d %s = %v, want %v", i, name, got, want)
		}
	}
	deref := func(p any) any {
		switch p := p.(type) {
		case *string:
			if p == nil {
				return "NULL"
			}
			return *p
		case *int32:
			if p == nil {
				return "NULL"
			}
			return *p
		case *int64:
			if p == nil {
				return "NULL"
			}
			return *p
		}
		return p
	}
	eqp("claim_id", deref(str("claim_id")), w.id)
	eqp("claim_type", deref(str("claim_type")), w.typ)
	eqp("hcpcs_code", deref(str("hcpcs_code")), deref(w.hcpcs))
	eqp("from_date", v("from_date").Int32(), w.from)
	if v("thru_date").IsNull() {
		eqp("thru_date", "NULL", deref(w.thru))
	} else {
		eqp("thru_date", v("thru_date").Int32(), deref(w.thru))
	}
	if v("paid_amount").IsNull() {
		eqp("paid_amount", "NULL", deref(w.paid))
	} else {
		eqp("paid_amount", v("paid_amount").Int64(), deref(w.paid))
	}
	eqp("line_num", v("line_num").Int32(), w.line)
	eqp("ingested_at", v("ingested_at").Int64(), w.ingested)
}

func nanosRecord(t *testing.T, v int64) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
	return b.NewRecordBatch()
}

// assertNoFiles fails unless dir holds no regular files at all (no partial, temp or staged file).
func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files left on disk: %q", files)
	}
}
