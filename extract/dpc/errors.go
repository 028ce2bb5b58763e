package dpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/dpcetl/dpcetl/extract"
)

// Sentinel errors for the non-auth, non-retryable outcomes callers branch on.
var (
	// ErrNotFound marks a 404 (or a search that matched nothing where one was required).
	ErrNotFound = errors.New("not found")
	// ErrInvalid marks a request the server refused as malformed or unprocessable (400, 422),
	// or input that failed validation before any request was made.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict marks a 409, and DPC's 403 for a second group of one practitioner.
	ErrConflict = errors.New("conflict")
	// ErrRosterLimit marks DPC's 400 "Roster limit reached": the group would pass the
	// server's patient limit. It also wraps ErrInvalid.
	ErrRosterLimit = errors.New("roster limit reached")
)

// APIError is a non-2xx answer from DPC. Message is the server's own explanation with anything
// that looks like a token or JWT redacted, so an APIError is always safe to log or print.
type APIError struct {
	Method  string
	Path    string // request path without query or host
	Status  int
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("dpc: %s %s: %d %s", e.Method, e.Path, e.Status, msg)
}

// Unwrap maps the status onto the sentinels callers decide on: 401/403 wrap extract.ErrAuth,
// 429 and 5xx wrap extract.ErrRetryable, 400/422 ErrInvalid, 404 ErrNotFound, 409 ErrConflict.
// Two DPC answers are not what their status says: the 403 for a second group of one
// practitioner is ErrConflict (never an auth failure), and 400 "Roster limit reached" is
// ErrRosterLimit as well as ErrInvalid.
func (e *APIError) Unwrap() error {
	switch {
	case e.DuplicateGroup():
		return ErrConflict
	case e.Status == http.StatusBadRequest && strings.Contains(e.Message, "Roster limit reached"):
		return errors.Join(ErrRosterLimit, ErrInvalid)
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return extract.ErrAuth
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return extract.ErrRetryable
	case e.Status == http.StatusNotFound || e.Status == http.StatusGone:
		return ErrNotFound
	case e.Status == http.StatusConflict:
		return ErrConflict
	case e.Status >= 400:
		return ErrInvalid
	}
	return nil
}

// DuplicateGroup reports whether e is DPC's refusal of a second attribution group for a
// practitioner (dpc-attribution GroupResource.createRoster: 403 "…they already have one…").
func (e *APIError) DuplicateGroup() bool {
	return e.Status == http.StatusForbidden && strings.Contains(e.Message, "already have one")
}

// secretPattern matches JWTs (three base64url segments starting with a JSON header) and DPC
// client tokens (base64 of a JSON array of macaroons, which always starts "W3sid").
var secretPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|W3sid[A-Za-z0-9_=+/-]*`)

// Redact removes anything that looks like a JWT or client token from s.
func Redact(s string) string { return secretPattern.ReplaceAllString(s, "[redacted]") }

// serverMessage extracts the human explanation from the three error shapes DPC uses:
// {"code":400,"message":"…"}, {"id":"…","errors":["…"]} and a FHIR OperationOutcome.
func serverMessage(body []byte) string {
	var v struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
		Issue   []struct {
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	var parts []string
	if json.Unmarshal(body, &v) == nil {
		if v.Message != "" {
			parts = append(parts, v.Message)
		}
		parts = append(parts, v.Errors...)
		for _, is := range v.Issue {
			switch {
			case is.Diagnostics != "":
				parts = append(parts, is.Diagnostics)
			case is.Details.Text != "":
				parts = append(parts, is.Details.Text)
			}
		}
	}
	msg := strings.Join(parts, "; ")
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if strings.HasPrefix(msg, "<") { // an HTML error page says nothing useful
			msg = ""
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return Redact(msg)
}
