package transform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/jsontree"
	"github.com/dpcetl/dpcetl/transform/view"
)

// Lineage column names appended to every table by WithLineage.
const (
	ColExportJobID       = "export_job_id"
	ColSourceFHIRVersion = "source_fhir_version"
	ColIngestedAt        = "ingested_at"
)

// DefaultBatchRows is the default maximum number of rows in an emitted record batch.
const DefaultBatchRows = 8192

// ErrQuarantineThreshold is returned by Run when more input was quarantined than allowed.
var ErrQuarantineThreshold = errors.New("transform: quarantine threshold exceeded")

// Source is one NDJSON input. Name is used in errors and quarantine records (usually the path).
// Type, when set, is the resource type every line must have (other types are quarantined).
type Source struct {
	Name string
	Type string
	Open func() (io.ReadCloser, error)
	// FirstLine, when set, is the number of lines of Name before this source's first line
	// (a part of a file: SplitFile); it is called only when a line number is reported.
	FirstLine func() int64
}

// Batch is a record batch for one table. The receiver owns Record and must Release it,
// also when emit returns an error.
type Batch struct {
	Table  string
	Record arrow.RecordBatch
}

// QuarantineRecord is one input line that was set aside.
type QuarantineRecord struct {
	File string // Source.Name
	Line int64  // 1-based line number
	Err  string // why
	Raw  []byte // the line as read (owned by the receiver)
}

// Quarantine receives lines that could not be transformed. Put is never called concurrently.
type Quarantine interface {
	Put(ctx context.Context, r QuarantineRecord) error
}

// QuarantineFunc adapts a function to Quarantine.
type QuarantineFunc func(ctx context.Context, r QuarantineRecord) error

// Put calls f.
func (f QuarantineFunc) Put(ctx context.Context, r QuarantineRecord) error { return f(ctx, r) }

// Stats counts what a run did.
type Stats struct {
	Files       int
	Lines       int64            // non-blank lines read
	Bytes       int64            // bytes read
	Resources   int64            // resources that went into the tables
	Skipped     int64            // resources of a type no view reads (only when Source.Type is empty)
	Quarantined int64            // lines set aside
	Rows        map[string]int64 // rows per table
	Batches     int              // record batches emitted
	Rounded     map[string]int64 // "table.column" → values rounded to the column's scale (MoneyRoundHalfEven)
}

// Lineage describes where the data came from; WithLineage appends it as columns.
type Lineage struct {
	JobID       string
	FHIRVersion string // "STU3" or "R4"
	IngestedAt  time.Time
}

type options struct {
	mem         memory.Allocator
	batchRows   int
	concurrency int
	lineage     *Lineage
	quarantine  Quarantine
	maxCount    int64
	maxFraction float64
	threshold   bool
	maxLine     int
	general     bool
	money       MoneyPolicy
}

// Option configures an Engine.
type Option func(*options)

// WithAllocator sets the Arrow allocator (tests use memory.NewCheckedAllocator).
func WithAllocator(mem memory.Allocator) Option { return func(o *options) { o.mem = mem } }

// WithBatchRows bounds the rows of each emitted record batch (default DefaultBatchRows).
func WithBatchRows(n int) Option { return func(o *options) { o.batchRows = n } }

// DefaultMaxLineBytes is the default longest NDJSON line (resource) the engine accepts.
const DefaultMaxLineBytes = 64 << 20

// WithMaxLineBytes bounds the memory a single line may take; longer lines are quarantined
// (with their first n bytes). Default DefaultMaxLineBytes.
func WithMaxLineBytes(n int) Option { return func(o *options) { o.maxLine = n } }

// WithGeneralEvaluator turns off the shared plan: every view evaluates every expression on
// its own. It is the reference the plan is tested against (with views from view.ParseGeneral).
func WithGeneralEvaluator() Option { return func(o *options) { o.general = true } }

// WithConcurrency sets how many sources are transformed at once (default 1).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithLineage appends the lineage columns export_job_id, source_fhir_version and ingested_at to every table.
func WithLineage(l Lineage) Option { return func(o *options) { o.lineage = &l } }

// WithQuarantine sets where bad lines go. Without it, any bad line fails the run.
func WithQuarantine(q Quarantine) Option { return func(o *options) { o.quarantine = q } }

// WithThreshold fails the run (ErrQuarantineThreshold) when more than maxCount lines are
// quarantined (negative: no count limit), or when at the end more than maxFraction of the
// lines read were quarantined (negative: no fraction limit).
func WithThreshold(maxCount int, maxFraction float64) Option {
	return func(o *options) { o.maxCount, o.maxFraction, o.threshold = int64(maxCount), maxFraction, true }
}

// Engine runs a set of views over NDJSON sources. It is safe for concurrent use.
type Engine struct {
	opts    options
	tables  []*table
	byType  map[string][]int // resource type → table indexes; read-only after New
	schemas map[string]*arrow.Schema
	keys    *jsontree.KeySet // members any view reads; the parser skips the others
	plan    *sharePlan       // nil with WithGeneralEvaluator
}

// viewNames collects the member names the expressions of s may read.
func viewNames(s *view.Select, add func(*fhirpath.Expr)) {
	if s.ForEach != nil {
		add(s.ForEach)
	}
	for _, r := range s.Repeat {
		add(r)
	}
	for _, c := range s.Columns {
		add(c.Expr)
	}
	for _, sub := range s.Selects {
		viewNames(sub, add)
	}
	for _, sub := range s.UnionAll {
		viewNames(sub, add)
	}
}

type table struct {
	v      *view.View
	cols   []colSpec
	schema *arrow.Schema
}

// New compiles views into an engine. Table names (view names) must be unique.
func New(views []*view.View, opts ...Option) (*Engine, error) {
	o := options{mem: memory.DefaultAllocator, batchRows: DefaultBatchRows, concurrency: 1, maxCount: -1, maxFraction: -1, maxLine: DefaultMaxLineBytes}
	for _, f := range opts {
		f(&o)
	}
	if !o.threshold && o.quarantine == nil {
		o.maxCount = 0
	}
	if o.batchRows < 1 {
		return nil, fmt.Errorf("transform: batch rows must be positive, got %d", o.batchRows)
	}
	if o.maxLine < 1 {
		return nil, fmt.Errorf("transform: max line bytes must be positive, got %d", o.maxLine)
	}
	if o.concurrency < 1 {
		o.concurrency = 1
	}
	if _, err := ParseMoneyPolicy(string(o.money)); err != nil {
		return nil, err
	}
	e := &Engine{opts: o, byType: map[string][]int{}, schemas: map[string]*arrow.Schema{}}
	for i, v := range views {
		name := v.Name
		if name == "" {
			return nil, &view.Error{File: v.File, Path: "name", Err: fmt.Errorf("%w: a view needs a name (it is the table name)", view.ErrInvalid)}
		}
		if _, dup := e.schemas[name]; dup {
			return nil, &view.Error{File: v.File, Path: "name", Err: fmt.Errorf("%w: duplicate table name %q", view.ErrInvalid, name)}
		}
		t := &table{v: v}
		var fields []arrow.Field
		for _, c := range v.Columns {
			cs, err := newColSpec(v, c, o.money)
			if err != nil {
				return nil, err
			}
			t.cols = append(t.cols, cs)
			fields = append(fields, cs.field())
		}
		if o.lineage != nil {
			for _, n := range []string{ColExportJobID, ColSourceFHIRVersion, ColIngestedAt} {
				for _, c := range v.Columns {
					if c.Name == n {
						return nil, &view.Error{File: v.File, Path: c.JSONPath, Err: fmt.Errorf("%w: column %q is reserved for lineage", view.ErrInvalid, n)}
					}
				}
			}
			fields = append(fields,
				arrow.Field{Name: ColExportJobID, Type: arrow.BinaryTypes.String},
				arrow.Field{Name: ColSourceFHIRVersion, Type: arrow.BinaryTypes.String},
				arrow.Field{Name: ColIngestedAt, Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}})
		}
		md := arrow.MetadataFrom(map[string]string{"fhir_resource": v.Resource})
		t.schema = arrow.NewSchema(fields, &md)
		e.schemas[name] = t.schema
		e.tables = append(e.tables, t)
		e.byType[v.Resource] = append(e.byType[v.Resource], i)
	}
	names := []string{"resourceType", "id"}
	add := func(x *fhirpath.Expr) { names = append(names, x.Names()...) }
	for _, t := range e.tables {
		for _, w := range t.v.Where {
			add(w)
		}
		viewNames(t.v.Root, add)
	}
	if slices.Contains(names, "extension") {
		// extension() on a primitive reads its `_name` sibling (FHIR JSON), so keep those too
		for _, n := range names {
			names = append(names, "_"+n)
		}
	}
	e.keys = jsontree.NewKeySet(names, fhirpath.ChoiceSuffixes())
	if !o.general {
		e.plan = newSharePlan(e.tables)
	}
	return e, nil
}

// Schemas returns table name → Arrow schema.
func (e *Engine) Schemas() map[string]*arrow.Schema {
	out := make(map[string]*arrow.Schema, len(e.schemas))
	for k, v := range e.schemas {
		out[k] = v
	}
	return out
}

// Tables returns the table names in view order.
func (e *Engine) Tables() []string {
	out := make([]string, len(e.tables))
	for i, t := range e.tables {
		out[i] = t.v.Name
	}
	return out
}

// runState is shared by the goroutines of one Run.
type runState struct {
	ctx         context.Context
	emitMu      sync.Mutex
	emit        func(Batch) error
	qMu         sync.Mutex
	quarantined atomic.Int64
	statsMu     sync.Mutex
	stats       Stats
}

// Run transforms the sources and calls emit (never concurrently) with record batches.
// Sources are processed in parallel up to WithConcurrency.
func (e *Engine) Run(ctx context.Context, sources []Source, emit func(Batch) error) (Stats, error) {
	rs := &runState{ctx: ctx, emit: emit, stats: Stats{Rows: map[string]int64{}}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.concurrency)
	workers := make(chan *worker, e.opts.concurrency)
	for i := 0; i < e.opts.concurrency; i++ {
		workers <- e.newWorker()
	}
	defer func() {
		close(workers)
		for w := range workers {
			w.release()
		}
	}()
	for _, src := range sources {
		g.Go(func() error {
			w := <-workers
			defer func() { workers <- w }()
			return w.runSource(gctx, rs, src)
		})
	}
	err := g.Wait()
	st := rs.stats
	st.Quarantined = rs.quarantined.Load()
	if err != nil {
		return st, err
	}
	if f := e.opts.maxFraction; f >= 0 && st.Lines > 0 && float64(st.Quarantined) > f*float64(st.Lines) {
		return st, fmt.Errorf("%w: %d of %d lines quarantined (limit %.4g%%)", ErrQuarantineThreshold, st.Quarantined, st.Lines, f*100)
	}
	return st, nil
}

// worker holds the reusable per-goroutine state.
type worker struct {
	e      *Engine
	doc    jsontree.Doc
	ev     evaluator
	tb     []*tableBuf
	line   []byte
	br     *bufio.Reader
	stats  Stats
	lineNo int64
}

type tableBuf struct {
	t    *table
	b    *array.RecordBuilder
	n    int
	rows int64
	// pending rows of the current line: row r has slots [slot0 + r*w, slot0+(r+1)*w)
	slot0, nrows int
	dataLen      []int // string bytes per string column of the last full batch
}

func (e *Engine) newWorker() *worker {
	w := &worker{e: e, br: bufio.NewReaderSize(nil, min(1<<20, max(e.opts.maxLine, 16)))}
	w.ev.init(e)
	w.doc.Filter = e.keys
	for _, t := range e.tables {
		b := array.NewRecordBuilder(e.opts.mem, t.schema)
		w.tb = append(w.tb, &tableBuf{t: t, b: b})
	}
	return w
}

func (w *worker) release() {
	for _, tb := range w.tb {
		tb.b.Release()
	}
}

func (w *worker) runSource(ctx context.Context, rs *runState, src Source) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// drop this source's unflushed rows so a reused worker cannot emit them later
			for _, tb := range w.tb {
				if tb.n > 0 {
					tb.b.NewRecordBatch().Release()
					tb.n = 0
				}
			}
		}
	}()
	rc, err := src.Open()
	if err != nil {
		return fmt.Errorf("transform: open %s: %w", src.Name, err)
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("transform: close %s: %w", src.Name, cerr)
		}
	}()
	w.stats = Stats{Rows: map[string]int64{}}
	w.lineNo = 0
	w.br.Reset(rc)
	for {
		line, n, truncated, rerr := w.readLine()
		if n > 0 {
			w.lineNo++
			w.stats.Bytes += int64(n)
			if w.lineNo&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if truncated {
				w.stats.Lines++
				msg := fmt.Sprintf("line of %d bytes is longer than the limit of %d bytes (raw line truncated)", n, w.e.opts.maxLine)
				if err := w.quarantine(ctx, rs, src, line, msg); err != nil {
					return err
				}
			} else if err := w.processLine(ctx, rs, src, line); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("transform: read %s: %w", src.Name, rerr)
		}
	}
	for _, tb := range w.tb {
		if err := w.flush(rs, tb); err != nil {
			return err
		}
	}
	rs.statsMu.Lock()
	rs.stats.Files++
	rs.stats.Lines += w.stats.Lines
	rs.stats.Bytes += w.stats.Bytes
	rs.stats.Resources += w.stats.Resources
	rs.stats.Skipped += w.stats.Skipped
	rs.stats.Batches += w.stats.Batches
	rs.stats.Rounded = addCounts(rs.stats.Rounded, w.stats.Rounded)
	for k, v := range w.stats.Rows {
		rs.stats.Rows[k] += v
	}
	rs.statsMu.Unlock()
	return nil
}

// readLine returns the next line without its line ending (aliasing internal buffers), the
// number of bytes consumed (0 at end of input), and whether the line was longer than the
// limit (then only its first maxLine bytes are returned; the rest is read and discarded).
func (w *worker) readLine() (line []byte, n int, truncated bool, err error) {
	b, err := w.br.ReadSlice('\n')
	n = len(b)
	if err == bufio.ErrBufferFull {
		max := w.e.opts.maxLine
		w.line = append(w.line[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = w.br.ReadSlice('\n')
			n += len(b)
			if room := max - len(w.line); room > 0 {
				w.line = append(w.line, b[:min(room, len(b))]...)
			}
		}
		truncated = n > max && !(n == max+1 && len(b) > 0 && b[len(b)-1] == '\n')
		b = w.line
	}
	if l := len(b); l > 0 && b[l-1] == '\n' {
		b = b[:l-1]
		if l := len(b); l > 0 && b[l-1] == '\r' {
			b = b[:l-1]
		}
	}
	return b, n, truncated, err
}

// typeName quotes a resourceType for an error message if it looks like a FHIR type
// name; anything else could be data (PHI) in the wrong field, so it is not shown.
func typeName(rt string) string {
	ok := len(rt) > 0 && len(rt) <= 64 && rt[0] >= 'A' && rt[0] <= 'Z'
	for i := 0; ok && i < len(rt); i++ {
		c := rt[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if !ok {
		return "(not a type name, not shown)"
	}
	return strconv.Quote(rt)
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (w *worker) processLine(ctx context.Context, rs *runState, src Source, line []byte) error {
	if blank(line) {
		return nil
	}
	w.stats.Lines++
	if err := w.doc.Parse(line); err != nil {
		return w.quarantineErr(ctx, rs, src, line, err)
	}
	root := int32(0)
	if w.doc.Nodes[0].Kind != jsontree.Object {
		return w.quarantine(ctx, rs, src, line, "line is not a JSON object")
	}
	rtn := w.doc.Child(root, "resourceType")
	if rtn < 0 || w.doc.Nodes[rtn].Kind != jsontree.String {
		return w.quarantine(ctx, rs, src, line, "no resourceType")
	}
	rt := w.doc.Str(rtn)
	if src.Type != "" && rt != src.Type {
		return w.quarantine(ctx, rs, src, line, fmt.Sprintf("resourceType %s in a %s file", typeName(rt), src.Type))
	}
	idx := w.e.byType[rt]
	if len(idx) == 0 {
		if src.Type != "" {
			return w.quarantine(ctx, rs, src, line, fmt.Sprintf("no view reads resourceType %s", typeName(rt)))
		}
		w.stats.Skipped++
		return nil
	}
	// Phase 1: evaluate every view and convert every value; nothing is appended yet,
	// so a resource that breaks one view adds no rows to any table.
	ev := &w.ev
	ev.resetLine(&w.doc, root)
	for _, ti := range idx {
		tb := w.tb[ti]
		tb.slot0, tb.nrows = len(ev.slots), 0
		n, err := ev.viewRows(tb.t, true)
		if err != nil {
			return w.quarantineErr(ctx, rs, src, line, err)
		}
		tb.nrows = n
	}
	// Phase 2: append (cannot fail).
	for _, ti := range idx {
		tb := w.tb[ti]
		if tb.nrows == 0 {
			continue
		}
		w.appendRows(tb)
		tb.n += tb.nrows
		tb.rows += int64(tb.nrows)
		w.stats.Rows[tb.t.v.Name] += int64(tb.nrows)
		if tb.n >= w.e.opts.batchRows {
			// the table fills batches: size the next one like this one once, instead of
			// growing every buffer by doubling (offsets, validity, values, string bytes)
			tb.dataLen = tb.dataLen[:0]
			for i := range tb.b.Fields() {
				if sb, ok := tb.b.Field(i).(*array.StringBuilder); ok {
					tb.dataLen = append(tb.dataLen, sb.DataLen())
				}
			}
			if err := w.flush(rs, tb); err != nil {
				return err
			}
			tb.b.Reserve(w.e.opts.batchRows)
			k := 0
			for i := range tb.b.Fields() {
				if sb, ok := tb.b.Field(i).(*array.StringBuilder); ok && k < len(tb.dataLen) {
					sb.ReserveData(tb.dataLen[k])
					k++
				}
			}
		}
	}
	w.stats.Resources++
	return nil
}

func (w *worker) appendRows(tb *tableBuf) {
	ev := &w.ev
	cols := tb.t.cols
	nc := len(cols)
	for r := 0; r < tb.nrows; r++ {
		base := tb.slot0 + r*nc
		for ci := range cols {
			cs := &cols[ci]
			fb := tb.b.Field(ci)
			sl := ev.slots[base+ci]
			if cs.collection {
				lb := fb.(*array.ListBuilder)
				lb.Append(true)
				vb := lb.ValueBuilder()
				for k := sl.lo; k < sl.hi; k++ {
					if appendVal(cs.kind, vb, &ev.vals[k]) {
						w.stats.countRounded(cs.round)
					}
				}
				continue
			}
			if sl.hi == sl.lo {
				fb.AppendNull()
				continue
			}
			if appendVal(cs.kind, fb, &ev.vals[sl.lo]) {
				w.stats.countRounded(cs.round)
			}
		}
		if l := w.e.opts.lineage; l != nil {
			tb.b.Field(nc).(*array.StringBuilder).Append(l.JobID)
			tb.b.Field(nc + 1).(*array.StringBuilder).Append(l.FHIRVersion)
			tb.b.Field(nc + 2).(*array.TimestampBuilder).Append(arrow.Timestamp(l.IngestedAt.UnixMicro()))
		}
	}
}

func (w *worker) flush(rs *runState, tb *tableBuf) error {
	if tb.n == 0 {
		return nil
	}
	rec := tb.b.NewRecordBatch()
	tb.n = 0
	w.stats.Batches++
	rs.emitMu.Lock()
	defer rs.emitMu.Unlock()
	return rs.emit(Batch{Table: tb.t.v.Name, Record: rec})
}

// quarantine sets a line aside. msg goes into errors Run returns (and so into logs):
// it must name where and why but never quote data; detail (msg plus the offending
// value, if any) goes only into the quarantine record.
func (w *worker) quarantine(ctx context.Context, rs *runState, src Source, line []byte, msg string) error {
	return w.quarantineDetail(ctx, rs, src, line, msg, msg)
}

// quarantineErr quarantines a line for err, keeping a ValueError's value out of msg.
func (w *worker) quarantineErr(ctx context.Context, rs *runState, src Source, line []byte, err error) error {
	return w.quarantineDetail(ctx, rs, src, line, err.Error(), details(err))
}

func (w *worker) quarantineDetail(ctx context.Context, rs *runState, src Source, line []byte, msg, detail string) error {
	n := rs.quarantined.Add(1)
	// The line that crosses the threshold is quarantined too: the error sends people to
	// the quarantine file, which must then hold it.
	if q := w.e.opts.quarantine; q != nil {
		rec := QuarantineRecord{File: src.Name, Line: w.lineNo + src.lineBase(), Err: detail, Raw: append([]byte(nil), line...)}
		rs.qMu.Lock()
		err := q.Put(ctx, rec)
		rs.qMu.Unlock()
		if err != nil {
			return fmt.Errorf("transform: quarantine %s line %d: %w", src.Name, w.lineNo+src.lineBase(), err)
		}
	}
	if mc := w.e.opts.maxCount; mc >= 0 && n > mc {
		return fmt.Errorf("%w: %s line %d: %s", ErrQuarantineThreshold, src.Name, w.lineNo+src.lineBase(), msg)
	}
	return nil
}

// Rows evaluates one resource (a JSON object) with every view on its resource type and
// returns table name → rows, each row a map of column name → plain Go value (string,
// json.Number with the exact text of a number, bool, []any for collection columns, nil for null). It is the JSON evaluation
// mode of the same compiled plans (used by the conformance suite); values are not typed
// into Arrow, but the same rules on multiple values in a non-collection column apply.
func (e *Engine) Rows(resource []byte) (map[string][]map[string]any, error) {
	doc := jsontree.Doc{Filter: e.keys}
	if err := doc.Parse(resource); err != nil {
		return nil, err
	}
	if doc.Nodes[0].Kind != jsontree.Object {
		return nil, fmt.Errorf("transform: resource is not a JSON object")
	}
	rtn := doc.Child(0, "resourceType")
	if rtn < 0 || doc.Nodes[rtn].Kind != jsontree.String {
		return nil, fmt.Errorf("transform: resource has no resourceType")
	}
	var ev evaluator
	ev.init(e)
	ev.resetLine(&doc, 0)
	out := map[string][]map[string]any{}
	for _, ti := range e.byType[doc.Str(rtn)] {
		t := e.tables[ti]
		start, err := ev.rows(t.v)
		if err != nil {
			return nil, err
		}
		rows := []map[string]any{}
		if start >= 0 {
			for _, row := range ev.rs[start:] {
				m := make(map[string]any, len(t.cols))
				for ci, cs := range t.cols {
					c := ev.cells[row+int32(ci)]
					if !cs.collection && c.hi-c.lo > 1 {
						return nil, fmt.Errorf("%s: view %q: column %q: %d values where one is allowed", ev.resourceLabel(), t.v.Name, cs.col.Name, c.hi-c.lo)
					}
					if cs.collection {
						vals := []any{}
						for k := c.lo; k < c.hi; k++ {
							v, err := ev.jsonValue(&ev.items[k])
							if err != nil {
								return nil, err
							}
							vals = append(vals, v)
						}
						m[cs.col.Name] = vals
						continue
					}
					if c.hi == c.lo {
						m[cs.col.Name] = nil
						continue
					}
					v, err := ev.jsonValue(&ev.items[c.lo])
					if err != nil {
						return nil, err
					}
					m[cs.col.Name] = v
				}
				rows = append(rows, m)
			}
		}
		out[t.v.Name] = append(out[t.v.Name], rows...)
	}
	return out, nil
}
