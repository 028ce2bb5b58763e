// Package extract is the DPC client side of dpcetl: it turns a bulk export into local files
// whose every byte is proven to be what DPC sent, ready for transform.
package extract

import "errors"

// File is a downloaded export file whose bytes were proven to be what DPC sent.
// It is the only thing extract hands to transform.
type File struct {
	Type   string // FHIR resource type: Patient, Coverage, ExplanationOfBenefit, OperationOutcome
	URL    string // where it came from
	Path   string // local path of the verified, decoded (plain NDJSON) file
	SHA256 string // hex sha256 of the decoded bytes, equal to the manifest checksum
	Bytes  int64  // decoded length in bytes
	Count  int    // resource count from the job manifest
	JobID  string // the export job the file belongs to
}

// Sentinel errors that let callers (and the CLI's exit codes) decide what to do next.
var (
	// ErrRetryable marks a failure that may succeed if tried again later:
	// network errors, 5xx, 429, timeouts, a job that is still running.
	ErrRetryable = errors.New("retryable")
	// ErrAuth marks a failure to authenticate or authorize; retrying will not help.
	ErrAuth = errors.New("authentication failed")
)
