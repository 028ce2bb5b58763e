package dpctest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names one kind of injected failure.
type FaultKind string

// The fault kinds. "Status" faults answer the request themselves; the others
// change how the real answer is delivered.
const (
	// FaultTooManyRequests answers 429 {"code":429,"message":"Too Many Requests"},
	// with Retry-After: <seconds> when Fault.RetryAfter > 0 and without it otherwise.
	FaultTooManyRequests FaultKind = "429"
	// FaultServerError answers 500 with an OperationOutcome.
	FaultServerError FaultKind = "500"
	// FaultUnavailable answers 503 {"code":503,"message":"Service Unavailable"}, with
	// Retry-After when Fault.RetryAfter > 0. On "/Token/auth" it is a token endpoint outage.
	FaultUnavailable FaultKind = "503"
	// FaultExpired answers 410 with an OperationOutcome, as for an expired job or file.
	FaultExpired FaultKind = "expired"
	// FaultReset sends the status line, the headers (with the real Content-Length)
	// and Fault.AfterBytes body bytes (default: half the body), then resets the
	// TCP connection (SO_LINGER 0). A response with no body is reset before anything is sent.
	FaultReset FaultKind = "reset"
	// FaultTruncate is FaultReset with an orderly close (FIN) instead of a reset:
	// the client sees fewer bytes than Content-Length declared.
	FaultTruncate FaultKind = "truncate"
	// FaultSlowBody sends the body in Fault.ChunkSize pieces (default 16 KiB) with
	// Fault.Delay (default 100ms) before each piece.
	FaultSlowBody FaultKind = "slow"
	// FaultBadChecksum makes a job manifest (GET /Jobs/{id}, 200) carry a wrong
	// sha256 for its first output file; the file itself is unchanged.
	FaultBadChecksum FaultKind = "badchecksum"
	// FaultCorrupt delivers the response with one body byte flipped (XOR 0xFF):
	// the byte at offset Fault.AfterBytes of the body as sent (default: the middle,
	// from Content-Length). Headers, length and ETag are unchanged. On GET /Data/
	// with Accept-Encoding: gzip the flip lands in the stored gzip stream (a client
	// sees a corrupt deflate stream or a gzip CRC error; a flip in the gzip header's
	// MTIME, XFL or OS bytes, offsets 4–9, changes nothing a reader checks);
	// otherwise (decoded bodies, ranges) in the NDJSON itself, so only the manifest
	// checksum can tell. A body shorter than the offset is sent unchanged.
	FaultCorrupt FaultKind = "corrupt"
	// FaultJobFailed makes a GET /Jobs/{id} of a job that is not yet complete fail the
	// job for good: that and every later poll answer 500 with an OperationOutcome.
	FaultJobFailed FaultKind = "jobfail"
)

// Fault is one fault rule. A request matches a rule when its path, with the
// "/api/v1" prefix removed (in a dialect: its FHIR base, see faultPath),
// starts with Path ("" matches every API request; portal requests never
// match) and Method is "" or the request method.
//
// Each rule counts the requests that match it. Of those, the first Skip pass
// untouched; after that the fault fires on every matching request, or, when
// Probability > 0, with that probability (drawn from an RNG seeded by the
// server seed, so runs repeat), and at most Count times when Count > 0.
// Rules are tried in order; the first status fault that fires answers the
// request and later rules are not consulted for it.
type Fault struct {
	Kind        FaultKind
	Path        string
	Method      string
	Skip        int
	Count       int
	Probability float64
	RetryAfter  time.Duration // 429 and 503: Retry-After in whole seconds; 0 sends none
	AfterBytes  int64         // reset and truncate: body bytes sent before the cut; corrupt: offset of the flipped byte; 0: half the body
	Delay       time.Duration // slow: pause before each chunk; 0: 100ms
	ChunkSize   int           // slow: bytes per chunk; 0: 16 KiB
}

// Faults is the set of fault rules a server applies (see Fault).
type Faults struct {
	Rules []Fault
}

// ParseFaults reads the compact fault spec of the dpc-sandbox --faults flag:
// rules separated by ';', each "KIND@PATH" followed by ":key=value" options,
// e.g. "429@/Data/:count=3:retry-after=2s;reset@/Data/:p=0.1;503@/Token/auth:count=5".
// Keys: count, skip, p, method, retry-after, after (bytes: where reset and truncate
// cut, where corrupt flips a byte), delay, chunk. Kinds: 429, 500, 503, expired,
// reset, truncate, slow, corrupt, badchecksum, jobfail (see FaultKind).
func ParseFaults(spec string) (Faults, error) {
	var fs Faults
	for _, rule := range strings.Split(spec, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		parts := strings.Split(rule, ":")
		kind, path, _ := strings.Cut(parts[0], "@")
		f := Fault{Kind: FaultKind(kind), Path: path}
		if !knownKind(f.Kind) {
			return Faults{}, fmt.Errorf("fault %q: unknown kind %q", rule, kind)
		}
		for _, kv := range parts[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return Faults{}, fmt.Errorf("fault %q: option %q is not key=value", rule, kv)
			}
			var err error
			switch k {
			case "count":
				f.Count, err = strconv.Atoi(v)
			case "skip":
				f.Skip, err = strconv.Atoi(v)
			case "p":
				f.Probability, err = strconv.ParseFloat(v, 64)
				if err == nil && (f.Probability < 0 || f.Probability > 1) {
					err = errors.New("must be in [0,1]")
				}
			case "method":
				f.Method = strings.ToUpper(v)
			case "retry-after":
				f.RetryAfter, err = time.ParseDuration(v)
			case "after":
				f.AfterBytes, err = strconv.ParseInt(v, 10, 64)
			case "delay":
				f.Delay, err = time.ParseDuration(v)
			case "chunk":
				f.ChunkSize, err = strconv.Atoi(v)
			default:
				err = errors.New("unknown option")
			}
			if err != nil {
				return Faults{}, fmt.Errorf("fault %q: option %q: %w", rule, k, err)
			}
		}
		fs.Rules = append(fs.Rules, f)
	}
	return fs, nil
}

func knownKind(k FaultKind) bool {
	switch k {
	case FaultTooManyRequests, FaultServerError, FaultUnavailable, FaultExpired, FaultReset,
		FaultTruncate, FaultSlowBody, FaultBadChecksum, FaultJobFailed, FaultCorrupt:
		return true
	}
	return false
}

type faultState struct {
	mu       sync.Mutex
	rules    []Fault
	matched  []int
	injected []int
	rng      *rand.Rand
}

func newFaultState(f Faults, seed int64) *faultState {
	fs := &faultState{}
	fs.set(f, seed)
	return fs
}

func (fs *faultState) set(f Faults, seed int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append([]Fault(nil), f.Rules...)
	fs.matched = make([]int, len(fs.rules))
	fs.injected = make([]int, len(fs.rules))
	fs.rng = rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// requestFaults is what fired for one request.
type requestFaults struct {
	status      *Fault // answers the request
	writer      *Fault // reset, truncate, slow or corrupt
	badChecksum bool
	jobFail     bool
}

func isStatus(k FaultKind) bool {
	return k == FaultTooManyRequests || k == FaultServerError || k == FaultUnavailable || k == FaultExpired
}

// faultPath is the path rules see: DPC's without "/api/v1", a dialect's without
// its FHIR base ("/smart/fhir", "/api/v2", "/api/v2/fhir"), "/smart" or nothing
// ("/data/...", "/auth/token"); false for the portals, which no rule reaches.
func (s *Server) faultPath(path string) (string, bool) {
	if p, ok := strings.CutPrefix(path, apiPrefix); ok {
		return p, true
	}
	if s.cfg.dialect == DialectDPC || strings.HasPrefix(path, "/portal") {
		return "", false
	}
	for _, pre := range []string{ab2dPrefix, bcdaPrefix, smartPrefix + "/fhir", smartPrefix} {
		if p, ok := strings.CutPrefix(path, pre); ok {
			return p, true
		}
	}
	return path, true
}

func (fs *faultState) fire(p, method string) requestFaults {
	var rf requestFaults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.rules {
		f := &fs.rules[i]
		if !strings.HasPrefix(p, f.Path) || (f.Method != "" && f.Method != method) {
			continue
		}
		fs.matched[i]++
		if fs.matched[i] <= f.Skip || (f.Count > 0 && fs.injected[i] >= f.Count) {
			continue
		}
		if f.Probability > 0 && fs.rng.Float64() >= f.Probability {
			continue
		}
		fs.injected[i]++
		cp := *f
		switch {
		case isStatus(f.Kind):
			rf.status = &cp
			return rf
		case f.Kind == FaultBadChecksum:
			rf.badChecksum = true
		case f.Kind == FaultJobFailed:
			rf.jobFail = true
		default:
			rf.writer = &cp
		}
	}
	return rf
}

type faultKey struct{}

func faultFrom(ctx context.Context) requestFaults {
	rf, _ := ctx.Value(faultKey{}).(requestFaults)
	return rf
}

func (s *Server) serveWithFaults(w http.ResponseWriter, r *http.Request, h http.Handler) {
	var rf requestFaults
	if p, ok := s.faultPath(r.URL.Path); ok {
		rf = s.faults.fire(p, r.Method)
	}
	if f := rf.status; f != nil {
		if f.RetryAfter > 0 && (f.Kind == FaultTooManyRequests || f.Kind == FaultUnavailable) {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		switch f.Kind {
		case FaultTooManyRequests:
			writeError(w, http.StatusTooManyRequests, "Too Many Requests")
		case FaultUnavailable:
			writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		case FaultServerError:
			writeOO(w, http.StatusInternalServerError, "exception", "Internal Server Error (injected fault)")
		case FaultExpired:
			writeOO(w, http.StatusGone, "not-found", "Resource has expired")
		}
		return
	}
	if rf.badChecksum || rf.jobFail {
		r = r.WithContext(context.WithValue(r.Context(), faultKey{}, rf))
	}
	if rf.writer == nil {
		h.ServeHTTP(w, r)
		return
	}
	fw := &faultWriter{ResponseWriter: w, f: rf.writer, ctx: r.Context()}
	h.ServeHTTP(fw, r)
	fw.finish()
}

// errCut is what a handler's Write returns after the fault cut the connection.
var errCut = errors.New("dpctest: connection cut by injected fault")

// faultWriter delivers a response with a reset, truncate, slow or corrupt fault.
type faultWriter struct {
	http.ResponseWriter
	f       *Fault
	ctx     context.Context
	cutAt   int64 // body bytes to send before the cut (corrupt: offset of the flipped byte)
	sent    int64
	cut     bool
	started bool
}

func (fw *faultWriter) WriteHeader(code int) {
	if fw.started {
		return
	}
	fw.started = true
	if fw.f.Kind == FaultCorrupt {
		fw.cutAt = fw.f.AfterBytes
		if fw.cutAt <= 0 {
			if n, err := strconv.ParseInt(fw.Header().Get("Content-Length"), 10, 64); err == nil {
				fw.cutAt = n / 2
			}
		}
	}
	if fw.f.Kind == FaultReset || fw.f.Kind == FaultTruncate {
		fw.cutAt = fw.f.AfterBytes
		if fw.cutAt <= 0 {
			if n, err := strconv.ParseInt(fw.Header().Get("Content-Length"), 10, 64); err == nil {
				fw.cutAt = n / 2
			}
		}
		if fw.cutAt <= 0 {
			// Nothing of the body would go out: die before the response.
			fw.kill()
			return
		}
	}
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *faultWriter) Write(p []byte) (int, error) {
	if !fw.started {
		fw.WriteHeader(http.StatusOK)
	}
	if fw.cut {
		return 0, errCut
	}
	switch fw.f.Kind {
	case FaultSlowBody:
		chunk := fw.f.ChunkSize
		if chunk <= 0 {
			chunk = 16 << 10
		}
		delay := fw.f.Delay
		if delay <= 0 {
			delay = 100 * time.Millisecond
		}
		written := 0
		for len(p) > 0 {
			t := time.NewTimer(delay)
			select {
			case <-fw.ctx.Done():
				t.Stop()
				return written, fw.ctx.Err()
			case <-t.C:
			}
			n, err := fw.ResponseWriter.Write(p[:min(chunk, len(p))])
			written += n
			if err != nil {
				return written, err
			}
			if fl, ok := fw.ResponseWriter.(http.Flusher); ok {
				fl.Flush()
			}
			p = p[n:]
		}
		return written, nil
	case FaultCorrupt:
		if off := fw.cutAt - fw.sent; off >= 0 && off < int64(len(p)) {
			// Flip a copy: the caller's buffer is not ours to change.
			q := append([]byte(nil), p...)
			q[off] ^= 0xFF
			n, err := fw.ResponseWriter.Write(q)
			fw.sent += int64(n)
			return n, err
		}
		n, err := fw.ResponseWriter.Write(p)
		fw.sent += int64(n)
		return n, err
	default: // reset, truncate
		room := fw.cutAt - fw.sent
		if int64(len(p)) < room {
			n, err := fw.ResponseWriter.Write(p)
			fw.sent += int64(n)
			return n, err
		}
		n, err := fw.ResponseWriter.Write(p[:room])
		fw.sent += int64(n)
		if err != nil {
			return n, err
		}
		fw.kill()
		return n, errCut
	}
}

func (fw *faultWriter) Flush() {
	if fl, ok := fw.ResponseWriter.(http.Flusher); ok && !fw.cut {
		fl.Flush()
	}
}

// kill flushes what was written and then closes the connection, with a TCP
// reset for FaultReset.
func (fw *faultWriter) kill() {
	if fw.cut {
		return
	}
	fw.cut = true
	if fw.started && fw.sent > 0 {
		if fl, ok := fw.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
	}
	hj, ok := fw.ResponseWriter.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && fw.f.Kind == FaultReset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// finish cuts a response whose body ended before the cut point, so that a
// reset or truncate fault always breaks the response it fired on.
func (fw *faultWriter) finish() {
	if (fw.f.Kind == FaultReset || fw.f.Kind == FaultTruncate) && !fw.cut {
		if !fw.started {
			fw.started = true
		}
		fw.kill()
	}
}
