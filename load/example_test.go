package load_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/sink"
)

func ExampleNewRun() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dpcetl-load-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	s, err := sink.Open(ctx, dir) // or "s3://bucket/prefix?region=us-east-1"
	if err != nil {
		panic(err)
	}

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "mbi", Type: arrow.BinaryTypes.String},
		{Name: "birth_date", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"1S00E00AA00", "1S00E00AA01"}, nil)
	b.Field(1).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32FromTime(time.Date(1950, 3, 1, 0, 0, 0, 0, time.UTC)), 0}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	run, err := load.NewRun(s, load.RunOptions{
		RunID:           "job-1-g1",
		ExportDate:      time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Group:           "g1",
		JobID:           "job-1",
		TransactionTime: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
		SchemaVersion:   "1",
	})
	if err != nil {
		panic(err)
	}
	defer run.Abort(ctx) // no-op after a successful Commit
	if err := run.Write(ctx, "patient", rec); err != nil {
		panic(err)
	}
	m, err := run.Commit(ctx)
	if err != nil {
		panic(err)
	}
	for _, f := range m.Files {
		fmt.Println(f.Key, f.Rows)
	}
	objs, _ := s.List(ctx, "")
	for _, o := range objs {
		fmt.Println(o.Key)
	}
	// Output:
	// patient/export_date=2026-01-02/group_id=g1/part-00000-job-1-g1.parquet 2
	// _runs/job-1-g1/_SUCCESS
	// _runs/job-1-g1/_manifest.json
	// patient/export_date=2026-01-02/group_id=g1/part-00000-job-1-g1.parquet
}
