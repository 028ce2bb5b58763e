package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/killpoint"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// FHIRVersion is what DPC serves: the default of fhir_version.
const FHIRVersion = schemas.STU3

// ViewsFor returns the built-in claims views of a FHIR version plus those of views_dir.
func ViewsFor(version, viewsDir string) ([]*view.View, error) {
	vs, err := schemas.Views(version)
	if err != nil {
		return nil, err
	}
	if viewsDir == "" {
		return vs, nil
	}
	extra, err := schemas.LoadDir(viewsDir)
	if err != nil {
		return nil, fmt.Errorf("%w: views_dir: %v", config.ErrInvalid, err)
	}
	return append(vs, extra...), nil
}

// runID names a group's load run after its export window, so that every attempt at the
// same window (a retry, a rerun after a crash, even with a new DPC job) replaces the files
// of the earlier attempt instead of adding to them. Full exports are windows per day.
func runID(group string, since, txTime time.Time, mode string) string {
	h := sha256.Sum256([]byte(group))
	g := hex.EncodeToString(h[:8]) // 64 bits: no birthday collision across a fleet of groups
	if mode == "full" {
		return "full-" + txTime.UTC().Format("20060102") + "-" + g
	}
	if since.IsZero() {
		return "inc-initial-" + g
	}
	return "inc-" + since.UTC().Format("20060102T150405.000000000Z") + "-" + g
}

// splitBytes is the least a part of a split file holds: parts are cut for parallelism,
// never so small that opening them costs more than reading them.
const splitBytes = 8 << 20

// transform runs the views over a job's verified files and hands every batch to emit.
func (r *Runner) transform(ctx context.Context, group, jobID string, m *export.Manifest, files []extract.File, gs *GroupSummary,
	emit func(transform.Batch) error) error {
	start := r.now()
	defer func() { gs.Durations["transform"] += r.now().Sub(start).Seconds() }()
	gs.noteSuppressed(files)
	byVersion, err := FileVersions(r.cfg.FHIRVersion, files)
	if err != nil {
		return err
	}
	q := &transform.QuarantineFile{Path: r.quarantinePath(group, jobID)}
	// Every batch is counted for report.html and checked (schemas.Checker) before it is written.
	chk, col := schemas.NewChecker(), report.NewCollector()
	gs.collector = col
	emit = col.Wrap(chk.Wrap(emit))
	ex := newExport(files)
	ex.Deleted = map[string]int64{}
	var raw []extract.File
	// One engine per FHIR version present (fhir_version auto decides per file); each stamps
	// its version into source_fhir_version. deleted[] files have their own engine.
	var stats transform.Stats
	for _, ver := range []string{schemas.STU3, schemas.R4} {
		if len(byVersion[ver]) == 0 || err != nil {
			continue
		}
		var views []*view.View
		if views, err = ViewsFor(ver, r.cfg.ViewsDir); err != nil {
			return err
		}
		mainViews, delViews, mainFiles, delFiles, rawFiles := route(views, byVersion[ver])
		raw = append(raw, rawFiles...)
		lineage := transform.Lineage{JobID: jobID, FHIRVersion: ver, IngestedAt: r.now().UTC()}
		for _, part := range []struct {
			views []*view.View
			files []extract.File
			emit  func(transform.Batch) error
		}{{mainViews, mainFiles, emit}, {delViews, delFiles, countDeleted(ex.Deleted, emit)}} {
			if err != nil {
				break
			}
			maxLines := r.cfg.Quarantine.MaxLines // the limit is for the whole job
			if maxLines >= 0 {
				maxLines = max(0, maxLines-int(stats.Quarantined))
			}
			var st transform.Stats
			st, err = r.runViews(ctx, part.views, lineage, q, maxLines, part.files, part.emit)
			stats.Quarantined += st.Quarantined
			stats.Lines += st.Lines
			ex.Rounded = addCounts(ex.Rounded, st.Rounded)
		}
	}
	gs.lines += stats.Lines
	if f := r.cfg.Quarantine.MaxFraction; err == nil && f > 0 && stats.Lines > 0 && float64(stats.Quarantined) > f*float64(stats.Lines) {
		err = fmt.Errorf("%w: %d of %d lines quarantined (limit %.4g%%)", transform.ErrQuarantineThreshold, stats.Quarantined, stats.Lines, f*100)
	}
	gs.noteExport(ex, settle(ex, files, raw, q))
	gs.noteWarnings(chk)
	if lerr := chk.Limit(r.cfg.MaxWarnings); err == nil && lerr != nil {
		err = fmt.Errorf("%w: %w (max_warnings; nothing was published)", ErrBadData, lerr)
	}
	if cerr := q.Close(); err == nil && cerr != nil {
		err = cerr
	}
	gs.Quarantined += int(stats.Quarantined)
	if stats.Quarantined > 0 {
		gs.QuarantineFile = q.Path
		r.log.Warn("lines quarantined", "group", group, "job", jobID, "lines", stats.Quarantined, "file", q.Path)
	}
	if errors.Is(err, transform.ErrQuarantineThreshold) {
		return fmt.Errorf("%w: %w (quarantined lines are in %s)", ErrBadData, err, q.Path)
	}
	return err
}

// slotted makes src take one of the runner's transform slots from Open to Close, so that
// groups transforming at once share the cores instead of multiplying the workers.
func (r *Runner) slotted(ctx context.Context, src transform.Source) transform.Source {
	open := src.Open
	if r.slots == nil { // a Runner not made by New (tests)
		return src
	}
	src.Open = func() (io.ReadCloser, error) {
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		rc, err := open()
		if err != nil {
			<-r.slots
			return nil, err
		}
		return &slotCloser{ReadCloser: rc, free: func() { <-r.slots }}, nil
	}
	return src
}

type slotCloser struct {
	io.ReadCloser
	free func()
	once sync.Once
}

func (s *slotCloser) Close() error {
	s.once.Do(s.free)
	return s.ReadCloser.Close()
}

// transformLoad streams transform into a load run, commits it, then moves the watermark.
func (r *Runner) transformLoad(ctx context.Context, group, jobID string, m *export.Manifest, files []extract.File, gs *GroupSummary) error {
	run, since, err := r.newRun(ctx, group, jobID, m)
	if err != nil {
		return err
	}
	defer run.Abort(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var loadSecs float64
	err = r.transform(ctx, group, jobID, m, files, gs, func(b transform.Batch) error {
		defer b.Record.Release()
		killpoint.Reach("transform.batch")
		t0 := r.now()
		err := run.Write(ctx, b.Table, b.Record)
		mu.Lock()
		loadSecs += r.now().Sub(t0).Seconds()
		mu.Unlock()
		return err
	})
	if err != nil {
		return err
	}
	gs.Durations["transform"] -= loadSecs
	gs.Durations["load"] += loadSecs
	return r.commit(ctx, run, group, jobID, since, m, gs)
}

func (r *Runner) newRun(ctx context.Context, group, jobID string, m *export.Manifest) (*load.Run, time.Time, error) {
	// `dpcetl load` reaches here without the export stage: an interrupted publish must be
	// undone (or finished) before a new run id publishes.
	if err := r.recoverPending(ctx, group); err != nil {
		return nil, time.Time{}, err
	}
	st, err := export.LoadState(r.jobsDir(), group)
	if err != nil {
		return nil, time.Time{}, err
	}
	var since time.Time
	if st != nil {
		since = st.Since
	}
	run, err := load.NewRun(r.sink, load.RunOptions{
		RunID:           runID(group, since, m.TransactionTime, r.cfg.Since),
		ExportDate:      m.TransactionTime,
		Group:           group,
		JobID:           jobID,
		TransactionTime: m.TransactionTime,
		SchemaVersion:   schemas.Version,
		DPCETLVersion:   r.opts.Version,
		Now:             r.now,
		Budget:          r.budget,
	})
	return run, since, err
}

// commit publishes the run and only then advances the watermark. A pending record in the
// destination covers the gap between the two: a process killed there is repaired by the
// next run (recoverPending).
func (r *Runner) commit(ctx context.Context, run *load.Run, group, jobID string, since time.Time, m *export.Manifest, gs *GroupSummary) error {
	start := r.now()
	defer func() { gs.Durations["load"] += r.now().Sub(start).Seconds() }()
	id := runID(group, since, m.TransactionTime, r.cfg.Since)
	p := pending{Group: group, JobID: jobID, RunID: id, ExportDate: m.TransactionTime.UTC().Format(time.DateOnly), Since: since, TransactionTime: m.TransactionTime}
	if gs.export != nil {
		if err := r.publishRaw(ctx, run, gs); err != nil {
			return err
		}
		if err := run.Describe(gs.export); err != nil {
			return err
		}
		p.Hold = gs.export.WatermarkHeld
	}
	if err := r.checkLock(group); err != nil {
		return err
	}
	if err := putJSON(ctx, r.sink, pendingKey(group), p); err != nil {
		return err
	}
	killpoint.Reach("commit.pending")
	man, err := run.Commit(ctx)
	if err != nil {
		return err
	}
	killpoint.Reach("commit.committed")
	for t, n := range man.Tables {
		gs.Rows[t] += int64(n)
	}
	for _, f := range man.Files {
		gs.Outputs = append(gs.Outputs, r.sink.URL(f.Key))
	}
	if err := r.advance(ctx, p); err != nil {
		return fmt.Errorf("run %s is committed but the watermark did not move (the next run repairs it): %w", id, err)
	}
	if p.Hold != "" {
		r.log.Warn("run committed; the watermark holds", "group", group, "job", jobID, "run", id, "why", p.Hold)
	} else {
		gs.Watermark = m.TransactionTime.UTC().Format(time.RFC3339Nano)
	}
	if gs.collector != nil {
		if key, err := r.writeReport(ctx, man, p, gs); err != nil {
			r.log.Warn("report.html not written (the run is committed)", "group", group, "run", id, "error", err)
		} else {
			gs.Report = r.sink.URL(key)
		}
	}
	r.log.Info("group committed", "group", group, "job", jobID, "run", id, "rows", man.Tables, "watermark", gs.Watermark)
	r.removeLocal(group, jobID)
	return nil
}

// advance writes the watermark for a committed run (unless it holds) and clears the pending record.
func (r *Runner) advance(ctx context.Context, p pending) error {
	if p.Hold != "" {
		return r.sink.Delete(ctx, pendingKey(p.Group))
	}
	wm := Watermark{Group: p.Group, TransactionTime: p.TransactionTime.UTC(), JobID: p.JobID, RunID: p.RunID, Since: p.Since, CommittedAt: r.now().UTC()}
	if err := putJSON(ctx, r.sink, WatermarkKey(p.Group), wm); err != nil {
		return err
	}
	killpoint.Reach("commit.watermark")
	return r.sink.Delete(ctx, pendingKey(p.Group))
}

// recoverPending finishes what a killed process left between the pending record and the
// watermark: if the pending run committed, the watermark moves to it; if not, whatever it
// published is rolled back before the record is dropped. The next attempt may have another
// run id (a full rerun on another UTC day, full then incremental), so leaving the partial
// files for it to replace would show them beside its own. The run lock guarantees that the
// pending run's process is gone.
func (r *Runner) recoverPending(ctx context.Context, group string) error {
	var p pending
	ok, err := getJSON(ctx, r.sink, pendingKey(group), &p)
	if err != nil || !ok {
		return err
	}
	_, err = load.ReadManifest(ctx, r.sink, p.RunID)
	switch {
	case err == nil:
		wm, werr := ReadWatermark(ctx, r.sink, group)
		if werr != nil {
			return werr
		}
		if wm == nil || wm.TransactionTime.Before(p.TransactionTime) {
			r.log.Warn("repairing the watermark of a run committed by an interrupted process", "group", group, "run", p.RunID)
			return r.advance(ctx, p)
		}
		return r.sink.Delete(ctx, pendingKey(group))
	case errors.Is(err, sink.ErrNotExist):
		committed, err := load.RollBack(ctx, r.sink, p.RunID)
		if err != nil {
			return fmt.Errorf("roll back run %s interrupted mid-publish (the next run retries): %w", p.RunID, err)
		}
		if committed {
			// _SUCCESS appeared between the two reads: never undo a committed run.
			return r.recoverPending(ctx, group)
		}
		r.log.Warn("rolled back a run interrupted before it committed", "group", group, "run", p.RunID)
		return r.sink.Delete(ctx, pendingKey(group))
	}
	return err
}

// Transform runs the views over each group's downloaded files and keeps the tables as
// Arrow IPC streams in the state directory for `dpcetl load`.
func (r *Runner) Transform(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	release, err := r.lock(ctx, "dpcetl transform")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		job, err := r.completedJob(group, gs)
		if err != nil {
			return err
		}
		files, err := r.download(ctx, job, gs) // verified files are not fetched again
		if err != nil {
			return err
		}
		dir := r.tablesDir(group, job.ID)
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			return err
		}
		writers := map[string]*ipcFile{}
		defer func() {
			for _, w := range writers {
				w.close()
			}
		}()
		err = r.transform(ctx, group, job.ID, job.Manifest, files, gs, func(b transform.Batch) error {
			defer b.Record.Release()
			w := writers[b.Table]
			if w == nil {
				var err error
				if w, err = newIPCFile(filepath.Join(tmp, b.Table+".arrows"), b.Record.Schema()); err != nil {
					return err
				}
				writers[b.Table] = w
			}
			gs.Rows[b.Table] += b.Record.NumRows()
			return w.w.Write(b.Record)
		})
		if err != nil {
			os.RemoveAll(tmp)
			return err
		}
		for t, w := range writers {
			if err := w.close(); err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
		}
		if err := saveStaged(tmp, gs); err != nil {
			return err
		}
		os.RemoveAll(dir)
		return os.Rename(tmp, dir)
	})
	return sum, r.finish(ctx, err)
}

type ipcFile struct {
	f      *os.File
	w      *ipc.Writer
	closed bool
}

func newIPCFile(path string, schema *arrow.Schema) (*ipcFile, error) {
	// 0600: the table holds claims (PHI) at rest
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &ipcFile{f: f, w: ipc.NewWriter(f, ipc.WithSchema(schema))}, nil
}

func (i *ipcFile) close() error {
	if i.closed {
		return nil
	}
	i.closed = true
	err := i.w.Close()
	if cerr := i.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Load writes each group's transformed tables as Parquet, commits, then advances the watermark.
func (r *Runner) Load(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	release, err := r.lock(ctx, "dpcetl load")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		job, err := r.completedJob(group, gs)
		if err != nil {
			return err
		}
		dir := r.tablesDir(group, job.ID)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("%w: no transformed tables for job %s of group %s in %s: run 'dpcetl transform' first", config.ErrInvalid, job.ID, group, dir)
		}
		if err := loadStaged(dir, gs); err != nil {
			return err
		}
		run, since, err := r.newRun(ctx, group, job.ID, job.Manifest)
		if err != nil {
			return err
		}
		defer run.Abort(context.WithoutCancel(ctx))
		start := r.now()
		// The report's figures and warnings are counted again here, from the tables as loaded.
		chk := schemas.NewChecker()
		gs.collector = report.NewCollector()
		for _, e := range entries {
			table, ok := strings.CutSuffix(e.Name(), ".arrows")
			if !ok {
				continue
			}
			if err := loadIPC(ctx, filepath.Join(dir, e.Name()), table, run, gs.collector, chk); err != nil {
				return err
			}
		}
		gs.noteWarnings(chk)
		gs.Durations["load"] += r.now().Sub(start).Seconds()
		return r.commit(ctx, run, group, job.ID, since, job.Manifest, gs)
	})
	return sum, r.finish(ctx, err)
}

func loadIPC(ctx context.Context, path, table string, run *load.Run, col *report.Collector, chk *schemas.Checker) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := ipc.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer rd.Release()
	for rd.Next() {
		col.Observe(table, rd.RecordBatch())
		if err := chk.Observe(table, rd.RecordBatch()); err != nil {
			return err
		}
		if err := run.Write(ctx, table, rd.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// FileVersions sorts a job's files by FHIR version: all under STU3 or R4 when fhir_version
// names one, else (auto) each by its resources' shape (schemas.DetectVersion). A file whose
// shape decides nothing (Patient-only, error files) follows the files that decided, or STU3
// (what DPC serves) when none did; files that disagree with each other are fine, one file
// with both shapes is an error.
func FileVersions(setting string, files []extract.File) (map[string][]extract.File, error) {
	ver, err := schemas.ParseVersion(setting)
	if err != nil {
		return nil, fmt.Errorf("%w: fhir_version: %v", config.ErrInvalid, err)
	}
	out := map[string][]extract.File{}
	if ver != schemas.Auto {
		out[ver] = files
		return out, nil
	}
	var undecided []extract.File
	for _, f := range files {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, err
		}
		v, decided, err := schemas.DetectVersion(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadData, f.Path, err)
		}
		if !decided {
			undecided = append(undecided, f)
			continue
		}
		out[v] = append(out[v], f)
	}
	fallback := schemas.STU3
	if len(out[schemas.STU3]) == 0 && len(out[schemas.R4]) > 0 {
		fallback = schemas.R4
	}
	out[fallback] = append(out[fallback], undecided...)
	return out, nil
}

// writeReport puts report.html beside the run's manifest (_runs/{run}/report.html).
func (r *Runner) writeReport(ctx context.Context, man load.Manifest, p pending, gs *GroupSummary) (string, error) {
	d := report.Data{Manifest: man, Watermark: gs.Watermark, Durations: gs.Durations, Lines: gs.lines, Quarantined: int64(gs.Quarantined),
		SuppressedWhy: gs.SuppressedWhy, Export: gs.export}
	if !p.Since.IsZero() {
		d.Since = p.Since.UTC().Format(time.RFC3339Nano)
	}
	for k, n := range gs.Warnings {
		table, kind, _ := strings.Cut(k, ".")
		d.Warnings = append(d.Warnings, report.Warning{Table: table, Kind: kind, Count: n})
	}
	report.SortWarnings(d.Warnings)
	key := load.RunDir(man.RunID) + "/report.html"
	w, err := r.sink.NewWriter(ctx, key)
	if err != nil {
		return "", err
	}
	if err := report.Render(w, d, gs.collector); err != nil {
		w.Abort()
		return "", err
	}
	return key, w.Commit()
}
