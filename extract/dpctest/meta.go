package dpctest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metadata answers GET /metadata (public) with a CapabilityStatement shaped like DPC's
// DPCCapabilities.json: STU3, the resources and operations the sandbox serves.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	interactions := func(codes ...string) []any {
		out := make([]any, len(codes))
		for i, c := range codes {
			out[i] = map[string]string{"code": c}
		}
		return out
	}
	op := func(name string) map[string]any {
		return map[string]any{"name": name, "definition": map[string]string{"reference": "OperationDefinition/" + name}}
	}
	res := func(typ string, codes []string, ops ...string) map[string]any {
		m := map[string]any{"type": typ, "interaction": interactions(codes...)}
		if len(ops) > 0 {
			var os []any
			for _, o := range ops {
				os = append(os, op(o))
			}
			m["operation"] = os
		}
		return m
	}
	base := s.apiBase(r)
	writeJSON(w, http.StatusOK, fhirJSON, map[string]any{
		"resourceType":  "CapabilityStatement",
		"status":        "active",
		"date":          fhirTime(s.clock.Now()),
		"publisher":     "Centers for Medicare and Medicaid Services",
		"kind":          "capability",
		"version":       s.cfg.version,
		"fhirVersion":   "3.0.2",
		"acceptUnknown": "extensions",
		"format":        []string{"application/json", fhirJSON},
		"software":      map[string]string{"name": "Data @ Point of Care API", "version": s.cfg.version},
		"implementation": map[string]string{"url": base,
			"description": "Local DPC sandbox (dpcetl extract/dpctest)"},
		"rest": []any{map[string]any{
			"mode": "server",
			"resource": []any{
				res("Organization", []string{"read", "search-type"}),
				res("Practitioner", []string{"read", "create", "delete", "search-type"}, "submit"),
				res("Patient", []string{"read", "create", "delete", "search-type"}, "everything", "submit"),
				res("Group", []string{"read", "create", "update", "delete", "search-type"}, "export", "add", "remove"),
				res("ExplanationOfBenefit", nil),
				res("Coverage", nil),
			},
			"operation": []any{op("export")},
		}},
	})
}

// versionText answers GET /version (public, text/plain) with the build version.
func (s *Server) versionText(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(s.cfg.version))
}

// everything answers GET /Patient/{id}/$everything synchronously, as DPC does without
// Prefer: respond-async: a searchset Bundle of the patient's Patient, ExplanationOfBenefit
// and Coverage (filtered by _since), or 403 with the OperationOutcome when DPC would
// suppress the patient. Like DPC it needs an X-Provenance naming a practitioner.
func (s *Server) everything(w http.ResponseWriter, r *http.Request, o *org) {
	if !s.acceptsFHIR(w, r) {
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || t.After(s.clock.Now()) {
			writeOO(w, http.StatusBadRequest, "invalid", "'_since' query parameter must be a valid date time value with an offset, not in the future")
			return
		}
		since = t
	}
	s.mu.Lock()
	p, ok := o.patByID[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find patient")
		return
	}
	if !s.checkProvenanceLocked(w, r, o, "") {
		s.mu.Unlock()
		return
	}
	mbi := p.mbi
	s.mu.Unlock()
	if sup, ok := s.gen.Suppressed(mbi); ok {
		writeJSON(w, http.StatusForbidden, fhirJSON, suppressedOutcome(sup.Code, sup.Text, mbi))
		return
	}
	now := s.clock.Now()
	var entries []any
	var buf []byte
	for _, typ := range []string{"Patient", "ExplanationOfBenefit", "Coverage"} {
		var n int
		buf, n = s.gen.AppendNDJSON(buf[:0], mbi, typ, since, now)
		lines := strings.Split(strings.TrimSuffix(string(buf), "\n"), "\n")
		for i := 0; i < n; i++ {
			entries = append(entries, map[string]any{"resource": json.RawMessage(lines[i])})
		}
	}
	writeJSON(w, http.StatusOK, fhirJSON, map[string]any{
		"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})
}

// suppressedOutcome is the OperationOutcome DPC writes for a patient it does not serve
// (AggregationUtils.toOperationOutcome).
func suppressedOutcome(code, text, patient string) map[string]any {
	o := operationOutcome(code, text)
	o["issue"].([]any)[0].(map[string]any)["location"] = []string{"Patient", "id", patient}
	return o
}

// mediaMatches reports whether an Accept header admits want (no header admits anything,
// as JAX-RS treats it as */*).
func mediaMatches(accept, want string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	wantType, _, _ := strings.Cut(want, "/")
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		if mt == want || mt == "*/*" || mt == wantType+"/*" {
			return true
		}
	}
	return false
}

// acceptsJobJSON enforces JobResource's @Produces("application/json"): 406 otherwise.
func (s *Server) acceptsJobJSON(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.lenientMedia || mediaMatches(r.Header.Get("Accept"), "application/json") {
		return true
	}
	writeError(w, http.StatusNotAcceptable, "HTTP 406 Not Acceptable")
	return false
}

// acceptsFHIR enforces @FHIR's @Produces(application/fhir+json) on reads that need it.
func (s *Server) acceptsFHIR(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.lenientMedia || mediaMatches(r.Header.Get("Accept"), fhirJSON) {
		return true
	}
	writeError(w, http.StatusNotAcceptable, "HTTP 406 Not Acceptable")
	return false
}

// fhirBody enforces @FHIR's @Consumes(application/fhir+json) on writes: a body sent with
// another Content-Type is 415 (a request without one is matched, as JAX-RS does).
func (s *Server) fhirBody(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if s.cfg.lenientMedia || ct == "" {
		return true
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == fhirJSON {
		return true
	}
	writeError(w, http.StatusUnsupportedMediaType, "HTTP 415 Unsupported Media Type")
	return false
}
