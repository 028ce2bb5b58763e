package load_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/dpcetl/dpcetl/load"
	lparquet "github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

// peakAllocator counts the bytes the Parquet encoders hold at once.
type peakAllocator struct {
	memory.Allocator
	cur, peak atomic.Int64
}

func (a *peakAllocator) note(d int64) {
	if c := a.cur.Add(d); c > a.peak.Load() {
		a.peak.Store(c)
	}
}
func (a *peakAllocator) Allocate(n int) []byte { a.note(int64(n)); return a.Allocator.Allocate(n) }
func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.note(int64(n - len(b)))
	return a.Allocator.Reallocate(n, b)
}
func (a *peakAllocator) Free(b []byte) { a.note(-int64(len(b))); a.Allocator.Free(b) }

// TestBudgetBoundsManyRuns writes 4 groups × 6 tables, 18 MB of Arrow batches, through one
// 3 MiB budget: every run completes with every row, the reservations never pass the limit,
// and what the Parquet encoders allocate stays within it too.
func TestBudgetBoundsManyRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		sink func(t *testing.T) sink.Sink
	}{
		{"file", func(t *testing.T) sink.Sink { s, _ := fileSink(t); return s }},
		{"s3", func(t *testing.T) sink.Sink { return s3test.Start(t).Sink(t, "budget", 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const limit, groups, tables, batches, rows = 3 << 20, 4, 6, 12, 2000
			s := tc.sink(t)
			budget := load.NewBudget(limit, groups*tables)
			alloc := &peakAllocator{Allocator: memory.NewGoAllocator()}
			var g errgroup.Group
			mans := make([]load.Manifest, groups)
			var arrowBytes atomic.Int64
			for gi := range groups {
				g.Go(func() error {
					o := runOptions(fmt.Sprintf("budget-%d", gi))
					o.Group = fmt.Sprintf("grp-%d", gi)
					o.Budget, o.Allocator = budget, alloc
					run, err := load.NewRun(s, o)
					if err != nil {
						return err
					}
					defer run.Abort(context.Background())
					// Each table from its own goroutine, as transform workers and groups do.
					var wg errgroup.Group
					for ti := range tables {
						wg.Go(func() error {
							for b := range batches {
								rec := claimsRecord(memory.DefaultAllocator, b*rows, rows)
								arrowBytes.Add(lparquet.RecordSize(rec))
								err := run.Write(ctxT(t), fmt.Sprintf("t%d", ti), rec)
								rec.Release()
								if err != nil {
									return err
								}
							}
							return nil
						})
					}
					if err := wg.Wait(); err != nil {
						return err
					}
					mans[gi], err = run.Commit(ctxT(t))
					return err
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if arrowBytes.Load() < 4*limit {
				t.Fatalf("only %d bytes written: the test does not strain a %d-byte budget", arrowBytes.Load(), limit)
			}
			hw := budget.HighWater()
			t.Logf("%d MB of batches; budget high-water %d of %d; encoders' peak allocation %d; files %d",
				arrowBytes.Load()>>20, hw, limit, alloc.peak.Load(), len(mans[0].Files))
			if hw > limit || hw < limit/2 {
				t.Errorf("high-water mark %d: want it in (limit/2, limit=%d]", hw, limit)
			}
			if used := budget.Used(); used != 0 {
				t.Errorf("%d bytes still reserved after every run committed", used)
			}
			if p := alloc.peak.Load(); p > limit {
				t.Errorf("the Parquet encoders held %d bytes at once, over the %d-byte budget", p, limit)
			}
			for _, m := range mans {
				for ti := range tables {
					name := fmt.Sprintf("t%d", ti)
					if m.Tables[name] != batches*rows {
						t.Fatalf("run %s table %s: %d rows, want %d", m.RunID, name, m.Tables[name], batches*rows)
					}
				}
				got := map[string]int{}
				for _, f := range m.Files {
					got[f.Table] += checkRows(t, openParquet(t, readObject(t, s, f.Key)), got[f.Table])
				}
				for name, n := range got {
					if n != batches*rows {
						t.Errorf("run %s table %s: parquet-go read %d rows, want %d", m.RunID, name, n, batches*rows)
					}
				}
			}
		})
	}
}

// gateSink holds NewWriter for keys containing slow until open is closed.
type gateSink struct {
	sink.Sink
	slow    string
	open    chan struct{}
	blocked chan struct{}
	once    sync.Once
}

func (g *gateSink) NewWriter(ctx context.Context, key string) (sink.Writer, error) {
	if strings.Contains(key, g.slow) {
		g.once.Do(func() { close(g.blocked) })
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Sink.NewWriter(ctx, key)
}

// TestWriteDoesNotWaitForSlowTable: while one table's encoder is stuck in its sink, Writes
// to that table and to another keep returning (before, the run's lock was held while a
// Write waited for the stuck table's queue, stopping every table).
func TestWriteDoesNotWaitForSlowTable(t *testing.T) {
	fs, _ := fileSink(t)
	gs := &gateSink{Sink: fs, slow: "slow/", open: make(chan struct{}), blocked: make(chan struct{})}
	run, err := load.NewRun(gs, runOptions("gate"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort(context.Background())
	write := func(table string, i int) error {
		rec := claimsRecord(memory.DefaultAllocator, i*100, 100)
		defer rec.Release()
		return run.Write(ctxT(t), table, rec)
	}
	if err := write("slow", 0); err != nil {
		t.Fatal(err)
	}
	<-gs.blocked
	done := make(chan error, 1)
	go func() {
		for i := range 20 { // more than the old queue of 2: the old Write would block here
			if err := write("slow", i+1); err != nil {
				done <- err
				return
			}
		}
		for i := range 50 {
			if err := write("fast", i); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Writes are stuck behind the slow table's encoder")
	}
	close(gs.open)
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Tables["slow"] != 2100 || m.Tables["fast"] != 5000 {
		t.Errorf("rows %v, want slow 2100, fast 5000", m.Tables)
	}
}
