package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
	lparquet "github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/jsontree"
	"github.com/dpcetl/dpcetl/transform/view"
)

// DuckJob is DuckDB's job in the comparison: the header and the lines.
var DuckJob = []string{schemas.TableEOB, schemas.TableEOBLine}

// EOBViews returns the built-in ExplanationOfBenefit views of version (all of them when
// names is empty), so tables added to schemas/ join the benchmark by themselves.
func EOBViews(version string, names []string) ([]*view.View, error) {
	all, err := schemas.Views(version)
	if err != nil {
		return nil, err
	}
	var out []*view.View
	for _, v := range all {
		if v.Resource == "ExplanationOfBenefit" && (len(names) == 0 || slices.Contains(names, v.Name)) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("bench: no EOB views")
	}
	return out, nil
}

// Result is what one run wrote.
type Result struct {
	Rows, ParquetBytes int64
	Tables             int
}

// Sources splits the file into n sources at line boundaries (n <= 1: the whole file), so
// that one large file keeps n transform workers busy.
func Sources(path string, n int) ([]transform.Source, error) {
	return transform.SplitFile(path, "ExplanationOfBenefit", n, 1)
}

// RunParquet transforms the sources with views on workers goroutines and writes every table
// as Parquet (zstd, the load package's writer) to a byte counter. Each table has its own
// encoder goroutine behind a bounded queue (as load.Run does), so encoding a slow table
// does not stop the transform workers.
func RunParquet(ctx context.Context, srcs []transform.Source, views []*view.View, mem memory.Allocator, workers int) (Result, error) {
	return runParquetWith(ctx, srcs, views, mem, workers, lparquet.Options{Allocator: mem})
}

func runParquetWith(ctx context.Context, srcs []transform.Source, views []*view.View, mem memory.Allocator, workers int, po lparquet.Options) (Result, error) {
	eng, err := transform.New(views, transform.WithAllocator(mem), transform.WithConcurrency(workers))
	if err != nil {
		return Result{}, err
	}
	sch := eng.Schemas()
	type enc struct {
		w     *lparquet.Writer
		out   countingDiscard
		queue chan arrow.RecordBatch
		err   error
	}
	encs := map[string]*enc{}
	var wg sync.WaitGroup
	for _, name := range eng.Tables() {
		e := &enc{queue: make(chan arrow.RecordBatch, 2)}
		if e.w, err = lparquet.NewWriter(&e.out, sch[name], po); err != nil {
			return Result{}, err
		}
		encs[name] = e
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range e.queue {
				if e.err == nil {
					e.err = e.w.Write(rec)
				}
				rec.Release()
			}
			if cerr := e.w.Close(); e.err == nil {
				e.err = cerr
			}
		}()
	}
	st, err := eng.Run(ctx, srcs, func(b transform.Batch) error {
		encs[b.Table].queue <- b.Record
		return nil
	})
	for _, e := range encs {
		close(e.queue)
	}
	wg.Wait()
	if err != nil {
		return Result{}, err
	}
	r := Result{Tables: len(encs)}
	for _, e := range encs {
		if e.err != nil {
			return Result{}, e.err
		}
		r.ParquetBytes += e.out.n
	}
	for _, n := range st.Rows {
		r.Rows += n
	}
	return r, nil
}

// RunLoad is the full job through load.Run, the pipeline's own path (one memory budget,
// an encoder per table, staging and publish), into a directory: its Writes are what the
// transform workers wait for.
func RunLoad(ctx context.Context, srcs []transform.Source, views []*view.View, mem memory.Allocator, workers int, dir string) (Result, error) {
	eng, err := transform.New(views, transform.WithAllocator(mem), transform.WithConcurrency(workers))
	if err != nil {
		return Result{}, err
	}
	s, err := sink.NewFile(dir)
	if err != nil {
		return Result{}, err
	}
	run, err := load.NewRun(s, load.RunOptions{RunID: "bench", ExportDate: time.Now(), Group: "bench", Allocator: mem, StaleAfter: -1})
	if err != nil {
		return Result{}, err
	}
	defer run.Abort(ctx)
	st, err := eng.Run(ctx, srcs, func(b transform.Batch) error {
		defer b.Record.Release()
		return run.Write(ctx, b.Table, b.Record)
	})
	if err != nil {
		return Result{}, err
	}
	m, err := run.Commit(ctx)
	if err != nil {
		return Result{}, err
	}
	r := Result{Tables: len(m.Tables)}
	for _, f := range m.Files {
		r.ParquetBytes += f.Bytes
	}
	for _, n := range st.Rows {
		r.Rows += n
	}
	return r, nil
}

type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// ScanOnly is the floor: read the file line by line and parse every line with the engine's
// JSON scanner, keeping every member (no view, no Arrow, no Parquet). It returns the nodes seen.
func ScanOnly(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var d jsontree.Doc
	var nodes int64
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if l := bytes.TrimRight(line, "\r\n"); len(l) > 0 {
			if perr := d.Parse(l); perr != nil {
				return nodes, perr
			}
			nodes += int64(len(d.Nodes))
		}
		if err == io.EOF {
			return nodes, nil
		}
		if err != nil {
			return nodes, err
		}
	}
}
