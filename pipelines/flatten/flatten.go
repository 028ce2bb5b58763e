// Package flatten turns local FHIR NDJSON files (plain or gzip; from DPC, BCDA, AB2D, Blue
// Button or a previous export) into the same claims tables as a DPC run, committed atomically.
package flatten

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// Sentinel errors.
var (
	// ErrInvalid: unusable options (no inputs, a missing file, a bad FHIR version, ...).
	ErrInvalid = errors.New("flatten: invalid options")
	// ErrBadData: the input broke the quarantine threshold or one file mixes FHIR versions.
	ErrBadData = errors.New("flatten: bad input data")
)

// Options describe one flatten run.
type Options struct {
	Inputs      []string // files and directories (directories: every *.ndjson / *.ndjson.gz / *.jsonl(.gz) below)
	Destination string   // directory, file:///dir or s3://bucket/prefix
	FHIRVersion string   // STU3, R4 or auto (default auto: decided per file)
	ViewsDir    string   // extra ViewDefinitions
	Group       string   // partition value (default "local")
	// QuarantinePath receives quarantined lines as NDJSON (default: quarantine-{run}.ndjson
	// in the current directory, written only when a line is quarantined).
	QuarantinePath string
	// MaxQuarantined fails the run (nothing published) when more lines than this are
	// quarantined; negative: no limit.
	MaxQuarantined int
	// MaxWarnings fails the run (nothing published) when the claims checks (schemas.Checker)
	// count more warnings than this; negative: never.
	MaxWarnings int
	Concurrency int
	Version     string           // dpcetl version recorded in the manifest
	Now         func() time.Time // default time.Now
	SinkOptions []sink.Option
}

// FileResult is what happened to one input file.
type FileResult struct {
	Path        string `json:"path"`
	FHIRVersion string `json:"fhir_version"`
	Detected    bool   `json:"detected"` // decided from the resources' shape (auto); false: configured or defaulted
	Gzip        bool   `json:"gzip"`
}

// Summary is the outcome of a run.
type Summary struct {
	RunID       string           `json:"run_id"`
	Files       []FileResult     `json:"files"`
	Lines       int64            `json:"lines"`
	Resources   int64            `json:"resources"`
	Skipped     int64            `json:"skipped"`
	Quarantined int64            `json:"quarantined"`
	Quarantine  string           `json:"quarantine_file,omitempty"`
	Rows        map[string]int64 `json:"rows"`
	Warnings    map[string]int64 `json:"warnings,omitempty"` // "table.kind" → count
	Report      string           `json:"report,omitempty"`   // report.html beside the manifest
	Manifest    load.Manifest    `json:"manifest"`
}

// Collect expands the inputs into a sorted list of files: a named file is taken whatever its
// name; a directory contributes every NDJSON file below it (.ndjson, .jsonl, optionally .gz).
func Collect(inputs []string) ([]string, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w: no --in files or directories", ErrInvalid)
	}
	seen := map[string]bool{}
	var out []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if !st.IsDir() {
			if !seen[in] {
				seen[in] = true
				out = append(out, in)
			}
			continue
		}
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n := strings.TrimSuffix(strings.ToLower(d.Name()), ".gz")
			if !d.IsDir() && (strings.HasSuffix(n, ".ndjson") || strings.HasSuffix(n, ".jsonl")) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no NDJSON files in %s", ErrInvalid, strings.Join(inputs, ", "))
	}
	sort.Strings(out)
	return out, nil
}

// open returns the decompressed content of a file; gzip is recognised by its magic bytes,
// not its name.
func open(path string) (io.ReadCloser, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, true, fmt.Errorf("%s: %w", path, err)
		}
		return &gzFile{zr: zr, f: f}, true, nil
	}
	return &plainFile{Reader: br, f: f}, false, nil
}

type plainFile struct {
	io.Reader
	f *os.File
}

func (p *plainFile) Close() error { return p.f.Close() }

type gzFile struct {
	zr *gzip.Reader
	f  *os.File
}

func (g *gzFile) Read(p []byte) (int, error) { return g.zr.Read(p) }
func (g *gzFile) Close() error {
	err := g.zr.Close()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runID names the run after its inputs (paths, sizes, modification times), so flattening the
// same files again replaces the earlier run's files instead of adding to them.
func runID(files []string) (string, error) {
	h := sha256.New()
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		abs, _ := filepath.Abs(p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", abs, st.Size(), st.ModTime().UnixNano())
	}
	return "flatten-" + hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// Run flattens the inputs into the destination: one load run, published atomically (readers
// see all of it or nothing), quarantined lines written to Options.QuarantinePath.
func Run(ctx context.Context, o Options) (Summary, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Group == "" {
		o.Group = "local"
	}
	setting := o.FHIRVersion
	if setting == "" {
		setting = schemas.Auto
	}
	ver, err := schemas.ParseVersion(setting)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if o.Destination == "" {
		return Summary{}, fmt.Errorf("%w: no --out destination", ErrInvalid)
	}
	files, err := Collect(o.Inputs)
	if err != nil {
		return Summary{}, err
	}
	id, err := runID(files)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sum := Summary{RunID: id, Rows: map[string]int64{}}
	byVersion := map[string][]int{}
	var undecided []int
	for i, p := range files {
		rc, gz, err := open(p)
		if err != nil {
			return sum, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		fr := FileResult{Path: p, FHIRVersion: ver, Gzip: gz}
		if ver == schemas.Auto {
			v, decided, derr := schemas.DetectVersion(rc)
			if derr != nil {
				rc.Close()
				return sum, fmt.Errorf("%w: %s: %v", ErrBadData, p, derr)
			}
			fr.FHIRVersion, fr.Detected = v, decided
			if !decided {
				undecided = append(undecided, i)
			}
		}
		rc.Close()
		sum.Files = append(sum.Files, fr)
		if fr.Detected || ver != schemas.Auto {
			byVersion[fr.FHIRVersion] = append(byVersion[fr.FHIRVersion], i)
		}
	}
	// Files whose shape decides nothing (Patient-only, error files) follow the decided ones.
	fallback := schemas.STU3
	if len(byVersion[schemas.STU3]) == 0 && len(byVersion[schemas.R4]) > 0 {
		fallback = schemas.R4
	}
	for _, i := range undecided {
		sum.Files[i].FHIRVersion = fallback
		byVersion[fallback] = append(byVersion[fallback], i)
	}

	s, err := sink.Open(ctx, o.Destination, o.SinkOptions...)
	if err != nil {
		return sum, fmt.Errorf("%w: destination %s: %v", ErrInvalid, o.Destination, err)
	}
	defer s.Close()
	now := o.Now().UTC()
	run, err := load.NewRun(s, load.RunOptions{
		RunID: id, ExportDate: now, Group: o.Group, JobID: id, TransactionTime: now,
		SchemaVersion: schemas.Version, DPCETLVersion: o.Version, Now: o.Now,
	})
	if err != nil {
		return sum, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer run.Abort(context.WithoutCancel(ctx))

	qpath := o.QuarantinePath
	if qpath == "" {
		qpath = "quarantine-" + id + ".ndjson"
	}
	q := &transform.QuarantineFile{Path: qpath}
	var mu sync.Mutex
	chk, col := schemas.NewChecker(), report.NewCollector()
	emit := col.Wrap(chk.Wrap(func(b transform.Batch) error {
		defer b.Record.Release()
		mu.Lock()
		sum.Rows[b.Table] += b.Record.NumRows()
		mu.Unlock()
		return run.Write(ctx, b.Table, b.Record)
	}))
	start := o.Now()
	maxQ := o.MaxQuarantined
	for _, v := range []string{schemas.STU3, schemas.R4} {
		idx := byVersion[v]
		if len(idx) == 0 {
			continue
		}
		views, err := schemas.AllViews(v, o.ViewsDir)
		if err != nil {
			return sum, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		st, err := runVersion(ctx, views, v, id, now, o.Concurrency, q, maxQ, files, idx, emit)
		sum.Lines += st.Lines
		sum.Resources += st.Resources
		sum.Skipped += st.Skipped
		sum.Quarantined += st.Quarantined
		if maxQ >= 0 {
			maxQ -= int(st.Quarantined) // the threshold is for the whole run
			if maxQ < 0 {
				maxQ = 0
			}
		}
		if err != nil {
			q.Close()
			if errors.Is(err, transform.ErrQuarantineThreshold) {
				return sum, fmt.Errorf("%w: %w (quarantined lines are in %s; nothing was published)", ErrBadData, err, qpath)
			}
			return sum, err
		}
	}
	if err := q.Close(); err != nil {
		return sum, fmt.Errorf("flatten: quarantine file: %w", err)
	}
	if q.Lines("") > 0 {
		sum.Quarantine = qpath
	}
	var ws []report.Warning
	for _, w := range chk.Warnings() {
		if sum.Warnings == nil {
			sum.Warnings = map[string]int64{}
		}
		sum.Warnings[w.Table+"."+w.Kind] += w.Count
		ws = append(ws, report.Warning{Table: w.Table, Kind: w.Kind, Count: w.Count})
	}
	if err := chk.Limit(o.MaxWarnings); err != nil {
		return sum, fmt.Errorf("%w: %w (nothing was published)", ErrBadData, err)
	}
	transformed := o.Now().Sub(start).Seconds()
	m, err := run.Commit(ctx)
	if err != nil {
		return sum, err
	}
	sum.Manifest = m
	d := report.Data{Manifest: m, Lines: sum.Lines, Quarantined: sum.Quarantined, Warnings: ws,
		Durations: map[string]float64{"transform+load": transformed, "commit": o.Now().Sub(start).Seconds() - transformed}}
	key := load.RunDir(m.RunID) + "/report.html"
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		return sum, fmt.Errorf("flatten: report.html (the run is committed): %w", err)
	}
	if err := report.Render(w, d, col); err != nil {
		w.Abort()
		return sum, fmt.Errorf("flatten: report.html (the run is committed): %w", err)
	}
	if err := w.Commit(); err != nil {
		return sum, fmt.Errorf("flatten: report.html (the run is committed): %w", err)
	}
	sum.Report = s.URL(key)
	return sum, nil
}

func runVersion(ctx context.Context, views []*view.View, version, jobID string, now time.Time, conc int, q transform.Quarantine,
	maxQ int, files []string, idx []int, emit func(transform.Batch) error) (transform.Stats, error) {
	opts := []transform.Option{
		transform.WithLineage(transform.Lineage{JobID: jobID, FHIRVersion: version, IngestedAt: now}),
		transform.WithQuarantine(q),
		transform.WithThreshold(maxQ, -1),
	}
	if conc > 0 {
		opts = append(opts, transform.WithConcurrency(conc))
	}
	eng, err := transform.New(views, opts...)
	if err != nil {
		return transform.Stats{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	srcs := make([]transform.Source, 0, len(idx))
	for _, i := range idx {
		p := files[i]
		// Type stays empty: the resource type comes from each line, never the file name.
		srcs = append(srcs, transform.Source{Name: p, Open: func() (io.ReadCloser, error) {
			rc, _, err := open(p)
			return rc, err
		}})
	}
	return eng.Run(ctx, srcs, emit)
}
