package dpctest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// apiPrefix is where the DPC API lives under the server root.
const apiPrefix = "/api/v1"

// Server is a running sandbox DPC server. Create one with NewServer (tests) or
// Listen (commands); Close it when done.
type Server struct {
	// URL is the root of the server, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string

	cfg    config
	clock  *Clock
	gen    *synth.Generator
	ln     net.Listener
	hs     *http.Server
	secret []byte // root key of the client-token macaroons

	mu           sync.Mutex
	orgs         map[string]*org
	accessTokens map[string]accessToken
	jtis         map[string]time.Time
	jobs         map[string]*job
	files        map[string]*fileInfo
	seeded       *Seeded

	reqMu        sync.Mutex
	reqCounts    map[string]int
	methodCounts map[string]int // "METHOD path"

	faults *faultState
	dia    *dialectState // clients, tokens and jobs of cfg.dialect; guarded by mu

	dataDir    string
	ownDataDir bool

	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{} // one slot per job worker
	wg     sync.WaitGroup
	closed sync.Once
}

// NewServer starts a sandbox on a random 127.0.0.1 port. Like httptest.NewServer
// it panics if it cannot listen or cannot set up its data directory.
func NewServer(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		panic(fmt.Sprintf("dpctest: %v", err))
	}
	return s
}

// Listen starts a sandbox on addr ("host:port"). It returns an error, not a
// panic, when the address cannot be bound.
func Listen(addr string, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		clock:        cfg.clock,
		orgs:         map[string]*org{},
		accessTokens: map[string]accessToken{},
		jtis:         map[string]time.Time{},
		jobs:         map[string]*job{},
		files:        map[string]*fileInfo{},
		reqCounts:    map[string]int{},
		methodCounts: map[string]int{},
		secret:       make([]byte, 32),
		dia:          newDialectState(),
	}
	if s.clock == nil {
		s.clock = &Clock{}
	}
	if _, err := rand.Read(s.secret); err != nil {
		return nil, fmt.Errorf("macaroon secret: %w", err)
	}
	version := synth.STU3
	if cfg.fhirVersion == "R4" {
		version = synth.R4
	}
	s.gen = synth.New(synth.Options{Seed: cfg.seed, Version: version, Epoch: cfg.epoch, SuppressedShare: cfg.suppressedShare})
	s.faults = newFaultState(cfg.faults, cfg.seed)

	if cfg.dataDir == "" {
		d, err := os.MkdirTemp("", "dpc-sandbox-*")
		if err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		s.dataDir, s.ownDataDir = d, true
	} else {
		if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		s.dataDir = cfg.dataDir
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.removeDataDir()
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())

	if cfg.seedOrg != nil {
		if err := s.seed(*cfg.seedOrg); err != nil {
			_ = ln.Close()
			s.removeDataDir()
			return nil, fmt.Errorf("seed: %w", err)
		}
	}

	s.sem = make(chan struct{}, cfg.jobWorkers)
	s.hs = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 30 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.hs.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

func (c *config) validate() error {
	switch {
	case c.jobDuration <= 0:
		return errors.New("job duration must be > 0")
	case c.tokenLifetime <= 0:
		return errors.New("token lifetime must be > 0")
	case c.fileResources <= 0, c.batchSize <= 0, c.jobWorkers <= 0:
		return errors.New("file resources, batch size and job workers must be > 0")
	case c.minKeyBits < 512:
		return errors.New("min key bits must be >= 512")
	case c.suppressedShare < 0 || c.suppressedShare > 1:
		return errors.New("suppressed share must be in [0, 1]")
	case c.dialect != DialectDPC && c.seedOrg == nil:
		return fmt.Errorf("dialect %s needs a seeded organization (WithPatients)", c.dialect)
	case c.fhirVersion != "STU3" && c.fhirVersion != "R4":
		return fmt.Errorf("unknown FHIR version %q (want STU3 or R4)", c.fhirVersion)
	}
	return nil
}

// BaseURL is the DPC API base a client configures: URL + "/api/v1".
func (s *Server) BaseURL() string { return s.URL + apiPrefix }

// Clock returns the clock the server reads time from.
func (s *Server) Clock() *Clock { return s.clock }

// Generator returns the synthetic data generator the server serves data from.
func (s *Server) Generator() *synth.Generator { return s.gen }

// DataDir returns the directory export files are written to.
func (s *Server) DataDir() string { return s.dataDir }

// Requests counts the requests received so far whose URL path starts with pathPrefix
// (a full path such as "/api/v1/Data/"; "" counts all).
func (s *Server) Requests(pathPrefix string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	n := 0
	for p, c := range s.reqCounts {
		if strings.HasPrefix(p, pathPrefix) {
			n += c
		}
	}
	return n
}

// RequestsByMethod counts the requests with method whose URL path starts with pathPrefix,
// e.g. RequestsByMethod("DELETE", "/api/v1/Jobs/") proves a client never tried to cancel.
func (s *Server) RequestsByMethod(method, pathPrefix string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	n := 0
	for k, c := range s.methodCounts {
		m, p, _ := strings.Cut(k, " ")
		if m == method && strings.HasPrefix(p, pathPrefix) {
			n += c
		}
	}
	return n
}

// SetFaults replaces the active faults (and resets their counters).
func (s *Server) SetFaults(f Faults) { s.faults.set(f, s.cfg.seed) }

// Close stops the server, cancels running jobs and removes a temporary data dir.
func (s *Server) Close() {
	s.closed.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.hs.Shutdown(ctx); err != nil {
			_ = s.hs.Close()
		}
		s.wg.Wait()
		s.removeDataDir()
	})
}

func (s *Server) removeDataDir() {
	if s.ownDataDir {
		_ = os.RemoveAll(s.dataDir)
	}
}

// handler builds the routing table; the outer layer counts requests and injects faults.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	// Portal: the sandbox's stand-in for the DPC web portal (unauthenticated).
	mux.HandleFunc("POST /portal/Organization", s.portalCreateOrg)
	mux.HandleFunc("POST /portal/Organization/{org}/Token", s.portalCreateToken)
	mux.HandleFunc("POST /portal/Organization/{org}/Key", s.portalCreateKey)

	a := apiPrefix
	mux.HandleFunc("GET "+a+"/metadata", s.metadata)
	mux.HandleFunc("GET "+a+"/version", s.versionText)
	mux.HandleFunc("POST "+a+"/Token/auth", s.tokenAuth)
	mux.HandleFunc("POST "+a+"/Token/validate", s.tokenValidate)
	mux.HandleFunc("GET "+a+"/Token", s.authed(s.listTokens))
	mux.HandleFunc("POST "+a+"/Token", s.authed(s.createToken))
	mux.HandleFunc("GET "+a+"/Token/{id}", s.authed(s.getToken))
	mux.HandleFunc("DELETE "+a+"/Token/{id}", s.authed(s.deleteToken))
	mux.HandleFunc("GET "+a+"/Key", s.authed(s.listKeys))
	mux.HandleFunc("POST "+a+"/Key", s.authed(s.createKey))
	mux.HandleFunc("GET "+a+"/Key/{id}", s.authed(s.getKey))
	mux.HandleFunc("DELETE "+a+"/Key/{id}", s.authed(s.deleteKey))

	mux.HandleFunc("GET "+a+"/Organization", s.authed(s.getOrganization))
	mux.HandleFunc("GET "+a+"/Organization/{id}", s.authed(s.getOrganization))

	mux.HandleFunc("GET "+a+"/Practitioner", s.authed(s.listPractitioners))
	mux.HandleFunc("POST "+a+"/Practitioner", s.authed(s.createPractitioner))
	mux.HandleFunc("POST "+a+"/Practitioner/$submit", s.authed(s.submitPractitioners))
	mux.HandleFunc("GET "+a+"/Practitioner/{id}", s.authed(s.getPractitioner))
	mux.HandleFunc("DELETE "+a+"/Practitioner/{id}", s.authed(s.deletePractitioner))

	mux.HandleFunc("GET "+a+"/Patient", s.authed(s.listPatients))
	mux.HandleFunc("POST "+a+"/Patient", s.authed(s.createPatient))
	mux.HandleFunc("POST "+a+"/Patient/$submit", s.authed(s.submitPatients))
	mux.HandleFunc("GET "+a+"/Patient/{id}", s.authed(s.getPatient))
	mux.HandleFunc("GET "+a+"/Patient/{id}/$everything", s.authed(s.everything))
	mux.HandleFunc("DELETE "+a+"/Patient/{id}", s.authed(s.deletePatient))

	mux.HandleFunc("GET "+a+"/Group", s.authed(s.listGroups))
	mux.HandleFunc("POST "+a+"/Group", s.authed(s.createGroup))
	mux.HandleFunc("GET "+a+"/Group/{id}", s.authed(s.getGroup))
	mux.HandleFunc("PUT "+a+"/Group/{id}", s.authed(s.putGroup))
	mux.HandleFunc("DELETE "+a+"/Group/{id}", s.authed(s.deleteGroup))
	mux.HandleFunc("POST "+a+"/Group/{id}/$add", s.authed(s.addToGroup))
	mux.HandleFunc("POST "+a+"/Group/{id}/$remove", s.authed(s.removeFromGroup))
	mux.HandleFunc("GET "+a+"/Group/{id}/$export", s.authed(s.startExport))

	mux.HandleFunc("GET "+a+"/Jobs/{id}", s.authed(s.getJob))
	if s.cfg.jobDelete {
		mux.HandleFunc("DELETE "+a+"/Jobs/{id}", s.authed(s.deleteJob))
	} else {
		// JobResource has only GET: JAX-RS answers 405 before any auth filter runs.
		mux.HandleFunc("DELETE "+a+"/Jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		})
	}

	mux.HandleFunc("GET "+a+"/Data/{file}", s.authed(s.getData))
	s.dialectRoutes(mux) // BCDA, AB2D or SMART paths, beside DPC's

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqMu.Lock()
		s.reqCounts[r.URL.Path]++
		s.methodCounts[r.Method+" "+r.URL.Path]++
		s.reqMu.Unlock()
		// Date comes from the server Clock, the same clock JWT and token checks
		// use, so a client can measure (and correct for) the skew a test makes
		// with Clock().Advance. net/http only adds its own Date when none is set.
		w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
		s.serveWithFaults(w, r, mux)
	})
}

// apiBase is the API base as the client addressed it (Host header), so that
// Content-Location and file URLs work whatever name the client used.
func (s *Server) apiBase(r *http.Request) string {
	if r.Host == "" {
		return s.BaseURL()
	}
	return "http://" + r.Host + apiPrefix
}

// ---- response helpers ----

const fhirJSON = "application/fhir+json"

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes the plain (non-FHIR) JSON error body of DPC's auth endpoints.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, "application/json", map[string]any{"code": status, "message": msg})
}

// writeValidationErrors writes DPC's parameter-validation error body.
func writeValidationErrors(w http.ResponseWriter, status int, errs ...string) {
	writeJSON(w, status, "application/json", map[string]any{"id": newUUID(), "errors": errs})
}

// operationOutcome is a one-issue STU3 OperationOutcome.
func operationOutcome(code, text string) map[string]any {
	return map[string]any{
		"resourceType": "OperationOutcome",
		"id":           newUUID(),
		"issue": []any{map[string]any{
			"severity": "error",
			"code":     code,
			"details":  map[string]any{"text": text},
		}},
	}
}

// writeOO writes an OperationOutcome error, the shape of every FHIR endpoint's errors.
func writeOO(w http.ResponseWriter, status int, code, text string) {
	writeJSON(w, status, fhirJSON, operationOutcome(code, text))
}

func fhirTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+00:00") }
