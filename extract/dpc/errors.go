package dpc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/scrub"
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

// serverMessage is the human explanation in an error body (DPC's {"message"}, {"errors"} and
// OperationOutcome shapes), scrubbed of secrets and claims by the one scrubber extract uses.
func serverMessage(body []byte) string { return scrub.Body(body) }
