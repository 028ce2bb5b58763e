// Package load writes Arrow tables as partitioned Parquet runs that appear atomically on disk or S3.
// Files are staged, then published with a per-run _manifest.json and _SUCCESS marker; see README.md.
package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load/killpoint"
	"github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/load/sink"
)

// Directory names under the sink root. Both start with "_" so Hive-style readers
// (Spark, Trino, Athena, DuckDB hive_partitioning) never treat them as tables or partitions.
const (
	StagingDir = "_staging" // {StagingDir}/{run id}/... holds files not yet published
	RunsDir    = "_runs"    // {RunsDir}/{run id}/_manifest.json and _SUCCESS
)

// File names in a run's directory.
const (
	ManifestName   = "_manifest.json"
	SuccessName    = "_SUCCESS"
	PublishingName = "_publishing.json" // intent record while files are being published
)

// Parquet key-value metadata keys written into every file.
const (
	MetaSchemaVersion   = "dpcetl.schema_version"
	MetaVersion         = "dpcetl.version"
	MetaExportJob       = "dpcetl.export_job_id"
	MetaTransactionTime = "dpcetl.transaction_time"
	MetaRunID           = "dpcetl.run_id"
	MetaTable           = "dpcetl.table"
	MetaExportDate      = "dpcetl.export_date"
	MetaGroup           = "dpcetl.group"
)

// Defaults for RunOptions.
const (
	DefaultTargetFileBytes = 256 << 20
	DefaultStaleAfter      = 24 * time.Hour
	DefaultMemoryLimit     = 256 << 20
)

// Sentinel errors.
var (
	// ErrRunClosed is returned when a run is used after Commit, Abort or a failure.
	ErrRunClosed = errors.New("load: run already committed, aborted or failed")
	// ErrSchemaMismatch is returned when a table receives batches with different schemas.
	ErrSchemaMismatch = errors.New("load: record schema differs from the table's first batch")
	// ErrInvalidOptions is returned by NewRun for unusable options.
	ErrInvalidOptions = errors.New("load: invalid run options")
)

// RunOptions describe one run: one export job's data for one group on one export date.
type RunOptions struct {
	RunID           string    // unique per run; [A-Za-z0-9][A-Za-z0-9._-]*; rerunning it replaces its files
	ExportDate      time.Time // partition date (its UTC calendar date is used)
	Group           string    // attribution group id (partition value)
	JobID           string    // DPC export job id
	TransactionTime time.Time // the export's transactionTime
	SchemaVersion   string
	DPCETLVersion   string

	Compression     parquet.Compression // default zstd
	RowGroupRows    int64               // default parquet.DefaultRowGroupRows
	RowGroupBytes   int64               // default parquet.DefaultRowGroupBytes
	TargetFileBytes int64               // roll to a new file at this size (default 256 MiB)
	Allocator       memory.Allocator    // default memory.DefaultAllocator
	// Budget bounds the memory of queued batches, row groups and upload parts; share one
	// across every run of a process (default: a budget of DefaultMemoryLimit for this run).
	Budget *Budget
	// StaleAfter: at Commit, staging areas and unfinished publishes of OTHER runs older than
	// this are removed (default 24h; negative disables). It must exceed the longest run.
	StaleAfter time.Duration
	Now        func() time.Time // default time.Now
}

var (
	runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	tableRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
)

func (o *RunOptions) validate() error {
	if !runIDRe.MatchString(o.RunID) {
		return fmt.Errorf("%w: run id %q must match %s", ErrInvalidOptions, o.RunID, runIDRe)
	}
	if o.ExportDate.IsZero() {
		return fmt.Errorf("%w: export date is required", ErrInvalidOptions)
	}
	if o.Group == "" || strings.ContainsAny(o.Group, "/\\") || o.Group == "." || o.Group == ".." {
		return fmt.Errorf("%w: group %q must be non-empty without slashes", ErrInvalidOptions, o.Group)
	}
	for _, r := range o.Group {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: group %q contains control characters", ErrInvalidOptions, o.Group)
		}
	}
	if _, err := parquet.ParseCompression(string(o.Compression)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	if o.TargetFileBytes < 0 || o.RowGroupRows < 0 || o.RowGroupBytes < 0 {
		return fmt.Errorf("%w: sizes must not be negative", ErrInvalidOptions)
	}
	return nil
}

// Manifest lists every file a run published. It is stored at _runs/{run id}/_manifest.json.
type Manifest struct {
	FormatVersion   int            `json:"format_version"`
	RunID           string         `json:"run_id"`
	ExportDate      string         `json:"export_date"`
	Group           string         `json:"group"`
	JobID           string         `json:"export_job_id"`
	TransactionTime string         `json:"transaction_time"`
	SchemaVersion   string         `json:"schema_version"`
	DPCETLVersion   string         `json:"dpcetl_version"`
	CommittedAt     string         `json:"committed_at"`
	Tables          map[string]int `json:"tables"` // table → rows
	Files           []ManifestFile `json:"files"`
	// Export is what the caller said the run was made from (Run.Describe); load never reads it.
	Export json.RawMessage `json:"export,omitempty"`
}

// ManifestFile is one published Parquet file.
type ManifestFile struct {
	Table           string `json:"table"`
	Key             string `json:"key"` // relative to the sink root
	Rows            int64  `json:"rows"`
	Bytes           int64  `json:"bytes"`
	SHA256          string `json:"sha256"`
	SchemaVersion   string `json:"schema_version"`
	JobID           string `json:"export_job_id"`
	TransactionTime string `json:"transaction_time"`
}

// Run writes one run's tables. Each table has an encoder goroutine, so encoding overlaps
// with the caller producing the next batch and tables encode in parallel. Write may be
// called from several goroutines; it waits only for the memory budget, never for another
// table's encoder.
type Run struct {
	sink sink.Sink
	o    RunOptions
	date string

	ctx    context.Context // governs staged uploads; cancelled on failure, Abort or a cancelled call
	cancel context.CancelFunc

	mu       sync.Mutex // serialises Commit, Abort and Write's checks (not its wait for the budget)
	state    runState
	err      error // why the run failed
	started  bool
	closed   bool           // the table queues are closed
	inflight sync.WaitGroup // Writes between their checks and their queueing
	tables   map[string]*tableState
	extra    []ManifestFile  // PutFile's objects
	export   json.RawMessage // Describe's record

	errMu    sync.Mutex
	asyncErr error // first error of an encoder goroutine
}

type runState int

const (
	runOpen runState = iota
	runDone
)

// queueDepth is how many batches per table may wait for the encoder; their bytes are
// bounded by the budget, so it only has to be deep enough that Write never waits on it.
const queueDepth = 64

// encodingFactor is what a batch costs in memory per byte of its Arrow buffers until its row
// group is flushed: the batch while queued, then the writer's page buffers (plain-encoded,
// grown by doubling) and, while the row group is flushed, its compressed pages: measured at
// about 3 on the claims tables (heap profiles of a 20,000-patient run).
const encodingFactor = 3

// queued is a batch and the bytes of the budget reserved for it.
type queued struct {
	rec arrow.RecordBatch
	n   int64
}

type tableState struct {
	name   string
	schema *arrow.Schema
	queue  chan queued
	done   chan struct{} // closed when the encoder goroutine has exited

	// Owned by the encoder goroutine until done is closed.
	next   int
	cur    *openFile
	rows   int
	files  []ManifestFile
	held   int64 // budget bytes behind the buffered row group
	upload int64 // budget bytes behind the open file's upload part buffers
}

type openFile struct {
	key, staged string
	sw          sink.Writer
	hw          *hashWriter
	pw          *parquet.Writer
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// NewRun starts a run on s. Nothing is written until the first Write.
func NewRun(s sink.Sink, o RunOptions) (*Run, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.TargetFileBytes == 0 {
		o.TargetFileBytes = DefaultTargetFileBytes
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if o.Budget == nil {
		o.Budget = NewBudget(DefaultMemoryLimit, 16)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Run{
		sink:   s,
		o:      o,
		date:   o.ExportDate.UTC().Format(time.DateOnly),
		ctx:    ctx,
		cancel: cancel,
		tables: map[string]*tableState{},
	}, nil
}

// DataKey returns the published key of part n of table for this run.
func (r *Run) DataKey(table string, n int) string {
	return r.PartitionKey(table, fmt.Sprintf("part-%05d-%s.parquet", n, r.o.RunID))
}

// PartitionKey returns the key of a file named name in the run's partition of dir.
func (r *Run) PartitionKey(dir, name string) string {
	return fmt.Sprintf("%s/export_date=%s/group_id=%s/%s", dir, r.date, r.o.Group, name)
}

func (r *Run) stagingPrefix() string { return StagingDir + "/" + r.o.RunID + "/" }

// RunDir returns the directory key of a run's manifest and markers.
func RunDir(runID string) string { return RunsDir + "/" + runID }

// bind makes cancellation of a caller's ctx during a call abort the run's uploads.
func (r *Run) bind(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, r.cancel)
}

func (r *Run) setAsyncErr(err error) {
	r.errMu.Lock()
	if r.asyncErr == nil {
		r.asyncErr = err
	}
	r.errMu.Unlock()
	r.cancel() // stop the other encoders and uploads: the run is doomed
}

func (r *Run) encoderErr() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.asyncErr
}

// failLocked records the first failure and discards everything staged; the run is then closed.
func (r *Run) failLocked(err error) error {
	if r.err == nil {
		r.err = err
	}
	r.discardLocked()
	return err
}

// discardLocked stops the encoders (which abort their open files) and deletes the staging area.
func (r *Run) discardLocked() {
	r.state = runDone
	r.cancel()
	r.drainLocked()
	if r.started {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = r.sink.DeletePrefix(ctx, r.stagingPrefix())
	}
}

// drainLocked closes the table queues and waits for every encoder to exit. With r.ctx
// alive the encoders finish their open files; with r.ctx cancelled they abort them.
func (r *Run) drainLocked() {
	r.inflight.Wait()
	if !r.closed {
		r.closed = true
		for _, t := range r.tables {
			close(t.queue)
		}
	}
	for _, t := range r.tables {
		<-t.done
	}
}

// encode is a table's encoder goroutine. While a Write waits for the budget it flushes
// its row group when idle, and ends its file early only when the row groups of every
// table together could not make room (on a sink whose writers buffer upload parts).
func (r *Run) encode(t *tableState) {
	defer close(t.done)
	defer r.releaseAll(t)
	failed := false
	// Data dropped because the run was cancelled must fail the run, never vanish quietly.
	cancelled := func() {
		failed = true
		r.setAsyncErr(fmt.Errorf("load: table %s: run cancelled: %w", t.name, context.Cause(r.ctx)))
	}
	fail := func(err error) {
		if err != nil {
			failed = true
			r.setAsyncErr(err)
		}
	}
	for {
		var press, starve <-chan struct{}
		if !failed {
			p, s := r.o.Budget.signals()
			if t.held > 0 {
				press = p
			}
			if t.upload > 0 {
				starve = s
			}
		}
		var q queued
		var ok bool
		select {
		case q, ok = <-t.queue:
		case <-press:
			fail(r.flushRowGroup(t))
			continue
		case <-starve:
			fail(r.finish(t))
			continue
		}
		if !ok {
			break
		}
		if !failed {
			if r.ctx.Err() != nil {
				cancelled()
			} else {
				fail(r.writeTable(t, q))
				q.n = 0 // now the row group's
			}
		}
		q.rec.Release()
		r.o.Budget.release(q.n, 0)
	}
	if t.cur == nil {
		return
	}
	if !failed && r.ctx.Err() != nil {
		cancelled()
	}
	if failed {
		t.cur.pw.Abort()
		_ = t.cur.sw.Abort()
		t.cur = nil
		return
	}
	fail(r.finish(t))
}

// releaseAll gives back what the table holds of the budget.
func (r *Run) releaseAll(t *tableState) {
	r.o.Budget.release(t.held+t.upload, t.upload)
	t.held, t.upload = 0, 0
}

func (r *Run) writeTable(t *tableState, q queued) error {
	if t.cur == nil {
		f, err := r.open(t)
		if err != nil {
			r.o.Budget.release(q.n, 0)
			return err
		}
		t.cur = f
	}
	t.held += q.n
	if err := r.o.Budget.encoding(func() error { return t.cur.pw.Write(q.rec) }); err != nil {
		return r.abortFile(t, err)
	}
	t.rows += int(q.rec.NumRows())
	if t.cur.pw.EstimatedSize() >= r.o.TargetFileBytes {
		return r.finish(t)
	}
	if t.held >= r.o.Budget.Share() {
		return r.flushRowGroup(t)
	}
	return nil
}

// abortFile drops the table's open file after err.
func (r *Run) abortFile(t *tableState, err error) error {
	f := t.cur
	t.cur = nil
	f.pw.Abort()
	_ = f.sw.Abort()
	r.releaseAll(t)
	return r.fileErr(f, err)
}

// flushRowGroup writes the buffered row group to the sink. What the sink's writer now
// buffers of it (S3 part buffers, up to sink's MemoryPerWriter) stays reserved until the
// file ends; the rest of the row group's reservation goes back to the budget.
func (r *Run) flushRowGroup(t *tableState) error {
	if t.cur == nil || t.held == 0 {
		return nil
	}
	if err := r.o.Budget.encoding(t.cur.pw.Flush); err != nil {
		return r.abortFile(t, err)
	}
	var keep int64
	if m, ok := r.sink.(interface{ MemoryPerWriter() int64 }); ok {
		keep = min(t.held, max(0, min(t.cur.hw.n, m.MemoryPerWriter())-t.upload))
	}
	r.o.Budget.toUpload(keep)
	r.o.Budget.release(t.held-keep, 0)
	t.upload += keep
	t.held = 0
	return nil
}

// Write appends rec to table. It retains rec for the table's encoder and returns (the caller
// keeps its own reference and may release it at once); an encoder error is returned by a
// later Write or by Commit. Files roll over at TargetFileBytes. Any error fails the whole
// run: nothing of it will become visible.
func (r *Run) Write(ctx context.Context, table string, rec arrow.RecordBatch) error {
	stop := r.bind(ctx)
	defer stop()
	t, err := r.admit(ctx, table, rec)
	if t == nil || err != nil {
		return err
	}
	// Outside r.mu: a Write waits for the budget (or, rarely, a full queue), not for the
	// other tables' Writes.
	n, err := r.o.Budget.acquire(r.ctx, encodingFactor*parquet.RecordSize(rec))
	if err == nil {
		rec.Retain()
		select {
		case t.queue <- queued{rec, n}:
			r.inflight.Done()
			return nil
		case <-r.ctx.Done():
			rec.Release()
			r.o.Budget.release(n, 0)
		}
	}
	r.inflight.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	err = r.encoderErr()
	if err == nil {
		err = fmt.Errorf("load: write %s: %w", table, context.Cause(ctx))
		if ctx.Err() == nil {
			err = fmt.Errorf("load: write %s: run cancelled", table)
		}
	}
	return r.failLocked(err)
}

// admit checks a Write under r.mu and returns the table to queue rec on (nil for an empty
// batch); the caller must then call r.inflight.Done.
func (r *Run) admit(ctx context.Context, table string, rec arrow.RecordBatch) (*tableState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runOpen {
		return nil, r.closedErr()
	}
	if err := r.encoderErr(); err != nil {
		return nil, r.failLocked(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, r.failLocked(fmt.Errorf("load: write %s: %w", table, err))
	}
	if !tableRe.MatchString(table) {
		return nil, fmt.Errorf("load: invalid table name %q: must match %s", table, tableRe)
	}
	if !r.started {
		// Leftovers of a killed attempt of this same run id are ours to remove.
		if err := r.sink.DeletePrefix(r.ctx, r.stagingPrefix()); err != nil {
			return nil, r.failLocked(fmt.Errorf("load: clean staging of run %s: %w", r.o.RunID, err))
		}
		r.started = true
	}
	t := r.tables[table]
	if t == nil {
		t = &tableState{name: table, schema: rec.Schema(), queue: make(chan queued, queueDepth), done: make(chan struct{})}
		r.tables[table] = t
		go r.encode(t)
	} else if !t.schema.Equal(rec.Schema()) {
		return nil, r.failLocked(fmt.Errorf("%w: table %s", ErrSchemaMismatch, table))
	}
	if rec.NumRows() == 0 {
		return nil, nil
	}
	r.inflight.Add(1)
	return t, nil
}

func (r *Run) closedErr() error {
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrRunClosed, r.err)
	}
	return ErrRunClosed
}

func (r *Run) fileErr(f *openFile, err error) error {
	return fmt.Errorf("load: %s (staged at %s): %w", r.sink.URL(f.key), r.sink.URL(f.staged), err)
}

func (r *Run) open(t *tableState) (*openFile, error) {
	table := t.name
	key := r.DataKey(table, t.next)
	staged := r.stagingPrefix() + key
	t.next++
	sw, err := r.sink.NewWriter(r.ctx, staged)
	if err != nil {
		return nil, fmt.Errorf("load: %s: %w", r.sink.URL(key), err)
	}
	hw := &hashWriter{w: sw, h: sha256.New()}
	pw, err := parquet.NewWriter(hw, t.schema, parquet.Options{
		Compression:   r.o.Compression,
		RowGroupRows:  r.o.RowGroupRows,
		RowGroupBytes: r.o.RowGroupBytes,
		Allocator:     r.o.Allocator,
		Metadata: map[string]string{
			MetaSchemaVersion:   r.o.SchemaVersion,
			MetaVersion:         r.o.DPCETLVersion,
			MetaExportJob:       r.o.JobID,
			MetaTransactionTime: formatTime(r.o.TransactionTime),
			MetaRunID:           r.o.RunID,
			MetaTable:           table,
			MetaExportDate:      r.date,
			MetaGroup:           r.o.Group,
		},
	})
	if err != nil {
		_ = sw.Abort()
		return nil, fmt.Errorf("load: %s: %w", r.sink.URL(key), err)
	}
	return &openFile{key: key, staged: staged, sw: sw, hw: hw, pw: pw}, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// finish closes the table's current file and commits it to staging.
func (r *Run) finish(t *tableState) error {
	f := t.cur
	t.cur = nil
	defer r.releaseAll(t)
	if err := r.o.Budget.encoding(f.pw.Close); err != nil {
		_ = f.sw.Abort()
		return r.fileErr(f, err)
	}
	if err := f.sw.Commit(); err != nil {
		return r.fileErr(f, err)
	}
	t.files = append(t.files, ManifestFile{
		Table:           t.name,
		Key:             f.key,
		Rows:            f.pw.Rows(),
		Bytes:           f.hw.n,
		SHA256:          hex.EncodeToString(f.hw.h.Sum(nil)),
		SchemaVersion:   r.o.SchemaVersion,
		JobID:           r.o.JobID,
		TransactionTime: formatTime(r.o.TransactionTime),
	})
	return nil
}

// Describe records v (JSON) in the run's manifest under "export".
func (r *Run) Describe(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.export = b
	return nil
}

// PutFile stages a non-Parquet object (input kept as it came, say) at key, as write writes it;
// it is published, listed under label and rolled back with the run's Parquet files.
func (r *Run) PutFile(ctx context.Context, label, key string, rows int64, write func(io.Writer) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runOpen {
		return r.closedErr()
	}
	if !r.started {
		if err := r.sink.DeletePrefix(ctx, r.stagingPrefix()); err != nil {
			return r.failLocked(fmt.Errorf("load: clean staging of run %s: %w", r.o.RunID, err))
		}
		r.started = true
	}
	w, err := r.sink.NewWriter(ctx, r.stagingPrefix()+key)
	if err != nil {
		return r.failLocked(fmt.Errorf("load: stage %s: %w", key, err))
	}
	hw := &hashWriter{w: w, h: sha256.New()}
	if err := write(hw); err != nil {
		_ = w.Abort()
		return r.failLocked(fmt.Errorf("load: stage %s: %w", key, err))
	}
	if err := w.Commit(); err != nil {
		return r.failLocked(fmt.Errorf("load: stage %s: %w", key, err))
	}
	r.extra = append(r.extra, ManifestFile{Table: label, Key: key, Rows: rows, Bytes: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil)),
		SchemaVersion: r.o.SchemaVersion, JobID: r.o.JobID, TransactionTime: formatTime(r.o.TransactionTime)})
	return nil
}

// Abort discards everything the run staged. Published runs are not touched. Safe to call
// after Commit (no-op) and more than once.
func (r *Run) Abort(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runOpen {
		return nil
	}
	r.err = errors.New("aborted")
	r.state = runDone
	r.cancel()
	r.drainLocked()
	if !r.started {
		return nil
	}
	if err := r.sink.DeletePrefix(ctx, r.stagingPrefix()); err != nil {
		return fmt.Errorf("load: abort run %s: %w", r.o.RunID, err)
	}
	return nil
}

// Commit publishes the run: staged files move to their partition keys, files of an earlier
// attempt of the same run id that are not in this manifest are deleted, then _manifest.json
// and finally _SUCCESS are written. On error the run is rolled back as far as possible.
func (r *Run) Commit(ctx context.Context) (Manifest, error) {
	stop := r.bind(ctx)
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runOpen {
		return Manifest{}, r.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, r.failLocked(fmt.Errorf("load: commit run %s: %w", r.o.RunID, err))
	}
	// Let every encoder finish its queue and its open file.
	r.drainLocked()
	if err := r.encoderErr(); err != nil {
		return Manifest{}, r.failLocked(err)
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, r.failLocked(fmt.Errorf("load: commit run %s: %w", r.o.RunID, err))
	}
	if r.ctx.Err() != nil {
		return Manifest{}, r.failLocked(fmt.Errorf("load: commit run %s: run cancelled: %w", r.o.RunID, context.Cause(r.ctx)))
	}
	names := make([]string, 0, len(r.tables))
	for name := range r.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	var files []ManifestFile
	for _, name := range names {
		files = append(files, r.tables[name].files...)
	}
	files = append(files, r.extra...)
	m := Manifest{
		FormatVersion:   1,
		RunID:           r.o.RunID,
		ExportDate:      r.date,
		Group:           r.o.Group,
		JobID:           r.o.JobID,
		TransactionTime: formatTime(r.o.TransactionTime),
		SchemaVersion:   r.o.SchemaVersion,
		DPCETLVersion:   r.o.DPCETLVersion,
		CommittedAt:     formatTime(r.o.Now()),
		Tables:          map[string]int{},
		Files:           files,
		Export:          r.export,
	}
	for _, name := range names {
		m.Tables[name] = r.tables[name].rows
	}
	if r.o.StaleAfter > 0 {
		// Best effort: a failure to tidy other runs must not fail this one.
		_ = CleanStale(r.ctx, r.sink, r.o.StaleAfter, r.o.Now(), r.o.RunID)
	}
	if mutated, err := r.publishLocked(r.ctx, m); err != nil {
		if !mutated {
			return Manifest{}, r.failLocked(err)
		}
		// Some files may already be published: take them back so readers never see a
		// partial run. If the store is unreachable the intent record stays, and the
		// next attempt of this run id (or CleanStale) finishes the rollback.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		committed, rerr := rollBack(cctx, r.sink, r.o.RunID)
		if committed && rerr == nil && r.ownsSuccess(cctx, m) {
			// The error came after our _SUCCESS reached the store (a reply lost on the
			// way back): the run is committed and readers may already use it.
			r.tidyLocked(cctx)
			r.state = runDone
			r.cancel()
			return m, nil
		}
		if rerr != nil {
			err = fmt.Errorf("%w (rollback incomplete: %v)", err, rerr)
		}
		return Manifest{}, r.failLocked(err)
	}
	r.state = runDone
	r.cancel()
	return m, nil
}

// publishLocked reports mutated once it has started changing what readers see
// (from the removal of an earlier _SUCCESS on).
func (r *Run) publishLocked(ctx context.Context, m Manifest) (mutated bool, err error) {
	dir := RunDir(r.o.RunID)
	// Files a previous attempt of this run id published (or began to) must not survive
	// unless this attempt rewrites them: that is what keeps reruns free of duplicates.
	old := map[string]bool{}
	for _, name := range []string{ManifestName, PublishingName} {
		pm, err := readManifest(ctx, r.sink, dir+"/"+name)
		if errors.Is(err, sink.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("load: commit run %s: %w", r.o.RunID, err)
		}
		for _, f := range pm.Files {
			old[f.Key] = true
		}
	}
	// From here until _SUCCESS the run is not committed.
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return false, err
	}
	if err := r.sink.Delete(ctx, dir+"/"+SuccessName); err != nil {
		return true, fmt.Errorf("load: commit run %s: %w", r.o.RunID, err)
	}
	if err := putObject(ctx, r.sink, dir+"/"+PublishingName, body); err != nil {
		return true, fmt.Errorf("load: commit run %s: record intent: %w", r.o.RunID, err)
	}
	killpoint.Reach("publish.intent")
	for _, f := range m.Files {
		if err := r.sink.Rename(ctx, r.stagingPrefix()+f.Key, f.Key); err != nil {
			return true, fmt.Errorf("load: publish %s: %w", r.sink.URL(f.Key), err)
		}
		delete(old, f.Key)
		killpoint.Reach("publish.rename")
	}
	for _, k := range sortedKeys(old) {
		if err := r.sink.Delete(ctx, k); err != nil {
			return true, fmt.Errorf("load: remove superseded %s: %w", r.sink.URL(k), err)
		}
	}
	if err := putObject(ctx, r.sink, dir+"/"+ManifestName, body); err != nil {
		return true, fmt.Errorf("load: write manifest of run %s: %w", r.o.RunID, err)
	}
	killpoint.Reach("publish.manifest")
	sum := sha256.Sum256(body)
	if err := putObject(ctx, r.sink, dir+"/"+SuccessName, []byte("manifest_sha256="+hex.EncodeToString(sum[:])+"\n")); err != nil {
		return true, fmt.Errorf("load: write %s: %w", r.sink.URL(dir+"/"+SuccessName), err)
	}
	killpoint.Reach("publish.success")
	// The run is committed; what follows is tidying. A leftover intent record next to
	// _SUCCESS is harmless: rollBack never touches a committed run, it only removes it.
	r.tidyLocked(ctx)
	return true, nil
}

// tidyLocked removes the intent record and the staging area of a committed run.
func (r *Run) tidyLocked(ctx context.Context) {
	_ = r.sink.Delete(ctx, RunDir(r.o.RunID)+"/"+PublishingName)
	_ = r.sink.DeletePrefix(ctx, r.stagingPrefix())
}

// ownsSuccess reports whether the run's committed manifest is the one this attempt wrote.
func (r *Run) ownsSuccess(ctx context.Context, m Manifest) bool {
	got, err := ReadManifest(ctx, r.sink, r.o.RunID)
	return err == nil && got.CommittedAt == m.CommittedAt && len(got.Files) == len(m.Files)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func putObject(ctx context.Context, s sink.Sink, key string, data []byte) error {
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Commit()
}

func readManifest(ctx context.Context, s sink.Sink, key string) (Manifest, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	var m Manifest
	dec := json.NewDecoder(rc)
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("load: decode %s: %w", s.URL(key), err)
	}
	return m, nil
}

// ReadManifest returns the manifest of a committed run; a run without _SUCCESS gives an
// error wrapping sink.ErrNotExist.
func ReadManifest(ctx context.Context, s sink.Sink, runID string) (Manifest, error) {
	dir := RunDir(runID)
	rc, err := s.Get(ctx, dir+"/"+SuccessName)
	if err != nil {
		return Manifest{}, err
	}
	marker, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return Manifest{}, err
	}
	rc, err = s.Get(ctx, dir+"/"+ManifestName)
	if err != nil {
		return Manifest{}, err
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return Manifest{}, err
	}
	sum := sha256.Sum256(body)
	if !bytes.Contains(marker, []byte(hex.EncodeToString(sum[:]))) {
		return Manifest{}, fmt.Errorf("load: %s does not match its _SUCCESS marker", s.URL(dir+"/"+ManifestName))
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return Manifest{}, fmt.Errorf("load: decode %s: %w", s.URL(dir+"/"+ManifestName), err)
	}
	return m, nil
}

// CommittedRuns lists the run ids that have a _SUCCESS marker, sorted.
func CommittedRuns(ctx context.Context, s sink.Sink) ([]string, error) {
	objs, err := s.List(ctx, RunsDir+"/")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, RunsDir+"/")
		if id, name, ok := strings.Cut(rest, "/"); ok && name == SuccessName {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// CleanStale removes what killed runs left behind, other than run id keep: staging areas
// whose newest object is older than olderThan, and unfinished publishes (a _publishing.json
// older than olderThan) whose published files are deleted so no half-published run stays visible.
func CleanStale(ctx context.Context, s sink.Sink, olderThan time.Duration, now time.Time, keep string) error {
	cutoff := now.Add(-olderThan)
	objs, err := s.List(ctx, StagingDir+"/")
	if err != nil {
		return err
	}
	newest := map[string]time.Time{}
	for _, o := range objs {
		id, _, _ := strings.Cut(strings.TrimPrefix(o.Key, StagingDir+"/"), "/")
		if o.ModTime.After(newest[id]) {
			newest[id] = o.ModTime
		}
	}
	var errs []error
	for id, t := range newest {
		if id != keep && t.Before(cutoff) {
			errs = append(errs, s.DeletePrefix(ctx, StagingDir+"/"+id+"/"))
		}
	}
	runs, err := s.List(ctx, RunsDir+"/")
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, o := range runs {
		id, name, _ := strings.Cut(strings.TrimPrefix(o.Key, RunsDir+"/"), "/")
		if name != PublishingName || id == keep || !o.ModTime.Before(cutoff) {
			continue
		}
		if _, err := rollBack(ctx, s, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RollBack unpublishes run id's unfinished publish: see rollBack. It reports committed
// (and changes nothing but a leftover intent record) when the run has a _SUCCESS marker.
// The caller must make sure no other process is publishing that run id (the run lock).
func RollBack(ctx context.Context, s sink.Sink, runID string) (committed bool, err error) {
	if !runIDRe.MatchString(runID) {
		return false, fmt.Errorf("%w: run id %q", ErrInvalidOptions, runID)
	}
	return rollBack(ctx, s, runID)
}

// rollBack unpublishes a run whose publish never finished: its files (from the intent and
// any earlier manifest) and its manifest are deleted; the intent goes last so a failed
// rollback is retried by the next cleaner.
//
// A run with _SUCCESS is committed and is never rolled back, whatever else lies beside it:
// publish deletes an earlier _SUCCESS before it writes the intent, so an intent next to a
// _SUCCESS is only the leftover of a tidy-up that failed after the commit. Only that
// leftover (and the run's staging) is removed.
func rollBack(ctx context.Context, s sink.Sink, runID string) (committed bool, err error) {
	dir := RunDir(runID)
	switch ok, err := sink.Exists(ctx, s, dir+"/"+SuccessName); {
	case err != nil:
		return false, err
	case ok:
		if _, err := ReadManifest(ctx, s, runID); err != nil {
			// Never guess about a committed run: leave it for a human.
			return true, fmt.Errorf("load: run %s has %s but its manifest is unreadable; not touching it: %w", runID, SuccessName, err)
		}
		if err := s.DeletePrefix(ctx, StagingDir+"/"+runID+"/"); err != nil {
			return true, err
		}
		return true, s.Delete(ctx, dir+"/"+PublishingName)
	}
	keys := map[string]bool{}
	for _, name := range []string{PublishingName, ManifestName} {
		m, err := readManifest(ctx, s, dir+"/"+name)
		if errors.Is(err, sink.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		for _, f := range m.Files {
			keys[f.Key] = true
		}
	}
	for _, k := range sortedKeys(keys) {
		if err := s.Delete(ctx, k); err != nil {
			return false, err
		}
	}
	if err := s.DeletePrefix(ctx, StagingDir+"/"+runID+"/"); err != nil {
		return false, err
	}
	// Whatever else sits in the run's directory (the manifest, a report of an earlier
	// attempt) goes with the run; the intent goes last.
	objs, err := s.List(ctx, dir+"/")
	if err != nil {
		return false, err
	}
	for _, o := range objs {
		if o.Key == dir+"/"+PublishingName {
			continue
		}
		if err := s.Delete(ctx, o.Key); err != nil {
			return false, err
		}
	}
	return false, s.Delete(ctx, dir+"/"+PublishingName)
}
