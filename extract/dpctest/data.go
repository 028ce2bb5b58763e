package dpctest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// defaultRangeCap is how much DPC sends for an open-ended range ("bytes=N-").
const defaultRangeCap = 1 << 20

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

func etagMatches(inm, etag string) bool {
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

func (s *Server) getData(w http.ResponseWriter, r *http.Request, o *org) {
	s.mu.Lock()
	f := s.files[r.PathValue("file")]
	s.mu.Unlock()
	if f == nil || f.orgID != o.id {
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find file")
		return
	}
	if !s.clock.Now().Before(f.expires) {
		writeOO(w, http.StatusGone, "not-found", "File has expired")
		return
	}
	h := w.Header()
	h.Set("ETag", f.sha256)
	h.Set("Last-Modified", strconv.FormatInt(f.modTime.UnixMilli(), 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/ndjson")
	h.Set("Vary", "Accept-Encoding")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, f.sha256) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	file, err := os.Open(f.path)
	if err != nil {
		writeOO(w, http.StatusInternalServerError, "exception", "cannot open file")
		return
	}
	defer file.Close()

	if rh := r.Header.Get("Range"); rh != "" {
		s.serveRange(w, r, f, file, rh)
		return
	}
	serveFile(w, r, f, file)
}

// serveFile sends the stored gzip unchanged when the client accepts gzip, else
// the decoded bytes (BCDA's ServeData does the same).
func serveFile(w http.ResponseWriter, r *http.Request, f *fileInfo, file *os.File) {
	h := w.Header()
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		// The stored bytes, unchanged.
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.FormatInt(f.gzLen, 10))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, file)
		}
		return
	}
	h.Set("Content-Length", strconv.FormatInt(f.plainLen, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	zr, err := gzip.NewReader(file)
	if err != nil {
		return // headers are out: the short body tells the client
	}
	defer zr.Close()
	_, _ = io.Copy(w, zr)
}

// serveRange answers a byte range over the decoded data, never gzipped. By
// default it answers as DPC does (dpc-api DataResource.buildRangedRequest):
// "bytes=S-E" is [S, E), an open end means E = S + 1 MiB, the answer claims
// Content-Range "bytes S-E/(E-S)" and a Content-Length of E-S even when the
// file ends first (the body is then cut at end of file and the connection
// drops), and S past the end is a 500. With WithRFC7233Ranges it follows
// RFC 7233: end inclusive, suffix ranges, no cap, the file size after the
// slash, 416 past the end.
func (s *Server) serveRange(w http.ResponseWriter, r *http.Request, f *fileInfo, file *os.File, rh string) {
	total, rfc, h := f.plainLen, s.cfg.rfc7233, w.Header()
	start, stop, ok := parseRange(rh, total, rfc)
	switch {
	case !ok:
		if rfc {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", total))
		}
		writeOO(w, http.StatusRequestedRangeNotSatisfiable, "invalid", "Range not satisfiable")
		return
	case start > total:
		writeOO(w, http.StatusInternalServerError, "exception", "Cannot skip to requested range")
		return
	case rfc:
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, stop-1, total))
	default:
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, stop, stop-start))
	}
	h.Set("Content-Length", strconv.FormatInt(stop-start, 10))
	w.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodHead {
		return
	}
	zr, err := gzip.NewReader(file)
	if err != nil {
		return
	}
	defer zr.Close()
	if _, err := io.CopyN(io.Discard, zr, start); err != nil {
		return
	}
	_, _ = io.CopyN(w, zr, min(stop, total)-start)
}

// parseRange returns the [start, stop) a Range header asks for. DPC's stop may
// pass the end of the file; RFC 7233's is cut to it.
func parseRange(h string, total int64, rfc bool) (start, stop int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	a, b, cut := strings.Cut(spec, "-")
	if !found || !cut || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	if a == "" { // suffix range: only RFC 7233
		n, err := strconv.ParseInt(b, 10, 64)
		return max(0, total-n), total, rfc && err == nil && n > 0 && total > 0
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	e, err := strconv.ParseInt(b, 10, 64)
	switch {
	case b == "" && rfc:
		stop = total
	case b == "":
		stop = start + defaultRangeCap
	case err != nil:
		return 0, 0, false
	case rfc:
		stop = min(e+1, total) // inclusive end
	default:
		stop = e
	}
	return start, stop, stop > start && (!rfc || start < total)
}
