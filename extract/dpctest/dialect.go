package dpctest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract/verify"
)

// Dialect is the bulk-data API a sandbox speaks besides DPC's (see DIALECTS.md for
// the sources of each behaviour).
type Dialect int

const (
	// DialectDPC is the DPC API under /api/v1 (the default, and the only one with
	// organizations, rosters and the portal).
	DialectDPC Dialect = iota
	// DialectSMART is a generic FHIR Bulk Data server with SMART Backend Services auth.
	DialectSMART
	// DialectBCDA is CMS's Beneficiary Claims Data API (v2, R4).
	DialectBCDA
	// DialectAB2D is CMS's AB2D API for Part D sponsors (v2, R4).
	DialectAB2D
)

func (d Dialect) String() string {
	switch d {
	case DialectSMART:
		return "smart"
	case DialectBCDA:
		return "bcda"
	case DialectAB2D:
		return "ab2d"
	}
	return "dpc"
}

// ParseDialect reads "dpc", "smart", "bcda" or "ab2d".
func ParseDialect(s string) (Dialect, error) {
	for _, d := range []Dialect{DialectDPC, DialectSMART, DialectBCDA, DialectAB2D} {
		if strings.EqualFold(s, d.String()) {
			return d, nil
		}
	}
	return DialectDPC, fmt.Errorf("unknown dialect %q (want dpc, smart, bcda or ab2d)", s)
}

// WithDialect makes the sandbox also speak d (the DPC API stays where it is). A
// non-DPC dialect serves R4, only the ~2% opted-out patients as error[] lines, and
// the token lifetime and poll Retry-After of that API (BCDA: 20 minutes, no
// Retry-After; AB2D: 1 hour, 5 s; SMART: 5 minutes, none). Options after it win.
// Its exports cover the seeded organization's patients (WithPatients).
func WithDialect(d Dialect) Option {
	return func(cf *config) {
		cf.dialect = d
		if d == DialectDPC {
			return
		}
		cf.fhirVersion, cf.suppressedShare = "R4", 0
		switch d {
		case DialectBCDA:
			cf.tokenLifetime = 20 * time.Minute
		case DialectAB2D:
			cf.tokenLifetime, cf.jobRetryAfter = time.Hour, 5*time.Second
		}
	}
}

// WithOpenFiles makes a SMART-dialect manifest say requiresAccessToken: false and its
// file URLs answer without a bearer.
func WithOpenFiles() Option { return func(cf *config) { cf.openFiles = true } }

// WithSigningAlgs limits the assertion algorithms the SMART token endpoint accepts and
// advertises (default RS384 and ES384).
func WithSigningAlgs(algs ...string) Option {
	return func(cf *config) { cf.signingAlgs = append([]string(nil), algs...) }
}

// WithFileHost makes dialect manifests name files on host ("localhost:port") instead
// of the host the client used, i.e. on another origin.
func WithFileHost(host string) Option { return func(cf *config) { cf.fileHost = host } }

const (
	smartPrefix = "/smart"
	bcdaPrefix  = "/api/v2"
	ab2dPrefix  = "/api/v2/fhir"
)

// dialectState holds the clients, tokens and jobs of the non-DPC dialect. Guarded by Server.mu.
type dialectState struct {
	clients    map[string]*dialectClient
	tokens     map[string]dialectToken
	jtis       map[string]time.Time
	jobs       map[string]*dialectJob // by the id in the status URL
	nextNum    int
	fileBearer int // file requests that carried an Authorization header
}

func newDialectState() *dialectState {
	return &dialectState{clients: map[string]*dialectClient{}, tokens: map[string]dialectToken{},
		jtis: map[string]time.Time{}, jobs: map[string]*dialectJob{}}
}

type dialectJob struct {
	pub, client, key string
	j                *job
	elements         []string
	deleted          *fileInfo
	lastPoll         time.Time
	downloads        map[string]int
}

// DialectBaseURL is the FHIR base of the dialect: URL+"/smart/fhir", URL+"/api/v2"
// (BCDA), URL+"/api/v2/fhir" (AB2D), BaseURL() for DPC.
func (s *Server) DialectBaseURL() string {
	switch s.cfg.dialect {
	case DialectSMART:
		return s.URL + smartPrefix + "/fhir"
	case DialectBCDA:
		return s.URL + bcdaPrefix
	case DialectAB2D:
		return s.URL + ab2dPrefix
	}
	return s.BaseURL()
}

// DialectTokenURL is where the dialect's access tokens come from.
func (s *Server) DialectTokenURL() string {
	switch s.cfg.dialect {
	case DialectSMART:
		return s.URL + smartPrefix + "/token"
	case DialectBCDA:
		return s.URL + "/auth/token"
	case DialectAB2D:
		return s.URL + "/oauth2/token"
	}
	return s.BaseURL() + "/Token/auth"
}

// DialectGroups lists the group ids a Group export accepts: BCDA's "all" and
// "runout", one AB2D contract "Z0001", and for SMART one non-UUID id per seeded
// group ("practice-1", ...).
func (s *Server) DialectGroups() []string {
	switch s.cfg.dialect {
	case DialectBCDA:
		return []string{"all", "runout"}
	case DialectAB2D:
		return []string{"Z0001"}
	case DialectSMART:
		sd := s.Seeded()
		if sd == nil {
			return nil
		}
		ids := make([]string, len(sd.Groups))
		for i := range sd.Groups {
			ids[i] = fmt.Sprintf("practice-%d", i+1)
		}
		return ids
	}
	return nil
}

// FileRequestsWithBearer counts dialect file downloads that carried an Authorization header.
func (s *Server) FileRequestsWithBearer() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dia.fileBearer
}

func (s *Server) dialectRoutes(mux *http.ServeMux) {
	switch s.cfg.dialect {
	case DialectBCDA:
		mux.HandleFunc("POST /auth/token", s.secretTokenAuth)
		mux.HandleFunc("GET "+bcdaPrefix+"/metadata", s.dialectMetadata)
		mux.HandleFunc("GET "+bcdaPrefix+"/Patient/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+bcdaPrefix+"/Group/{id}/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+bcdaPrefix+"/jobs/{id}", s.dialectAuthed(s.dialectStatus))
		mux.HandleFunc("DELETE "+bcdaPrefix+"/jobs/{id}", s.dialectAuthed(s.dialectCancel))
		mux.HandleFunc("GET /data/{id}/{file}", s.dialectFile)
	case DialectAB2D:
		mux.HandleFunc("POST /oauth2/token", s.secretTokenAuth)
		mux.HandleFunc("GET "+ab2dPrefix+"/metadata", s.dialectMetadata)
		mux.HandleFunc("GET "+ab2dPrefix+"/Patient/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+ab2dPrefix+"/Group/{id}/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+ab2dPrefix+"/Job/{id}/$status", s.dialectAuthed(s.dialectStatus))
		mux.HandleFunc("DELETE "+ab2dPrefix+"/Job/{id}/$status", s.dialectAuthed(s.dialectCancel))
		mux.HandleFunc("GET "+ab2dPrefix+"/Job/{id}/file/{file}", s.dialectFile)
	case DialectSMART:
		b := smartPrefix + "/fhir"
		mux.HandleFunc("POST /portal/Client", s.portalRegisterJWKS)
		mux.HandleFunc("GET "+b+"/.well-known/smart-configuration", s.smartConfiguration)
		mux.HandleFunc("POST "+smartPrefix+"/token", s.smartToken)
		mux.HandleFunc("GET "+b+"/metadata", s.dialectMetadata)
		mux.HandleFunc("GET "+b+"/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+b+"/Patient/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+b+"/Group/{id}/$export", s.dialectAuthed(s.dialectExport))
		mux.HandleFunc("GET "+b+"/jobs/{id}", s.dialectAuthed(s.dialectStatus))
		mux.HandleFunc("DELETE "+b+"/jobs/{id}", s.dialectAuthed(s.dialectCancel))
		mux.HandleFunc("GET "+smartPrefix+"/files/{id}/{file}", s.dialectFile)
	}
}

// portalRegisterJWKS registers a SMART client from a JWK Set in the body (the sandbox's
// stand-in for a server's client registration page).
func (s *Server) portalRegisterJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read body")
		return
	}
	id, err := s.RegisterJWKS(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, "application/json", map[string]any{"client_id": id})
}

func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"token_endpoint":                                   "http://" + r.Host + smartPrefix + "/token",
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": s.signingAlgs(),
		"grant_types_supported":                            []string{"client_credentials"},
		"scopes_supported":                                 []string{"system/*.read", "system/*.rs", "system/Patient.read", "system/Coverage.read", "system/ExplanationOfBenefit.read"},
		"capabilities":                                     []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	})
}

func (s *Server) signingAlgs() []string {
	if len(s.cfg.signingAlgs) > 0 {
		return s.cfg.signingAlgs
	}
	return []string{"RS384", "ES384"}
}

func (s *Server) dialectMetadata(w http.ResponseWriter, r *http.Request) {
	v := "4.0.1"
	if s.cfg.fhirVersion == "STU3" {
		v = "3.0.2"
	}
	writeJSON(w, http.StatusOK, fhirJSON, map[string]any{
		"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
		"fhirVersion": v, "format": []string{"application/fhir+json"},
		"software": map[string]any{"name": "dpctest " + s.cfg.dialect.String()},
	})
}

var dialectTypes = map[Dialect][]string{
	DialectSMART: exportTypes,
	DialectBCDA:  exportTypes,
	DialectAB2D:  {"ExplanationOfBenefit"},
}

// ab2dEarliestSince is AB2D's SINCE_EARLIEST_DATE (common/.../util/Constants.java).
var ab2dEarliestSince = time.Date(2020, 2, 13, 5, 0, 0, 0, time.UTC)

func (s *Server) dialectExport(w http.ResponseWriter, r *http.Request, tok dialectToken) {
	d := s.cfg.dialect
	if d == DialectSMART && !asyncKickOff(w, r, http.StatusBadRequest) {
		return
	}
	q := r.URL.Query()
	now := s.clock.Now()
	allowed := dialectTypes[d]
	types := allowed
	if d == DialectBCDA {
		types = exportTypes
	}
	if v := q.Get("_type"); v != "" {
		sel, unknown, repeated := selectTypes(v, allowed)
		switch {
		case d == DialectAB2D && unknown != "":
			writeOO(w, http.StatusBadRequest, "invalid", "_type must be ExplanationOfBenefit")
			return
		case unknown != "":
			writeOO(w, http.StatusBadRequest, "invalid", "Unsupported resource type "+unknown)
			return
		case repeated != "" && d == DialectBCDA:
			writeOO(w, http.StatusBadRequest, "invalid", "Repeated resource type "+repeated)
			return
		}
		types = sel
	}
	for _, t := range types {
		if !tok.allowsType(t) {
			writeOO(w, http.StatusForbidden, "forbidden", "the access token's scopes do not allow "+t)
			return
		}
	}
	var since time.Time
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		switch {
		case err != nil:
			writeOO(w, http.StatusBadRequest, "invalid", "Invalid date format supplied in _since parameter. Date must be in FHIR Instant format.")
			return
		case t.After(now):
			writeOO(w, http.StatusBadRequest, "invalid", "You can not use a time after the current time for _since")
			return
		case d == DialectAB2D && t.Before(ab2dEarliestSince):
			writeOO(w, http.StatusBadRequest, "invalid", "_since must be after 2020-02-13T00:00:00-05:00")
			return
		}
		since = t
	}
	if v := q.Get("_outputFormat"); v != "" && !outputFormats[v] {
		writeOO(w, http.StatusBadRequest, "invalid", "_outputFormat must be application/fhir+ndjson, application/ndjson, or ndjson")
		return
	}
	var elements []string
	if v, ok := q["_elements"]; ok {
		if d != DialectSMART {
			writeOO(w, http.StatusBadRequest, "invalid", "Invalid parameter: this server does not support the _elements parameter.")
			return
		}
		for _, e := range strings.Split(strings.Join(v, ","), ",") {
			if e = strings.TrimSpace(e); e != "" {
				elements = append(elements, e)
			}
		}
	}
	if v := q.Get("_typeFilter"); v != "" && d != DialectSMART && !strings.HasPrefix(v, "ExplanationOfBenefit?") {
		writeOO(w, http.StatusBadRequest, "invalid", "invalid _typeFilter Resource Type (Only EOBs valid)")
		return
	}
	if v := q.Get("includeAssociatedData"); v != "" {
		if d != DialectSMART {
			writeOO(w, http.StatusBadRequest, "invalid", "includeAssociatedData is not supported")
			return
		}
		// The IG's two defined values are accepted (no Provenance exists to add); others are not.
		for _, a := range strings.Split(v, ",") {
			if a != "LatestProvenanceResources" && a != "RelevantProvenanceResources" {
				writeOO(w, http.StatusBadRequest, "not-supported", "includeAssociatedData value not supported: "+a)
				return
			}
		}
	}

	s.mu.Lock()
	mbis, ok := s.dialectRosterLocked(r.PathValue("id"), now)
	if !ok {
		s.mu.Unlock()
		status, msg := http.StatusNotFound, "Group not found"
		if d == DialectBCDA {
			status, msg = http.StatusBadRequest, "Invalid group ID"
		}
		writeOO(w, status, "not-found", msg)
		return
	}
	key := r.URL.Path + "|" + strings.Join(types, ",") + "|" + since.String()
	for _, dj := range s.dia.jobs {
		active := dj.j.state == jobQueued || dj.j.state == jobRunning || (dj.j.state == jobWritten && dj.j.completed.IsZero())
		if !active || dj.client != tok.client {
			continue
		}
		// BCDA refuses a duplicate of an unfinished request; AB2D any second active job.
		if (d == DialectBCDA && dj.key == key) || d == DialectAB2D {
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.jobRetryAfter/time.Second)))
			if d == DialectAB2D {
				w.Header().Set("Content-Location", s.statusURL(r, dj.pub))
				writeOO(w, http.StatusTooManyRequests, "throttled", "You already have active export requests in progress. Please wait until they complete before submitting a new one.")
			} else {
				w.WriteHeader(http.StatusTooManyRequests)
			}
			return
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	j := &job{
		id: newUUID(), orgID: s.seeded.OrgID, request: "http://" + r.Host + r.URL.RequestURI(), types: types, since: since,
		transactionTime: now, submitted: now, mbis: mbis, ctx: ctx, cancel: cancel,
		batchesTotal: max(1, (len(mbis)+s.cfg.batchSize-1)/s.cfg.batchSize),
	}
	j.dir = filepath.Join(s.dataDir, j.id)
	s.jobs[j.id] = j
	pub := j.id
	if d == DialectBCDA {
		s.dia.nextNum++
		pub = strconv.Itoa(s.dia.nextNum) // BCDA job ids are integers
	}
	dj := &dialectJob{pub: pub, client: tok.client, key: key, j: j, elements: elements, downloads: map[string]int{}}
	s.dia.jobs[pub] = dj
	s.mu.Unlock()

	if d == DialectSMART && !since.IsZero() {
		del, err := s.writeDeleted(j)
		if err != nil {
			writeOO(w, http.StatusInternalServerError, "exception", err.Error())
			return
		}
		s.mu.Lock()
		dj.deleted = del
		s.mu.Unlock()
	}
	s.wg.Add(1)
	go s.runJob(j)
	w.Header().Set("Content-Location", s.statusURL(r, pub))
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) statusURL(r *http.Request, pub string) string {
	root := "http://" + r.Host
	switch s.cfg.dialect {
	case DialectBCDA:
		return root + bcdaPrefix + "/jobs/" + pub
	case DialectAB2D:
		return root + ab2dPrefix + "/Job/" + pub + "/$status"
	}
	return root + smartPrefix + "/fhir/jobs/" + pub
}

// dialectRosterLocked returns the MBIs a kick-off covers: every seeded patient for a
// Patient or system export and for BCDA's and AB2D's groups, one seeded group's active
// members for a SMART group.
func (s *Server) dialectRosterLocked(groupID string, now time.Time) ([]string, bool) {
	if s.seeded == nil {
		return nil, false
	}
	o := s.orgs[s.seeded.OrgID]
	all := func() []string {
		mbis := make([]string, 0, len(o.patients))
		for _, p := range o.patients {
			mbis = append(mbis, p.mbi)
		}
		return mbis
	}
	if groupID == "" {
		return all(), true
	}
	switch s.cfg.dialect {
	case DialectBCDA:
		return all(), groupID == "all" || groupID == "runout"
	case DialectAB2D:
		return all(), groupID == "Z0001"
	}
	var n int
	if _, err := fmt.Sscanf(groupID, "practice-%d", &n); err != nil || n < 1 || n > len(s.seeded.Groups) || groupID != fmt.Sprintf("practice-%d", n) {
		return nil, false
	}
	g := o.groupByID[s.seeded.Groups[n-1].GroupID]
	var mbis []string
	for _, m := range g.members {
		if p, ok := o.patByID[m.patientID]; ok && !m.inactive(now) {
			mbis = append(mbis, p.mbi)
		}
	}
	return mbis, true
}

// writeDeleted writes the deleted[] file of an incremental SMART export, the same for
// the same roster: for every tenth patient a Bundle deleting one ExplanationOfBenefit,
// for every tenth other one a Bundle deleting the Patient, each a transaction with one
// DELETE entry as the Bulk IG's "Complete Status" describes.
func (s *Server) writeDeleted(j *job) (*fileInfo, error) {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, fmt.Errorf("job dir: %w", err)
	}
	var buf bytes.Buffer
	n := 0
	for i, mbi := range j.mbis {
		ref := map[int]string{3: "ExplanationOfBenefit/deleted-", 7: "Patient/deleted-"}[i%10]
		if ref == "" {
			continue
		}
		id := strings.ToLower(mbi)
		b, _ := json.Marshal(map[string]any{ // plain strings: cannot fail
			"resourceType": "Bundle", "id": "deleted-" + id, "type": "transaction",
			"timestamp": fhirTime(j.transactionTime),
			"entry":     []any{map[string]any{"request": map[string]any{"method": "DELETE", "url": ref + id}}},
		})
		buf.Write(b)
		buf.WriteByte('\n')
		n++
	}
	if n == 0 {
		return nil, nil
	}
	name := "deleted-" + newUUID() + ".bundle.ndjson"
	path := filepath.Join(j.dir, name+".gz")
	var gzb bytes.Buffer
	gz := gzip.NewWriter(&gzb)
	_, _ = gz.Write(buf.Bytes()) // writes to memory: cannot fail
	_ = gz.Close()
	if err := os.WriteFile(path, gzb.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("deleted file: %w", err)
	}
	return &fileInfo{name: name, path: path, typ: "Bundle", jobID: j.id, count: n,
		sha256: verify.Sum(buf.Bytes()), gzLen: int64(gzb.Len()), plainLen: int64(buf.Len())}, nil
}

func (s *Server) dialectJobFor(w http.ResponseWriter, r *http.Request, tok dialectToken) *dialectJob {
	dj, ok := s.dia.jobs[r.PathValue("id")]
	if !ok || dj.client != tok.client {
		writeOO(w, http.StatusNotFound, "not-found", "Job not found")
		return nil
	}
	if dj.j.state == jobCancelled {
		writeOO(w, http.StatusNotFound, "not-found", "Job has been cancelled.")
		return nil
	}
	return dj
}

func (s *Server) dialectStatus(w http.ResponseWriter, r *http.Request, tok dialectToken) {
	d := s.cfg.dialect
	now := s.clock.Now()
	s.mu.Lock()
	dj := s.dialectJobFor(w, r, tok)
	if dj == nil {
		s.mu.Unlock()
		return
	}
	j := dj.j
	s.refreshJobLocked(r, j, now)
	ra := s.cfg.jobRetryAfter
	raSecs := strconv.Itoa(int((ra + time.Second - 1) / time.Second))
	if ra > 0 && d != DialectBCDA && j.completed.IsZero() && !dj.lastPoll.IsZero() && now.Sub(dj.lastPoll) < ra {
		// AB2D's TooFrequentInvocations; the Bulk IG allows 429 on a too-early poll.
		s.mu.Unlock()
		w.Header().Set("Retry-After", raSecs)
		writeOO(w, http.StatusTooManyRequests, "throttled", "You are polling too frequently")
		return
	}
	dj.lastPoll = now
	expires := j.completed.Add(s.cfg.fileExpiry)
	switch {
	case j.state == jobFailed:
		s.mu.Unlock()
		writeOO(w, http.StatusInternalServerError, "exception", "Job failed while processing")
		return
	case !j.completed.IsZero() && !now.Before(expires):
		s.mu.Unlock()
		writeOO(w, http.StatusGone, "not-found", "Job has expired")
		return
	case j.completed.IsZero():
		var progress string
		work := 0
		if j.batchesTotal > 0 {
			work = 100 * j.batchesDone / j.batchesTotal
		}
		work = min(work, 99)
		switch d {
		case DialectBCDA:
			progress = "Pending"
			if j.state != jobQueued {
				progress = fmt.Sprintf("In Progress (%d%%)", work)
			}
		case DialectAB2D:
			progress = fmt.Sprintf("%d%% complete", work)
		default:
			progress = fmt.Sprintf("%d%%", work)
		}
		s.mu.Unlock()
		w.Header().Set("X-Progress", progress)
		if ra > 0 && d != DialectBCDA {
			w.Header().Set("Retry-After", raSecs)
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	body := s.dialectManifestLocked(dj, r, faultFrom(r.Context()).badChecksum)
	s.mu.Unlock()
	if d == DialectBCDA {
		w.Header().Set("Expires", expires.String()) // BCDA's quirk: Go's time.String, not an HTTP date
	} else {
		w.Header().Set("Expires", expires.UTC().Format(http.TimeFormat))
	}
	writeJSON(w, http.StatusOK, "application/json", body)
}

func (s *Server) fileRoot(r *http.Request) string {
	if s.cfg.fileHost != "" {
		return "http://" + s.cfg.fileHost
	}
	return "http://" + r.Host
}

func (s *Server) fileURL(r *http.Request, dj *dialectJob, name string) string {
	root := s.fileRoot(r)
	switch s.cfg.dialect {
	case DialectBCDA:
		return root + "/data/" + dj.pub + "/" + name
	case DialectAB2D:
		return root + ab2dPrefix + "/Job/" + dj.pub + "/file/" + name
	}
	return root + smartPrefix + "/files/" + dj.pub + "/" + name
}

func (s *Server) dialectManifestLocked(dj *dialectJob, r *http.Request, badChecksum bool) map[string]any {
	d := s.cfg.dialect
	entry := func(f *fileInfo) map[string]any {
		e := map[string]any{"type": f.typ, "url": s.fileURL(r, dj, f.name)}
		switch d {
		case DialectAB2D:
			e["extension"] = []any{
				map[string]any{"url": "https://ab2d.cms.gov/checksum", "valueString": "sha256:" + f.sum(badChecksum && f == dj.j.outputs[0])},
				map[string]any{"url": "https://ab2d.cms.gov/file_length", "valueDecimal": f.plainLen},
			}
		case DialectSMART:
			e["count"] = f.count
		}
		return e
	}
	list := func(fs []*fileInfo) []any {
		out := make([]any, 0, len(fs))
		for _, f := range fs {
			out = append(out, entry(f))
		}
		return out
	}
	m := map[string]any{
		"transactionTime":     dj.j.transactionTime.UTC().Format(time.RFC3339Nano),
		"request":             dj.j.request,
		"requiresAccessToken": !(d == DialectSMART && s.cfg.openFiles),
		"output":              list(dj.j.outputs),
		"error":               list(dj.j.errors),
	}
	switch d {
	case DialectBCDA:
		n, _ := strconv.Atoi(dj.pub)
		m["JobID"] = n // BulkResponseBody's field without a json tag
	case DialectSMART:
		var del []*fileInfo
		if dj.deleted != nil {
			del = append(del, dj.deleted)
		}
		m["deleted"] = list(del)
	}
	return m
}

func (s *Server) dialectCancel(w http.ResponseWriter, r *http.Request, tok dialectToken) {
	s.mu.Lock()
	if dj := s.dialectJobFor(w, r, tok); dj != nil {
		s.cancelJobLocked(w, dj.j)
		return
	}
	s.mu.Unlock()
}

// dialectFile serves one export file: gzip-encoded when the client accepts it
// (BCDA's ServeData), else decoded; with _elements, only the asked elements.
func (s *Server) dialectFile(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	bearer := r.Header.Get("Authorization") != ""
	s.mu.Lock()
	if bearer {
		s.dia.fileBearer++
	}
	dj, ok := s.dia.jobs[r.PathValue("id")]
	var f *fileInfo
	if ok && !dj.j.completed.IsZero() && dj.j.state != jobCancelled && now.Before(dj.j.completed.Add(s.cfg.fileExpiry)) {
		name := r.PathValue("file")
		for _, c := range append(append([]*fileInfo{dj.deleted}, dj.j.outputs...), dj.j.errors...) {
			if c != nil && c.name == name {
				f = c
			}
		}
	}
	s.mu.Unlock()
	if f == nil {
		writeOO(w, http.StatusNotFound, "not-found", "File not found")
		return
	}
	if !(s.cfg.dialect == DialectSMART && s.cfg.openFiles) {
		tok, ok := s.dialectBearer(r)
		if !ok || tok.client != dj.client {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			writeOO(w, http.StatusUnauthorized, "security", "Invalid or expired access token")
			return
		}
	}
	if s.cfg.dialect == DialectAB2D {
		s.mu.Lock()
		dj.downloads[f.name]++
		n := dj.downloads[f.name]
		s.mu.Unlock()
		if n > 6 { // MAX_DOWNLOADS (common/.../util/Constants.java)
			writeOO(w, http.StatusGone, "not-found", "The file has been downloaded the maximum number of times")
			return
		}
	}
	fh, err := os.Open(f.path)
	if err != nil {
		writeOO(w, http.StatusGone, "not-found", "File is no longer available")
		return
	}
	defer fh.Close()
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	if len(dj.elements) == 0 || f.typ == "OperationOutcome" || f.typ == "Bundle" {
		serveFile(w, r, f, fh)
		return
	}
	zr, err := gzip.NewReader(fh)
	if err != nil {
		writeOO(w, http.StatusInternalServerError, "exception", "corrupt file")
		return
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	bw := bufio.NewWriter(w)
	for sc.Scan() {
		_, _ = bw.Write(subset(sc.Bytes(), f.typ, dj.elements))
		_ = bw.WriteByte('\n')
	}
	_ = bw.Flush()
}

// subset keeps the _elements asked for (bare or "Type.element" for this type) plus the
// mandatory resourceType, id and meta, and tags the resource SUBSETTED.
func subset(line []byte, typ string, elements []string) []byte {
	var res map[string]json.RawMessage
	if err := json.Unmarshal(line, &res); err != nil {
		return line
	}
	keep := map[string]bool{"resourceType": true, "id": true, "meta": true}
	for _, e := range elements {
		if t, el, ok := strings.Cut(e, "."); ok {
			if t == typ {
				keep[el] = true
			}
		} else {
			keep[e] = true
		}
	}
	out := map[string]any{}
	for k, v := range res {
		if keep[k] {
			out[k] = v
		}
	}
	meta := map[string]any{}
	if m, ok := res["meta"]; ok {
		_ = json.Unmarshal(m, &meta)
	}
	meta["tag"] = []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}}
	out["meta"] = meta
	b, err := json.Marshal(out)
	if err != nil {
		return line
	}
	return b
}
