package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/zstd"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// What a job delivers besides what the claims views read: deleted[] files (through the
// deleted_resource view), error files whose count disagrees with their lines, resource types
// no view reads (kept as raw NDJSON in the destination), and how every file was verified.
// All of it goes into the run manifest (report.Export, under "export") and the summary.

// deletedView is the table of deleted[] files: one row per DELETE entry of their Bundles.
const deletedView = "deleted_resource"

// RawDir is where the files of resource types no view reads are kept, as delivered
// (zstd-compressed NDJSON): raw/{type}/export_date=…/group_id=…/{file}.zst.
const RawDir = "raw"

// rawFile is a delivered file kept raw: Index into Export.Files, Path of the verified local file.
type rawFile struct {
	Index int    `json:"index"`
	Path  string `json:"path"`
}

// newExport records the job's files as delivered.
func newExport(files []extract.File) *report.Export {
	ex := &report.Export{VerifiedBy: map[string]int{}}
	for _, f := range files {
		name := fileName(f)
		ex.Files = append(ex.Files, report.Input{File: name, List: f.List, Type: f.Type, SHA256: f.SHA256, Bytes: f.Bytes,
			Lines: f.Lines, Count: f.Count, VerifiedBy: f.VerifiedBy})
		ex.VerifiedBy[f.VerifiedBy]++
		if f.List == extract.ListError && f.Count > 0 && int64(f.Count) != f.Lines {
			ex.CountMismatches = append(ex.CountMismatches, report.CountMismatch{File: name, Count: f.Count, Lines: f.Lines})
		}
	}
	return ex
}

// fileName is the last element of a file's URL; never its query, where signed URLs keep secrets.
func fileName(f extract.File) string {
	if u, err := url.Parse(f.URL); err == nil && u.Path != "" && !strings.HasSuffix(u.Path, "/") {
		return path.Base(u.Path)
	}
	return filepath.Base(f.Path)
}

// route splits a version's views and files: deleted[] files go through the deleted_resource
// view alone (an output Bundle must never read as a deletion), files of a type no other view
// reads are kept raw, the rest go through the other views. Without a deleted_resource view
// the deleted[] files are kept raw too (and the watermark holds: they are not tables).
func route(views []*view.View, files []extract.File) (main, del []*view.View, mainFiles, delFiles, raw []extract.File) {
	read := map[string]bool{}
	for _, v := range views {
		if v.Name == deletedView {
			del = append(del, v)
			continue
		}
		main = append(main, v)
		read[v.Resource] = true
	}
	for _, f := range files {
		switch {
		case f.List == extract.ListDeleted && len(del) > 0:
			delFiles = append(delFiles, f)
		case f.List == extract.ListDeleted || f.Type != "" && !read[f.Type]:
			raw = append(raw, f)
		default:
			mainFiles = append(mainFiles, f)
		}
	}
	return main, del, mainFiles, delFiles, raw
}

// runViews runs views over files (each file's lines must be of its type) with the remaining
// quarantine allowance; a nil view set or no file does nothing.
func (r *Runner) runViews(ctx context.Context, views []*view.View, lineage transform.Lineage, q *transform.QuarantineFile, maxLines int,
	files []extract.File, emit func(transform.Batch) error) (transform.Stats, error) {
	if len(views) == 0 || len(files) == 0 {
		return transform.Stats{}, nil
	}
	money, err := transform.ParseMoneyPolicy(r.cfg.MoneyPolicy)
	if err != nil {
		return transform.Stats{}, fmt.Errorf("%w: money_policy: %v", config.ErrInvalid, err)
	}
	eng, err := transform.New(views,
		transform.WithConcurrency(max(1, cap(r.slots))), // more workers would only wait for a slot
		transform.WithLineage(lineage),
		transform.WithQuarantine(q),
		transform.WithMoneyPolicy(money),
		transform.WithThreshold(maxLines, -1)) // the fraction is checked once, over every engine (transform)
	if err != nil {
		return transform.Stats{}, fmt.Errorf("%w: %v", config.ErrInvalid, err)
	}
	// A large file is cut at line boundaries so that one file keeps every worker busy.
	var srcs []transform.Source
	for _, f := range files {
		parts, err := transform.SplitFile(f.Path, f.Type, r.cfg.Concurrency, splitBytes)
		if err != nil {
			return transform.Stats{}, err
		}
		for _, p := range parts {
			srcs = append(srcs, r.slotted(ctx, p))
		}
	}
	return eng.Run(ctx, srcs, emit)
}

// countDeleted counts the deleted_resource rows per resource type on their way to emit.
func countDeleted(into map[string]int64, emit func(transform.Batch) error) func(transform.Batch) error {
	return func(b transform.Batch) error {
		if idx := b.Record.Schema().FieldIndices("resource_type"); len(idx) > 0 {
			if col, ok := b.Record.Column(idx[0]).(*array.String); ok {
				for i := 0; i < col.Len(); i++ {
					ty := col.Value(i)
					if col.IsNull(i) {
						ty = "unknown" // request.url not of the form Type/id: the row keeps it as sent
					}
					into[ty]++
				}
			}
		}
		return emit(b)
	}
}

// settle completes the record once the files went through: lines quarantined per file, and
// whether the watermark must hold (a deletion not landed). It returns the raw files in order.
func settle(ex *report.Export, files, raw []extract.File, q *transform.QuarantineFile) []rawFile {
	isRaw := map[string]bool{}
	for _, f := range raw {
		isRaw[f.Path] = true
	}
	var held []string
	var out []rawFile
	for i, f := range files {
		in := &ex.Files[i]
		in.Quarantined = q.Lines(f.Path)
		if isRaw[f.Path] {
			out = append(out, rawFile{Index: i, Path: f.Path})
		}
		switch {
		case f.List != extract.ListDeleted:
		case isRaw[f.Path]:
			held = append(held, fmt.Sprintf("deleted file %s was not read (no %s view; kept raw)", in.File, deletedView))
		case in.Quarantined > 0:
			held = append(held, fmt.Sprintf("%d lines of deleted file %s quarantined", in.Quarantined, in.File))
		}
	}
	if len(held) > 0 {
		ex.WatermarkHeld = strings.Join(held, "; ") + ": the next run exports the same window again"
	}
	return out
}

// noteExport puts the record's figures into the group's summary.
func (g *GroupSummary) noteExport(ex *report.Export, raw []rawFile) {
	g.export, g.raw = ex, raw
	g.VerifiedBy, g.Deleted, g.CountMismatches, g.WatermarkHeld, g.Rounded = ex.VerifiedBy, ex.Deleted, ex.CountMismatches, ex.WatermarkHeld, ex.Rounded
	for _, rf := range raw {
		g.Raw = addCounts(g.Raw, map[string]int64{ex.Files[rf.Index].Type: ex.Files[rf.Index].Lines})
	}
}

// publishRaw stages the raw files (zstd) with the run and records their keys.
func (r *Runner) publishRaw(ctx context.Context, run *load.Run, gs *GroupSummary) error {
	for _, rf := range gs.raw {
		in := &gs.export.Files[rf.Index]
		if err := extract.CheckName("resource type", in.Type); err != nil {
			return err
		}
		key := run.PartitionKey(RawDir+"/"+in.Type, filepath.Base(rf.Path)+".zst")
		err := run.PutFile(ctx, RawDir+"/"+in.Type, key, in.Lines, func(w io.Writer) error {
			f, err := os.Open(rf.Path)
			if err != nil {
				return err
			}
			defer f.Close()
			zw, err := zstd.NewWriter(w)
			if err != nil {
				return err
			}
			if _, err := io.Copy(zw, f); err != nil {
				zw.Close()
				return err
			}
			return zw.Close()
		})
		if err != nil {
			return fmt.Errorf("keep %s raw: %w", in.File, err)
		}
		in.Raw = key
	}
	return nil
}

// staged is what `dpcetl transform` leaves beside its tables for `dpcetl load`.
type staged struct {
	Export *report.Export `json:"export"`
	Raw    []rawFile      `json:"raw,omitempty"`
}

const stagedName = "export.json"

func saveStaged(dir string, gs *GroupSummary) error {
	b, err := json.Marshal(staged{Export: gs.export, Raw: gs.raw})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stagedName), b, 0o600)
}

func loadStaged(dir string, gs *GroupSummary) error {
	b, err := os.ReadFile(filepath.Join(dir, stagedName))
	if err != nil {
		return fmt.Errorf("%w: %v: run 'dpcetl transform' again", config.ErrInvalid, err)
	}
	var s staged
	if err := json.Unmarshal(b, &s); err != nil || s.Export == nil {
		return fmt.Errorf("%w: %s is corrupt: run 'dpcetl transform' again", config.ErrInvalid, filepath.Join(dir, stagedName))
	}
	gs.noteExport(s.Export, s.Raw)
	return nil
}
