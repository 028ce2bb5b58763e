package transform

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// SplitFile cuts the NDJSON file at path into up to parts sources of at least minBytes each,
// at line boundaries, so that one large file keeps several workers busy. Each part is named
// path and reports the line numbers of the whole file: a part counts the lines before it
// only when it has a line to report (quarantine, errors), never on the way.
func SplitFile(path, resourceType string, parts int, minBytes int64) ([]Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	parts = int(min(int64(max(parts, 1)), max(size/max(minBytes, 1), 1)))
	cuts := []int64{0}
	for i := 1; i < parts; i++ {
		off, err := nextLine(f, max(size*int64(i)/int64(parts), cuts[len(cuts)-1]), size)
		if err != nil {
			return nil, fmt.Errorf("transform: split %s: %w", path, err)
		}
		if off >= size {
			break
		}
		if off > cuts[len(cuts)-1] {
			cuts = append(cuts, off)
		}
	}
	cuts = append(cuts, size)
	out := make([]Source, 0, len(cuts)-1)
	first := func() int64 { return 0 }
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi, before := cuts[i], cuts[i+1], first
		out = append(out, Source{Name: path, Type: resourceType, FirstLine: first, Open: func() (io.ReadCloser, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			return struct {
				io.Reader
				io.Closer
			}{io.NewSectionReader(f, lo, hi-lo), f}, nil
		}})
		// The next part starts after this part's lines (every one ends with '\n').
		first = sync.OnceValue(func() int64 {
			n, _ := countLines(path, lo, hi) // the part was read whole already: an error here cannot be new
			return before() + n
		})
	}
	return out, nil
}

// nextLine returns the offset just after the first '\n' at or after off (size if none).
func nextLine(f *os.File, off, size int64) (int64, error) {
	if off == 0 {
		return 0, nil
	}
	br := bufio.NewReader(io.NewSectionReader(f, off-1, size-off+1)) // off-1: a cut right after '\n' stays
	for skip := off - 1; ; {
		b, err := br.ReadSlice('\n')
		skip += int64(len(b))
		switch {
		case err == nil:
			return skip, nil
		case errors.Is(err, io.EOF):
			return size, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return 0, err
		}
	}
}

// countLines counts the '\n' in [lo, hi) of path.
func countLines(path string, lo, hi int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	r := io.NewSectionReader(f, lo, hi-lo)
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// lineBase is the number of lines in the file before the source's first line.
func (s Source) lineBase() int64 {
	if s.FirstLine == nil {
		return 0
	}
	return s.FirstLine()
}
