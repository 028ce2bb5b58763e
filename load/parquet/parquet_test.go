package parquet_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pgo "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dpcetl/dpcetl/load/parquet"
)

func ExampleNewWriter() {
	schema := arrow.NewSchema([]arrow.Field{{Name: "code", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"00123", "0456"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, schema, parquet.Options{Metadata: map[string]string{"k": "v"}})
	if err != nil {
		panic(err)
	}
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Println(w.Rows(), string(buf.Bytes()[:4]), int64(buf.Len()) == w.BytesWritten())
	// Output: 2 PAR1 true
}

// closeTracker fails the test if anyone closes it: pqarrow must never close the destination.
type closeTracker struct {
	bytes.Buffer
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestWriterNeverClosesDestination(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.TimestampBuilder).Append(1) // 1ns: cannot be stored as micros
	rec := b.NewRecordBatch()
	defer rec.Release()
	dst := &closeTracker{}
	w, err := parquet.NewWriter(dst, schema, parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err == nil {
		t.Fatal("truncating write succeeded")
	}
	_ = w.Close()
	if dst.closed {
		t.Fatal("the parquet writer closed its destination")
	}
}

func TestDictionaryTypedAndTaggedColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "state", Type: dictType},
		{Name: "status", Type: arrow.BinaryTypes.String, Metadata: arrow.NewMetadata([]string{parquet.DictionaryKey}, []string{"true"})},
		{Name: "id", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range 1000 {
		if err := b.Field(0).(*array.BinaryDictionaryBuilder).AppendString([]string{"MD", "VA", "DC"}[i%3]); err != nil {
			t.Fatal(err)
		}
		b.Field(1).(*array.StringBuilder).Append([]string{"active", "cancelled"}[i%2])
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("id-%06d", i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, schema, parquet.Options{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := pgo.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"state": true, "status": true, "id": false}
	for _, cc := range f.Metadata().RowGroups[0].Columns {
		name := cc.MetaData.PathInSchema[0]
		got := false
		for _, e := range cc.MetaData.Encoding {
			got = got || e == format.RLEDictionary
		}
		if got != want[name] {
			t.Errorf("%s: dictionary = %v, want %v", name, got, want[name])
		}
	}
	// The dictionary column reads back as plain strings.
	rows := f.RowGroups()[0].Rows()
	defer rows.Close()
	buf2 := make([]pgo.Row, 3)
	n, _ := rows.ReadRows(buf2)
	if n != 3 || string(buf2[2][0].ByteArray()) != "DC" {
		t.Errorf("read back %d rows, third state %q", n, buf2[2][0].ByteArray())
	}
}

func TestAbortReleasesMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range 10000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	w, err := parquet.NewWriter(&bytes.Buffer{}, schema, parquet.Options{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Write(rec); err == nil {
		t.Error("Write after Abort succeeded")
	}
}

func TestRejectsUnsupportedTypes(t *testing.T) {
	for _, f := range []arrow.Field{
		{Name: "h", Type: arrow.FixedWidthTypes.Float16},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 5, Scale: 7}},
	} {
		if _, err := parquet.NewWriter(&bytes.Buffer{}, arrow.NewSchema([]arrow.Field{f}, nil), parquet.Options{}); err == nil {
			t.Errorf("%s accepted", f.Type)
		}
	}
}

// Batches from the transform engine carry their own dictionaries; a file must hold them all.
func TestDictionaryChangesBetweenBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "code", Type: dictType, Nullable: true}}, nil)
	batch := func(vals ...string) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for _, v := range vals {
			if v == "" {
				b.Field(0).AppendNull()
				continue
			}
			if err := b.Field(0).(*array.BinaryDictionaryBuilder).AppendString(v); err != nil {
				t.Fatal(err)
			}
		}
		return b.NewRecordBatch()
	}
	want := [][]string{{"00123", "0456", "00123"}, {"99213", "", "00123"}}
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, schema, parquet.Options{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	for _, vals := range want {
		rec := batch(vals...)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := pgo.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		rb := make([]pgo.Row, 10)
		n, _ := rows.ReadRows(rb)
		for _, r := range rb[:n] {
			if r[0].IsNull() {
				got = append(got, "")
			} else {
				got = append(got, string(r[0].ByteArray()))
			}
		}
		rows.Close()
	}
	if fmt.Sprint(got) != fmt.Sprint(append(want[0], want[1]...)) {
		t.Errorf("read %q, want %q", got, want)
	}
}

func TestRowGroupsEndAtByteLimit(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var buf bytes.Buffer
	// 8 bytes per row: a 100 KB limit means 12800 rows per row group.
	w, err := parquet.NewWriter(&buf, schema, parquet.Options{RowGroupBytes: 100 << 10, RowGroupRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	next := int64(0)
	for _, n := range []int{30000, 5, 40000, 30000} {
		for range n {
			b.Field(0).(*array.Int64Builder).Append(next)
			next++
		}
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := pgo.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != next {
		t.Fatalf("%d rows, want %d", f.NumRows(), next)
	}
	want := int64(0)
	for i, rg := range f.RowGroups() {
		if rg.NumRows() > 12800 {
			t.Errorf("row group %d has %d rows, limit 12800", i, rg.NumRows())
		}
		rows := rg.Rows()
		rb := make([]pgo.Row, 1000)
		for {
			n, err := rows.ReadRows(rb)
			for _, r := range rb[:n] {
				if r[0].Int64() != want {
					t.Fatalf("row %d = %d: order lost", want, r[0].Int64())
				}
				want++
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	if want != next || len(f.RowGroups()) < 8 {
		t.Errorf("read %d rows in %d row groups", want, len(f.RowGroups()))
	}
}
