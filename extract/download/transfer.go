package download

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/scrub"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// errDecode marks a body that did not decode (corrupt gzip). It counts like a
// checksum mismatch: one fresh download, then the bytes go to ".bad".
var errDecode = fmt.Errorf("corrupt gzip body (%w)", extract.ErrRetryable)

// errStalled marks a request the watchdog ended.
var errStalled = errors.New("transfer stalled")

// transfer is one file's download across the attempts of one process.
type transfer struct {
	d        *Downloader
	jobID    string
	part     string
	exp      verify.Expect
	failedAt int64        // offset of the last 5xx answer to a range request, -1 if none
	proof    verify.Proof // set when an attempt verified the file
}

// attempt makes one pass at the file: a full GET, or Range requests continuing
// the part file, whose bytes are first re-hashed from disk (the disk is the
// truth). A ranged answer is trusted for its start only: DPC announces the
// range's length as the total and cuts the body at end of file, so the end is
// found when the bytes match the manifest's checksum.
func (t *transfer) attempt(ctx context.Context) retry.Attempt {
	d := t.d
	v, err := verify.New(t.exp)
	if err != nil {
		return retry.Attempt{Err: err}
	}
	f, err := os.OpenFile(t.part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return retry.Attempt{Err: fmt.Errorf("download: %w", err)}
	}
	defer f.Close()
	sc := d.getScratch()
	defer d.putScratch(sc)
	if !v.Resumable() {
		// Without a checksum no prefix can be proven joined to the rest: start over.
		if err := resetPart(f, v); err != nil {
			return retry.Attempt{Err: err}
		}
	} else if err := v.Load(f, sc.buf); err != nil {
		return retry.Attempt{Err: err}
	}
	if v.N() > 0 && v.Complete() {
		return t.verified(f, v, retry.Attempt{})
	}
	emit := &progressWriter{w: f, p: d.progress, ev: extract.Event{Kind: extract.EventFileBytes, JobID: t.jobID, URL: t.exp.Name}}
	defer emit.flush()
	progressed := false
	for first := true; ; first = false {
		if !first {
			if err := d.limiter.Wait(ctx); err != nil {
				return retry.Attempt{Err: err, Progressed: progressed}
			}
		}
		have := v.N()
		a, next := t.request(ctx, have, func(resp *http.Response) (bool, error) {
			switch resp.StatusCode {
			case http.StatusOK:
				if have > 0 { // the server ignored the range: take the full body
					if err := resetPart(f, v); err != nil {
						return false, err
					}
				}
				n, err := d.copyFull(resp, emit, v, sc)
				progressed = progressed || n > 0
				return false, err
			case http.StatusPartialContent:
				if start, ok := verify.RangeStart(resp.Header.Get("Content-Range")); !ok || start != have || encoded(resp) {
					// Not the bytes we asked for: start the file over.
					if err := resetPart(f, v); err != nil {
						return false, err
					}
					return false, fmt.Errorf("download: %s: unusable range answer (Content-Range %q): restarting: %w",
						t.exp.Name, scrub.Text(resp.Header.Get("Content-Range")), extract.ErrRetryable)
				}
				got, err := io.CopyBuffer(io.MultiWriter(emit, v), resp.Body, sc.buf)
				progressed = progressed || got > 0
				t.failedAt = -1
				var ve *verify.Error
				switch {
				case v.Complete():
					return false, nil // a body cut at end of file is DPC's way of ending
				case errors.As(err, &ve):
					return false, err
				case got == 0 && (err == nil || errors.Is(err, io.ErrUnexpectedEOF)):
					return false, v.Check(-1) // nothing at this offset: the file ended, and it is wrong
				case err != nil:
					return false, fmt.Errorf("download: %s: %w: %w", t.exp.Name, err, extract.ErrRetryable)
				case got < d.chunk:
					return false, v.Check(-1) // a short body ended cleanly: the file ended, and it is wrong
				}
				return true, nil
			case http.StatusRequestedRangeNotSatisfiable:
				return false, v.Check(-1) // we hold at least the whole file; the checksum decides
			}
			return false, nil
		})
		if a.Err == nil && !next {
			return t.verified(f, v, a)
		}
		a.Progressed = progressed
		if !next {
			return a
		}
		d.limiter.Succeeded()
	}
}

// verified syncs the part file and records the proof.
func (t *transfer) verified(f *os.File, v *verify.Verifier, a retry.Attempt) retry.Attempt {
	if err := v.Check(-1); err != nil {
		a.Err = err
		return a
	}
	if t.d.sync {
		if err := f.Sync(); err != nil {
			a.Err = err
			return a
		}
	}
	t.proof = v.Proof()
	return a
}

// request sends one GET (ranged from have when have > 0) under the stall
// watchdog and lets handle consume a 200, 206 or 416; handle says whether to
// ask for the next range. Other statuses become errors here.
func (t *transfer) request(ctx context.Context, have int64, handle func(*http.Response) (bool, error)) (retry.Attempt, bool) {
	d := t.d
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := startWatchdog(d.stall, d.stallMin, cancel)
	defer wd.stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, t.exp.Name, nil)
	if err != nil {
		return retry.Attempt{Err: fmt.Errorf("download: %w", err)}, false
	}
	switch {
	case have > 0:
		// DPC reads the end as exclusive and RFC 7233 as inclusive; either
		// way we count what arrives rather than trusting the header.
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", have, have+d.chunk))
		req.Header.Set("Accept-Encoding", "identity")
	case d.gzip:
		req.Header.Set("Accept-Encoding", "gzip")
	default:
		req.Header.Set("Accept-Encoding", "identity")
	}
	stalled := func(err error) error {
		if cause := context.Cause(rctx); errors.Is(cause, errStalled) && ctx.Err() == nil {
			return fmt.Errorf("download: %s: %w: %w", t.exp.Name, cause, extract.ErrRetryable)
		}
		return err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, extract.ErrAuth) {
			return retry.Attempt{Err: err}, false
		}
		return retry.Attempt{Err: stalled(fmt.Errorf("download: %w: %w", err, extract.ErrRetryable))}, false
	}
	defer resp.Body.Close()
	resp.Body = wd.count(resp.Body)
	a := retry.Attempt{Resp: resp}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		next, err := handle(resp)
		a.Err = stalled(err)
		return a, next && err == nil
	case http.StatusGone:
		a.Err = fmt.Errorf("download: %s: %w", t.exp.Name, ErrFileExpired)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		a.Err = stalled(&retry.StatusError{Op: "download", URL: t.exp.Name, Status: resp.StatusCode, Body: scrub.Body(b)})
		if have > 0 && resp.StatusCode >= 500 {
			// DPC answers 500 to a range starting past the end of the file:
			// the second at one offset means the part is wrong, so start over.
			if t.failedAt == have {
				os.Truncate(t.part, 0)
			}
			t.failedAt = have
		}
	}
	return a, false
}

func encoded(resp *http.Response) bool {
	ce := resp.Header.Get("Content-Encoding")
	return ce != "" && ce != "identity"
}

// copyFull streams a full response body, decoding gzip, into w and v.
func (d *Downloader) copyFull(resp *http.Response, w io.Writer, v *verify.Verifier, sc *scratch) (int64, error) {
	// The body is counted for the watchdog: that is also the gzip size on the wire.
	raw := resp.Body
	var src io.Reader = raw
	rawLen := func() int64 { return raw.(*countedBody).w.n.Load() }
	switch ce := strings.ToLower(resp.Header.Get("Content-Encoding")); ce {
	case "gzip", "x-gzip":
		// The bufio.Reader is an io.ByteReader, so the decoder reads through
		// it without a buffer of its own, and the decoder is reused (Reset).
		// The decoder reads to the body's EOF (multistream), so raw.N is the
		// whole body once the copy has ended.
		sc.br.Reset(raw)
		var err error
		if sc.zr == nil {
			sc.zr, err = gzip.NewReader(sc.br)
		} else {
			err = sc.zr.Reset(sc.br)
		}
		if err != nil {
			if rawLen() > 0 && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("download: %s: %w: %w", resp.Request.URL, errDecode, err)
			}
			return 0, fmt.Errorf("download: %s: %w: %w", resp.Request.URL, err, extract.ErrRetryable)
		}
		src = sc.zr
	case "", "identity":
		// The body came decoded (we did not ask for gzip, or Go's transport
		// decoded it): the size of the stored gzip is unknown here, so
		// file_length can only be compared with the decoded length.
		rawLen = func() int64 { return -1 }
	default:
		return 0, fmt.Errorf("download: %s: unsupported Content-Encoding %q", resp.Request.URL, scrub.Text(ce))
	}
	// Hashing inline, in the same pass as the write, measured faster than
	// handing buffers to a hashing goroutine (cache-hot bytes, no hand-offs).
	n, err := verify.Copy(w, fullReader{src}, v, rawLen, sc.buf)
	var ve *verify.Error
	var ce flate.CorruptInputError
	switch {
	case err == nil || errors.As(err, &ve):
		return n, err
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce):
		return n, fmt.Errorf("download: %s: %w: %w", resp.Request.URL, errDecode, err)
	}
	return n, fmt.Errorf("download: %s: %w: %w", resp.Request.URL, err, extract.ErrRetryable)
}

func resetPart(f *os.File, v *verify.Verifier) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	v.Reset()
	return nil
}

// watchdog cancels a request that received fewer than min bytes in a window.
type watchdog struct {
	n, last atomic.Int64
	min     int64
	window  time.Duration
	t       *time.Timer
	done    atomic.Bool
	cancel  context.CancelCauseFunc
}

func startWatchdog(window time.Duration, min int64, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{min: min, window: window, cancel: cancel}
	if window > 0 {
		w.t = time.AfterFunc(window, w.tick)
	}
	return w
}

func (w *watchdog) tick() {
	if w.done.Load() {
		return
	}
	n := w.n.Load()
	if n-w.last.Load() < w.min {
		w.cancel(fmt.Errorf("%w: fewer than %d bytes in %s", errStalled, w.min, w.window))
		return
	}
	w.last.Store(n)
	w.t.Reset(w.window)
}

func (w *watchdog) stop() {
	w.done.Store(true)
	if w.t != nil {
		w.t.Stop()
	}
}

// count makes reads of body feed the watchdog.
func (w *watchdog) count(body io.ReadCloser) io.ReadCloser { return &countedBody{body, w} }

type countedBody struct {
	io.ReadCloser
	w *watchdog
}

func (c *countedBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.w.n.Add(int64(n))
	return n, err
}

// scratch is one transfer's reusable buffers.
type scratch struct {
	buf []byte
	br  *bufio.Reader
	zr  *gzip.Reader
}

// netBufSize is the read size on a response body: 64 KiB reads take fewer
// system calls than the gzip reader's own 4 KiB buffer.
const netBufSize = 64 << 10

func (d *Downloader) getScratch() *scratch {
	if s, ok := d.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{buf: make([]byte, d.bufSize), br: bufio.NewReaderSize(nil, netBufSize)}
}

func (d *Downloader) putScratch(s *scratch) {
	s.br.Reset(nil) // let go of the response body
	d.scratch.Put(s)
}

// progressWriter writes to w and reports bytes in steps of at least 1 MiB.
type progressWriter struct {
	w       io.Writer
	p       extract.Progress
	ev      extract.Event
	pending int64
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.pending += int64(n)
	if p.pending >= 1<<20 {
		p.flush()
	}
	return n, err
}

func (p *progressWriter) flush() {
	if p.pending > 0 && p.p != nil {
		e := p.ev
		e.Bytes = p.pending
		p.p(e)
	}
	p.pending = 0
}

// fullReader fills the caller's buffer before returning (the gzip reader
// returns at most a window at a time), so that files are written and hashed
// in large pieces: fewer system calls (measured: about 7% less CPU).
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := f.r.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
	}
	return n, nil
}
