package dpctest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract/verify"
)

// Resource types an export can ask for, in the order a batch writes them.
var exportTypes = []string{"Patient", "Coverage", "ExplanationOfBenefit"}

var outputFormats = map[string]bool{"application/fhir+ndjson": true, "application/ndjson": true, "ndjson": true}

type jobState int

const (
	jobQueued jobState = iota
	jobRunning
	jobWritten // all files written; complete once the job duration has passed
	jobFailed
	jobCancelled
)

type job struct {
	id, orgID, groupID string
	request            string
	types              []string
	since              time.Time // zero: everything
	transactionTime    time.Time
	submitted          time.Time
	mbis               []string
	dir                string
	ctx                context.Context
	cancel             context.CancelFunc

	// guarded by Server.mu
	state        jobState
	batchesDone  int
	batchesTotal int
	writtenAt    time.Time
	completed    time.Time // zero until the client can see the job complete
	outputs      []*fileInfo
	errors       []*fileInfo
	failure      string
	pruned       bool // files removed from disk after expiry
}

// fileInfo is one finished export file on disk (gzip) and what the manifest says of it.
type fileInfo struct {
	name, path, typ, orgID, jobID string
	count                         int
	sha256                        string // hex sha256 of the decoded NDJSON
	gzLen, plainLen               int64
	modTime                       time.Time
	expires                       time.Time // set when the job completes
}

func acceptsFHIRJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == fhirJSON {
			return true
		}
	}
	return false
}

// asyncKickOff checks a kick-off's Accept and Prefer headers, answering a wrong
// Accept with badAccept (DPC: 415, a Bulk IG server: 400).
func asyncKickOff(w http.ResponseWriter, r *http.Request, badAccept int) bool {
	switch {
	case !acceptsFHIRJSON(r.Header.Get("Accept")):
		writeOO(w, badAccept, map[bool]string{true: "not-supported", false: "invalid"}[badAccept == http.StatusUnsupportedMediaType], "Accept must be application/fhir+json")
	case strings.TrimSpace(r.Header.Get("Prefer")) != "respond-async":
		writeOO(w, http.StatusBadRequest, "invalid", "Prefer header must be respond-async")
	default:
		return true
	}
	return false
}

func (s *Server) startExport(w http.ResponseWriter, r *http.Request, o *org) {
	if !asyncKickOff(w, r, http.StatusUnsupportedMediaType) {
		return
	}
	q := r.URL.Query()
	now := s.clock.Now()
	var types []string
	if v := q.Get("_type"); v != "" {
		sel, bad, _ := selectTypes(v, exportTypes)
		if bad != "" {
			writeOO(w, http.StatusBadRequest, "invalid", "Unsupported resource name in the '_type' value: "+bad)
			return
		}
		types = sel
	} else {
		types = exportTypes
	}
	var since time.Time
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeOO(w, http.StatusBadRequest, "invalid", "'_since' query parameter must be a valid date time value with an offset")
			return
		}
		if t.After(now) {
			writeOO(w, http.StatusBadRequest, "invalid", "'_since' query parameter cannot be a future date")
			return
		}
		since = t
	}
	if v := q.Get("_outputFormat"); v != "" && !outputFormats[v] {
		writeOO(w, http.StatusBadRequest, "invalid", "'_outputFormat' query parameter must be application/fhir+ndjson, application/ndjson, or ndjson")
		return
	}

	s.mu.Lock()
	g, ok := o.groupByID[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find group")
		return
	}
	var mbis []string
	for _, m := range g.members {
		if p, ok := o.patByID[m.patientID]; ok && !m.inactive(now) {
			mbis = append(mbis, p.mbi)
		}
	}
	if len(mbis) == 0 {
		s.mu.Unlock()
		writeOO(w, http.StatusNotAcceptable, "not-found", "Group has no active members")
		return
	}
	// Never echo a ?token= bearer into the manifest.
	cq := r.URL.Query()
	cq.Del("token")
	req := s.apiBase(r) + strings.TrimPrefix(r.URL.Path, apiPrefix)
	if len(cq) > 0 {
		req += "?" + cq.Encode()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	j := &job{
		id: newUUID(), orgID: o.id, groupID: g.id, request: req, types: types, since: since,
		transactionTime: now, submitted: now, mbis: mbis, ctx: ctx, cancel: cancel,
		batchesTotal: (len(mbis) + s.cfg.batchSize - 1) / s.cfg.batchSize,
	}
	j.dir = filepath.Join(s.dataDir, j.id)
	s.jobs[j.id] = j
	expired := s.expiredDirsLocked(now)
	s.mu.Unlock()
	// A long-running sandbox must not fill the disk: expired jobs lose their files
	// (their URLs keep answering 410).
	for _, d := range expired {
		_ = os.RemoveAll(d)
	}

	s.wg.Add(1)
	go s.runJob(j)
	w.Header().Set("Content-Location", s.apiBase(r)+"/Jobs/"+j.id)
	w.WriteHeader(http.StatusAccepted)
}

// expiredDirsLocked marks expired jobs pruned and returns their directories.
func (s *Server) expiredDirsLocked(now time.Time) []string {
	var dirs []string
	for _, j := range s.jobs {
		if !j.pruned && !j.completed.IsZero() && !now.Before(j.completed.Add(s.cfg.fileExpiry)) {
			j.pruned = true
			dirs = append(dirs, j.dir)
		}
	}
	return dirs
}

// selectTypes reads a _type list against the types a server offers: the requested ones in the
// server's order, or the first unknown type, or the first type named twice (servers differ on
// whether a repeat is an error, so the caller decides).
func selectTypes(v string, allowed []string) (types []string, unknown, repeated string) {
	seen := map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if !contains(allowed, t) {
			return nil, t, ""
		}
		if seen[t] && repeated == "" {
			repeated = t
		}
		seen[t] = true
	}
	for _, t := range allowed {
		if seen[t] {
			types = append(types, t)
		}
	}
	return types, "", repeated
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// runJob waits for a worker slot, then writes the job's files batch by batch.
func (s *Server) runJob(j *job) {
	defer s.wg.Done()
	select {
	case s.sem <- struct{}{}:
	case <-j.ctx.Done():
		return
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	if j.state != jobQueued {
		s.mu.Unlock()
		return
	}
	j.state = jobRunning
	s.mu.Unlock()

	err := s.writeJob(j)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case j.state == jobCancelled || j.ctx.Err() != nil:
		_ = os.RemoveAll(j.dir)
	case err != nil:
		j.state, j.failure = jobFailed, err.Error()
	case j.state == jobRunning:
		j.state, j.writtenAt = jobWritten, s.clock.Now()
	}
}

func (s *Server) writeJob(j *job) error {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return fmt.Errorf("job dir: %w", err)
	}
	buf := make([]byte, 0, 256<<10)
	bs := s.cfg.batchSize
	for b := 0; b*bs < len(j.mbis); b++ {
		batch := j.mbis[b*bs : min(len(j.mbis), (b+1)*bs)]
		batchID := newUUID()
		var active, suppressed []string
		for _, m := range batch {
			if _, ok := s.gen.Suppressed(m); ok {
				suppressed = append(suppressed, m)
			} else {
				active = append(active, m)
			}
		}
		for _, typ := range j.types {
			fs := s.newFileSeq(j, batchID, typ)
			for _, mbi := range active {
				if err := j.ctx.Err(); err != nil {
					fs.abort()
					return err
				}
				var n int
				buf, n = s.gen.AppendNDJSON(buf[:0], mbi, typ, j.since, j.transactionTime)
				if err := fs.writeLines(buf, n); err != nil {
					fs.abort()
					return err
				}
			}
			if err := fs.close(); err != nil {
				return err
			}
			s.mu.Lock()
			j.outputs = append(j.outputs, fs.done...)
			s.mu.Unlock()
		}
		if len(suppressed) > 0 {
			fs := s.newFileSeq(j, batchID, "OperationOutcome")
			for _, mbi := range suppressed {
				buf = s.appendSuppressed(buf[:0], mbi)
				if err := fs.writeLines(buf, 1); err != nil {
					fs.abort()
					return err
				}
			}
			if err := fs.close(); err != nil {
				return err
			}
			s.mu.Lock()
			j.errors = append(j.errors, fs.done...)
			s.mu.Unlock()
		}
		s.mu.Lock()
		j.batchesDone++
		s.mu.Unlock()
	}
	return nil
}

// appendSuppressed writes the one line DPC serves for a patient that opted out or failed
// the lookback (JobBatchProcessor.checkForOptOut / checkLookBack): code exception or
// suppressed, the OutcomeReason text, and the patient in location.
func (s *Server) appendSuppressed(dst []byte, mbi string) []byte {
	sup, _ := s.gen.Suppressed(mbi)
	b, _ := json.Marshal(suppressedOutcome(sup.Code, sup.Text, mbi)) // plain strings: cannot fail
	return append(append(dst, b...), '\n')
}

// fileSeq writes the files of one (batch, type): a new file every
// cfg.fileResources resources, each gzipped to disk while its sha256 (over the
// decoded bytes) and both lengths are computed, so nothing is held in memory.
type fileSeq struct {
	s       *Server
	j       *job
	batchID string
	typ     string
	seq     int
	cur     *fileWriter
	done    []*fileInfo
}

type fileWriter struct {
	info *fileInfo
	f    *os.File
	gz   *gzip.Writer
	h    hash.Hash
	cw   countWriter
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (s *Server) newFileSeq(j *job, batchID, typ string) *fileSeq {
	return &fileSeq{s: s, j: j, batchID: batchID, typ: typ}
}

func (fs *fileSeq) open() error {
	name := fmt.Sprintf("%s-%d.%s.ndjson", fs.batchID, fs.seq, strings.ToLower(fs.typ))
	fs.seq++
	path := filepath.Join(fs.j.dir, name+".gz")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	fw := &fileWriter{
		info: &fileInfo{name: name, path: path, typ: fs.typ, orgID: fs.j.orgID, jobID: fs.j.id},
		f:    f, h: verify.NewHash(),
	}
	fw.cw.w = f
	fw.gz, _ = gzip.NewWriterLevel(&fw.cw, gzip.BestSpeed) // valid level: no error
	fs.cur = fw
	return nil
}

// writeLines writes n NDJSON lines held in p, rolling files at the resource limit.
func (fs *fileSeq) writeLines(p []byte, n int) error {
	limit := fs.s.cfg.fileResources
	for n > 0 {
		if fs.cur == nil {
			if err := fs.open(); err != nil {
				return err
			}
		}
		room := limit - fs.cur.info.count
		take, end := n, len(p)
		if n > room {
			take, end = room, 0
			for k := 0; k < room; k++ {
				end += bytes.IndexByte(p[end:], '\n') + 1
			}
		}
		if err := fs.cur.write(p[:end], take); err != nil {
			return err
		}
		p, n = p[end:], n-take
		if fs.cur.info.count >= limit {
			if err := fs.finish(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (fw *fileWriter) write(p []byte, lines int) error {
	fw.h.Write(p)
	if _, err := fw.gz.Write(p); err != nil {
		return fmt.Errorf("write %s: %w", fw.info.name, err)
	}
	fw.info.plainLen += int64(len(p))
	fw.info.count += lines
	return nil
}

func (fs *fileSeq) finish() error {
	fw := fs.cur
	fs.cur = nil
	err := fw.gz.Close()
	if cerr := fw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", fw.info.name, err)
	}
	fw.info.gzLen = fw.cw.n
	fw.info.sha256 = hex.EncodeToString(fw.h.Sum(nil))
	fw.info.modTime = fs.s.clock.Now()
	fs.done = append(fs.done, fw.info)
	return nil
}

func (fs *fileSeq) close() error {
	if fs.cur == nil {
		return nil
	}
	return fs.finish()
}

func (fs *fileSeq) abort() {
	if fs.cur != nil {
		_ = fs.cur.f.Close()
		_ = os.Remove(fs.cur.info.path)
		fs.cur = nil
	}
}

// refreshJobLocked fails an unfinished job when the status request r carries
// FaultJobFailed, completes a written job once its duration has passed on the
// clock, and publishes its files.
func (s *Server) refreshJobLocked(r *http.Request, j *job, now time.Time) {
	if faultFrom(r.Context()).jobFail && (j.state == jobQueued || j.state == jobRunning || j.state == jobWritten) && j.completed.IsZero() {
		j.state, j.failure = jobFailed, "injected fault: batch failed"
		j.cancel()
	}
	if j.state != jobWritten || !j.completed.IsZero() {
		return
	}
	due := j.submitted.Add(s.cfg.jobDuration)
	if now.Before(due) {
		return
	}
	j.completed = due
	if j.writtenAt.After(due) {
		j.completed = j.writtenAt
	}
	exp := j.completed.Add(s.cfg.fileExpiry)
	for _, f := range append(append([]*fileInfo{}, j.outputs...), j.errors...) {
		f.expires = exp
		s.files[f.name] = f
	}
}

// jobFor finds the job named in the path, answering as JobResource.checkJobStatus does
// when it cannot: a non-UUID id is an unhandled exception (500), an unknown job 404 and
// another organization's job 401, both in plain text.
func (s *Server) jobFor(w http.ResponseWriter, r *http.Request, o *org) *job {
	id := r.PathValue("id")
	if !uuidPattern.MatchString(id) {
		writeError(w, http.StatusInternalServerError, "There was an error processing your request. It has been logged (ID "+newUUID()[:16]+").")
		return nil
	}
	j, ok := s.jobs[id]
	if !ok || j.state == jobCancelled {
		writePlain(w, http.StatusNotFound, "Could not find job")
		return nil
	}
	if j.orgID != o.id {
		writePlain(w, http.StatusUnauthorized, "Invalid organization for job")
		return nil
	}
	return j
}

func writePlain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, o *org) {
	if !s.acceptsJobJSON(w, r) {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	j := s.jobFor(w, r, o)
	if j == nil {
		s.mu.Unlock()
		return
	}
	s.refreshJobLocked(r, j, now)
	switch {
	case j.state == jobFailed:
		s.mu.Unlock()
		writeOO(w, http.StatusInternalServerError, "exception", "Export job failed: "+j.failure)
		return
	case !j.completed.IsZero() && !now.Before(j.completed.Add(s.cfg.fileExpiry)):
		s.mu.Unlock()
		writeOO(w, http.StatusGone, "not-found", "Export job has expired")
		return
	case j.completed.IsZero():
		progress := s.progressLocked(j, now)
		s.mu.Unlock()
		w.Header().Set("X-Progress", progress)
		if ra := s.cfg.jobRetryAfter; ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	body := s.manifestLocked(j, s.apiBase(r), faultFrom(r.Context()).badChecksum)
	expires := j.completed.Add(s.cfg.fileExpiry)
	s.mu.Unlock()
	w.Header().Set("Expires", expires.UTC().Format(http.TimeFormat))
	writeJSON(w, http.StatusOK, "application/json", body)
}

func (s *Server) progressLocked(j *job, now time.Time) string {
	if j.state == jobQueued {
		return "QUEUED: 0.00%"
	}
	work := float64(j.batchesDone) / float64(j.batchesTotal)
	tf := float64(now.Sub(j.submitted)) / float64(s.cfg.jobDuration)
	p := min(work, tf, 0.9999)
	if p < 0 {
		p = 0
	}
	return fmt.Sprintf("RUNNING: %.2f%%", p*100)
}

// sum is f's sha256 as a manifest gives it; wrong: same length and alphabet,
// another value (FaultBadChecksum), which only a verifying client notices.
func (f *fileInfo) sum(wrong bool) string {
	b := []byte(f.sha256)
	if wrong {
		b[0] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", b[0])+1)%16]
	}
	return string(b)
}

func (s *Server) manifestLocked(j *job, base string, badChecksum bool) map[string]any {
	entry := func(f *fileInfo, corrupt bool) map[string]any {
		sum := f.sum(corrupt)
		return map[string]any{
			"type":  f.typ,
			"url":   base + "/Data/" + f.name,
			"count": f.count,
			"extension": []any{
				map[string]any{"url": "https://dpc.cms.gov/checksum", "valueString": "sha256:" + sum},
				map[string]any{"url": "https://dpc.cms.gov/file_length", "valueDecimal": f.gzLen},
			},
		}
	}
	out := make([]any, 0, len(j.outputs))
	for i, f := range j.outputs {
		out = append(out, entry(f, badChecksum && i == 0))
	}
	errs := make([]any, 0, len(j.errors))
	for _, f := range j.errors {
		errs = append(errs, entry(f, false))
	}
	return map[string]any{
		"transactionTime":     j.transactionTime.UTC().Format(time.RFC3339Nano),
		"request":             j.request,
		"requiresAccessToken": true,
		"output":              out,
		"error":               errs,
		"extension": []any{
			map[string]any{"url": "https://dpc.cms.gov/submit_time", "valueDateTime": fhirTime(j.submitted)},
			map[string]any{"url": "https://dpc.cms.gov/complete_time", "valueDateTime": fhirTime(j.completed)},
		},
	}
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, o *org) {
	s.mu.Lock()
	if j := s.jobFor(w, r, o); j != nil {
		s.cancelJobLocked(w, j)
		return
	}
	s.mu.Unlock()
}

// cancelJobLocked cancels j, unlocks s.mu and answers 202.
func (s *Server) cancelJobLocked(w http.ResponseWriter, j *job) {
	prev := j.state
	j.state = jobCancelled
	j.cancel()
	for _, f := range append(append([]*fileInfo{}, j.outputs...), j.errors...) {
		delete(s.files, f.name)
	}
	s.mu.Unlock()
	if prev != jobRunning {
		// A running job removes its own directory when it sees the cancel.
		_ = os.RemoveAll(j.dir)
	}
	w.WriteHeader(http.StatusAccepted)
}
