// Package parquet writes Arrow record batches as Parquet files with exact logical types.
// It never closes or commits the destination: the caller's sink decides what becomes visible.
package parquet

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// DictionaryKey is the Arrow field metadata key that turns on Parquet dictionary encoding
// for a column: set it to "true" on low-cardinality columns (codes, types, states).
// Dictionary encoding is off for every other column, except Arrow dictionary-typed ones.
const DictionaryKey = "dpcetl.dictionary"

// Compression names a Parquet compression codec.
type Compression string

// Supported codecs. Zstd is the default.
const (
	Zstd   Compression = "zstd"
	Snappy Compression = "snappy"
	Gzip   Compression = "gzip"
	None   Compression = "none"
)

// ParseCompression accepts zstd, snappy, gzip and none (or "uncompressed"); "" means zstd.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(strings.ToLower(strings.TrimSpace(s))); c {
	case "":
		return Zstd, nil
	case Zstd, Snappy, Gzip, None:
		return c, nil
	case "uncompressed":
		return None, nil
	default:
		return "", fmt.Errorf("parquet: unknown compression %q (want zstd, snappy, gzip or none)", s)
	}
}

func (c Compression) codec() (compress.Compression, error) {
	switch c {
	case "", Zstd:
		return compress.Codecs.Zstd, nil
	case Snappy:
		return compress.Codecs.Snappy, nil
	case Gzip:
		return compress.Codecs.Gzip, nil
	case None:
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet: unknown compression %q", string(c))
}

// Defaults for Options.
const (
	DefaultRowGroupRows  = 128 * 1024
	DefaultRowGroupBytes = 32 << 20
)

// Options configure a Writer. Zero values mean defaults.
type Options struct {
	Compression Compression // default zstd
	// CompressionLevel is the codec's level (zstd: 1 fastest … 22; gzip 1 … 9); 0 means the
	// codec's default (zstd 3).
	CompressionLevel int
	// RowGroupRows is the most rows per row group (default 131072).
	RowGroupRows int64
	// RowGroupBytes ends a row group once the Arrow data written into it reaches this size
	// (default 32 MiB). A row group is held in memory, encoded, until it ends, so this
	// bounds the writer's memory whatever the table's width.
	RowGroupBytes int64
	// Metadata is written as Parquet key-value metadata in the footer.
	Metadata map[string]string
	// Allocator for Arrow/Parquet buffers (default memory.DefaultAllocator).
	Allocator memory.Allocator
}

// Writer writes one Parquet file. Close writes the footer; it does not close the destination.
type Writer struct {
	fw       *pqarrow.FileWriter
	out      *countWriter
	rgBytes  int64 // row group limit in Arrow bytes
	rgArrow  int64 // Arrow bytes in the current row group
	rows     int64
	closed   bool
	writeErr error
}

// countWriter hides any Close method of the destination (pqarrow closes io.Closers on
// Close and on some errors) and counts bytes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewWriter starts a Parquet file with schema on w.
func NewWriter(w io.Writer, schema *arrow.Schema, o Options) (*Writer, error) {
	codec, err := o.Compression.codec()
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	props := []pq.WriterProperty{
		pq.WithAllocator(o.Allocator),
		pq.WithCompression(codec),
		pq.WithMaxRowGroupLength(o.RowGroupRows),
		pq.WithStats(true),
		pq.WithDictionaryDefault(false),
		// DECIMAL(p<=18) as INT32/INT64: every engine reads it, and it is smaller.
		pq.WithStoreDecimalAsInteger(true),
	}
	if o.CompressionLevel != 0 {
		props = append(props, pq.WithCompressionLevel(o.CompressionLevel))
	}
	for _, f := range schema.Fields() {
		if f.Type.ID() == arrow.DICTIONARY || hasDictionaryTag(f) {
			props = append(props, pq.WithDictionaryFor(f.Name, true))
		}
	}
	arrowProps := pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(o.Allocator),
		pqarrow.WithStoreSchema(),
		// TIMESTAMP columns are written as microseconds; truncating finer units is an error, never silent.
		pqarrow.WithCoerceTimestamps(arrow.Microsecond),
		pqarrow.WithTruncatedTimestamps(false),
	)
	cw := &countWriter{w: w}
	fw, err := pqarrow.NewFileWriter(schema, cw, pq.NewWriterProperties(props...), arrowProps)
	if err != nil {
		return nil, fmt.Errorf("parquet: new writer: %w", err)
	}
	keys := make([]string, 0, len(o.Metadata))
	for k := range o.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fw.AppendKeyValueMetadata(k, o.Metadata[k]); err != nil {
			return nil, fmt.Errorf("parquet: metadata %q: %w", k, err)
		}
	}
	return &Writer{fw: fw, out: cw, rgBytes: o.RowGroupBytes}, nil
}

func hasDictionaryTag(f arrow.Field) bool {
	v, ok := f.Metadata.GetValue(DictionaryKey)
	return ok && strings.EqualFold(v, "true")
}

// checkSchema refuses Arrow types whose Parquet form would lose meaning for readers.
func checkSchema(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		switch t := f.Type.(type) {
		case *arrow.Float16Type:
			return fmt.Errorf("parquet: column %q: float16 is not supported by most engines", f.Name)
		case *arrow.Decimal128Type:
			if t.Precision < 1 || t.Scale < 0 || t.Scale > t.Precision {
				return fmt.Errorf("parquet: column %q: invalid DECIMAL(%d,%d)", f.Name, t.Precision, t.Scale)
			}
		}
	}
	return nil
}

// Write appends a record batch. It does not take ownership of rec.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if w.closed {
		return errors.New("parquet: write after close")
	}
	if w.writeErr != nil {
		return w.writeErr
	}
	rows := rec.NumRows()
	size := RecordSize(rec)
	for off := int64(0); off < rows; {
		n := rows - off
		// Cut the row group where its Arrow size reaches the limit, slicing the batch if needed.
		if perRow := max(size/max(rows, 1), 1); w.rgArrow+n*perRow > w.rgBytes {
			n = max((w.rgBytes-w.rgArrow)/perRow, 1)
			n = min(n, rows-off)
		}
		part := rec
		if n != rows {
			part = rec.NewSlice(off, off+n)
		}
		err := w.fw.WriteBuffered(part)
		if n != rows {
			part.Release()
		}
		if err != nil {
			w.writeErr = fmt.Errorf("parquet: write: %w", err)
			return w.writeErr
		}
		off += n
		w.rows += n
		w.rgArrow += n * max(size/max(rows, 1), 1)
		if w.rgArrow >= w.rgBytes {
			if err := w.fw.NewBufferedRowGroupChecked(); err != nil {
				w.writeErr = fmt.Errorf("parquet: flush row group: %w", err)
				return w.writeErr
			}
			w.rgArrow = 0
		}
	}
	return nil
}

// Flush ends the buffered row group (if it holds rows) and writes it to the destination,
// so that a caller under memory pressure can give back what the row group held.
func (w *Writer) Flush() error {
	if w.closed || w.writeErr != nil || w.rgArrow == 0 {
		return w.writeErr
	}
	if err := w.fw.NewBufferedRowGroupChecked(); err != nil {
		w.writeErr = fmt.Errorf("parquet: flush row group: %w", err)
		return w.writeErr
	}
	w.rgArrow = 0
	return nil
}

// Rows returns the rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// BytesWritten returns the bytes already handed to the destination.
func (w *Writer) BytesWritten() int64 { return w.out.n }

// EstimatedSize is the file size so far: bytes written plus the buffered row group's
// compressed size. Callers roll files over when it reaches their target.
func (w *Writer) EstimatedSize() int64 {
	return w.out.n + w.fw.RowGroupTotalCompressedBytes()
}

// Abort releases the writer's buffers without writing anything more to the destination.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.out.w = io.Discard
	_ = w.Close()
}

// Close flushes the last row group and writes the footer. It never closes the destination.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("parquet: close: %w", err)
	}
	return w.writeErr
}

// RecordSize is the bytes of the buffers behind rec (whole buffers, also for slices).
func RecordSize(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataSize(c.Data())
	}
	return n
}

func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
			n += dataSize(dict)
		}
	}
	return n
}
