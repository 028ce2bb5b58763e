// Package viewtool is the library behind `dpcetl view validate` and `dpcetl view run`, for
// people writing their own ViewDefinitions: profile checks, and one view run over NDJSON.
package viewtool

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// ErrInvalid is returned by Validate when a file does not conform; it wraps view.ErrInvalid.
var ErrInvalid = fmt.Errorf("viewtool: %w", view.ErrInvalid)

// ParseProfiles reads a comma-separated profile list: base, shareable, tabular (or the
// profiles' full names). Empty means all of them.
func ParseProfiles(s string) ([]view.Profile, error) {
	if strings.TrimSpace(s) == "" {
		return view.Profiles(), nil
	}
	var out []view.Profile
	for _, p := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "base", "viewdefinition":
			out = append(out, view.ProfileBase)
		case "shareable", "shareableviewdefinition":
			out = append(out, view.ProfileShareable)
		case "tabular", "tabularviewdefinition":
			out = append(out, view.ProfileTabular)
		default:
			return nil, fmt.Errorf("unknown profile %q (base, shareable, tabular)", strings.TrimSpace(p))
		}
	}
	return out, nil
}

// Validate parses each ViewDefinition file, compiles it as the engine would (FHIRPath,
// column types, tags) and checks it against the profiles (the base profile always). It
// writes one line per problem, "FILE: JSON.path: message", and "FILE: ok (profiles)" for
// a file without problems. It returns an error wrapping ErrInvalid if any file has one.
func Validate(ctx context.Context, files []string, profiles []view.Profile, w io.Writer) error {
	if len(files) == 0 {
		return errors.New("viewtool: no files to validate")
	}
	bad := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		problems := check(f, profiles)
		if len(problems) == 0 {
			names := make([]string, 0, len(profiles)+1)
			names = append(names, string(view.ProfileBase))
			for _, p := range profiles {
				if p != view.ProfileBase {
					names = append(names, string(p))
				}
			}
			if _, err := fmt.Fprintf(w, "%s: ok (%s)\n", f, strings.Join(names, ", ")); err != nil {
				return err
			}
			continue
		}
		bad++
		for _, p := range problems {
			if _, err := fmt.Fprintln(w, p); err != nil {
				return err
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%w: %d of %d files do not conform", ErrInvalid, bad, len(files))
	}
	return nil
}

func check(file string, profiles []view.Profile) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", file, errors.Unwrap(err))}
	}
	v, err := view.Parse(file, data)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	compiled := *v // the engine needs a table name; the profiles judge the view's own
	if compiled.Name == "" {
		compiled.Name = "view"
	}
	if _, err := transform.New([]*view.View{&compiled}); err != nil {
		out = append(out, err.Error())
	}
	for _, e := range view.Conform(v, profiles...) {
		out = append(out, e.Error())
	}
	return out
}

// Format is an output format of Run.
type Format string

// Output formats.
const (
	FormatCSV  Format = "csv"  // a header of column names, then one record per row; null is empty
	FormatJSON Format = "json" // NDJSON: one object per row, columns in view order
)

// RunOptions configures Run.
type RunOptions struct {
	View   string   // ViewDefinition file
	Inputs []string // NDJSON files
	Format Format   // default FormatCSV
	// Quarantine, when set, receives one JSON line per input line that could not be
	// transformed ({"file","line","error"}; the error may quote the offending value) and
	// the run goes on; without it the first such line fails the run.
	Quarantine io.Writer
}

// Run runs one view over NDJSON files through the engine (the typed Arrow path the
// pipeline uses) and writes its rows to w. Resources of other types are skipped.
func Run(ctx context.Context, o RunOptions, w io.Writer) (transform.Stats, error) {
	format := o.Format
	if format == "" {
		format = FormatCSV
	}
	if format != FormatCSV && format != FormatJSON {
		return transform.Stats{}, fmt.Errorf("viewtool: unknown format %q (csv, json)", format)
	}
	if len(o.Inputs) == 0 {
		return transform.Stats{}, errors.New("viewtool: no NDJSON input")
	}
	v, err := view.Load(o.View)
	if err != nil {
		return transform.Stats{}, err
	}
	if v.Name == "" {
		v.Name = "view"
	}
	opts := []transform.Option{}
	if o.Quarantine != nil {
		enc := json.NewEncoder(o.Quarantine)
		opts = append(opts, transform.WithQuarantine(transform.QuarantineFunc(func(_ context.Context, r transform.QuarantineRecord) error {
			return enc.Encode(map[string]any{"file": r.File, "line": r.Line, "error": r.Err})
		})), transform.WithThreshold(-1, -1))
	}
	eng, err := transform.New([]*view.View{v}, opts...)
	if err != nil {
		return transform.Stats{}, err
	}
	var srcs []transform.Source
	for _, in := range o.Inputs {
		srcs = append(srcs, transform.Source{Name: in, Open: func() (io.ReadCloser, error) { return os.Open(in) }})
	}
	bw := bufio.NewWriter(w)
	out := &rowWriter{w: bw, format: format, cols: v.Columns}
	if format == FormatCSV {
		out.csv = csv.NewWriter(bw)
		names := make([]string, len(v.Columns))
		for i, c := range v.Columns {
			names[i] = c.Name
		}
		if err := out.csv.Write(names); err != nil {
			return transform.Stats{}, err
		}
	}
	st, err := eng.Run(ctx, srcs, func(b transform.Batch) error {
		defer b.Record.Release()
		return out.batch(b.Record)
	})
	if out.csv != nil {
		out.csv.Flush()
		if ferr := out.csv.Error(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return st, err
}

type rowWriter struct {
	w      *bufio.Writer
	format Format
	csv    *csv.Writer
	cols   []*view.Column
	rec    []string
}

func (o *rowWriter) batch(rec arrow.RecordBatch) error {
	for r := 0; r < int(rec.NumRows()); r++ {
		if o.format == FormatCSV {
			o.rec = o.rec[:0]
			for ci := range o.cols {
				o.rec = append(o.rec, csvText(rec.Column(ci), r))
			}
			if err := o.csv.Write(o.rec); err != nil {
				return err
			}
			continue
		}
		// an object with the columns in view order (encoding/json would sort map keys)
		o.w.WriteByte('{')
		for ci, c := range o.cols {
			if ci > 0 {
				o.w.WriteByte(',')
			}
			k, _ := json.Marshal(c.Name)
			o.w.Write(k)
			o.w.WriteByte(':')
			o.w.WriteString(jsonText(rec.Column(ci), r))
		}
		if _, err := o.w.WriteString("}\n"); err != nil {
			return err
		}
	}
	return nil
}

// jsonText is the JSON text of one value: numbers exactly (decimals as written at the
// column's scale), dates as YYYY-MM-DD, timestamps in RFC 3339 UTC, lists as arrays.
func jsonText(col arrow.Array, r int) string {
	if col.IsNull(r) {
		return "null"
	}
	switch a := col.(type) {
	case *array.Boolean:
		return strconv.FormatBool(a.Value(r))
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(r)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(r), 10)
	case *array.Decimal128:
		return a.Value(r).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.List:
		lo, hi := a.ValueOffsets(r)
		parts := make([]string, 0, hi-lo)
		for k := lo; k < hi; k++ {
			parts = append(parts, jsonText(a.ListValues(), int(k)))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	b, _ := json.Marshal(text(col, r))
	return string(b)
}

// csvText is one CSV field: null is empty, a list is its JSON array.
func csvText(col arrow.Array, r int) string {
	switch {
	case col.IsNull(r):
		return ""
	case col.DataType().ID() == arrow.LIST:
		return jsonText(col, r)
	case col.DataType().ID() == arrow.DECIMAL128, col.DataType().ID() == arrow.INT32,
		col.DataType().ID() == arrow.INT64, col.DataType().ID() == arrow.BOOL:
		return jsonText(col, r)
	}
	return text(col, r)
}

// text is the string form of a string, date or time value.
func text(col arrow.Array, r int) string {
	switch a := col.(type) {
	case *array.String:
		return a.Value(r)
	case *array.Dictionary:
		return a.Dictionary().(*array.String).Value(a.GetValueIndex(r))
	case *array.Date32:
		return a.Value(r).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(r))).UTC().Format(time.RFC3339Nano)
	case *array.Time64:
		return time.UnixMicro(int64(a.Value(r))).UTC().Format("15:04:05.999999")
	}
	return col.ValueStr(r)
}
