package transform

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"
)

// QuarantineFile is a Quarantine writing NDJSON to Path, created (0600: lines hold PHI, in a
// 0700 directory) with the first line. A record has file, line, error, and the line as raw
// text, or as raw_base64 when it is not valid UTF-8 (a JSON string would lose those bytes).
type QuarantineFile struct {
	Path string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	perFile map[string]int
	n       int
}

// Put appends one record.
func (q *QuarantineFile) Put(_ context.Context, rec QuarantineRecord) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.f == nil {
		if err := os.MkdirAll(filepath.Dir(q.Path), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(q.Path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		q.f, q.w, q.perFile = f, bufio.NewWriter(f), map[string]int{}
	}
	line := map[string]any{"file": rec.File, "line": rec.Line, "error": rec.Err}
	if utf8.Valid(rec.Raw) {
		line["raw"] = string(rec.Raw)
	} else {
		line["raw_base64"] = base64.StdEncoding.EncodeToString(rec.Raw)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	q.n++
	q.perFile[rec.File]++
	_, err = q.w.Write(append(b, '\n'))
	return err
}

// Lines returns how many lines were quarantined: of source file, or of all when file is "".
func (q *QuarantineFile) Lines(file string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if file == "" {
		return q.n
	}
	return q.perFile[file]
}

// Close flushes and closes the file (if a line was written); Put may open it again.
func (q *QuarantineFile) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.f == nil {
		return nil
	}
	err := q.w.Flush()
	if cerr := q.f.Close(); err == nil {
		err = cerr
	}
	q.f = nil
	return err
}
