package sink_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dpcetl/dpcetl/load/sink"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	s, err := sink.Open(ctx, "file://"+dir)
	if err != nil {
		panic(err)
	}
	w, err := s.NewWriter(ctx, "t/export_date=2026-01-02/part-0.parquet")
	if err != nil {
		panic(err)
	}
	defer w.Abort() // discards the object unless Commit succeeded
	fmt.Fprint(w, "PAR1...")
	before, _ := s.List(ctx, "t/")
	if err := w.Commit(); err != nil {
		panic(err)
	}
	after, _ := s.List(ctx, "t/")
	fmt.Println(len(before), after[0].Key, after[0].Size)
	// Output: 0 t/export_date=2026-01-02/part-0.parquet 7
}
