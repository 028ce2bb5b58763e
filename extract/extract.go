// Package extract is the client side of dpcetl: it turns a bulk export (DPC, BCDA, AB2D, any
// FHIR Bulk Data server) into local files proven to be what the server sent, ready for transform.
package extract

import (
	"errors"
	"fmt"
	"time"
)

// File is a downloaded export file whose bytes were proven to be what the
// server sent, as far as its manifest allows (VerifiedBy says how far).
// It is the only thing extract hands to transform.
type File struct {
	Type       string // FHIR resource type: Patient, Coverage, ExplanationOfBenefit, OperationOutcome, Bundle
	URL        string // where it came from
	Path       string // local path of the verified, decoded (plain NDJSON) file
	SHA256     string // hex sha256 of the decoded bytes (the file's own; equal to the manifest's when it gave one)
	Bytes      int64  // decoded length in bytes
	Count      int    // resource count from the job manifest
	Lines      int64  // NDJSON lines in the file (equal to Count when Count > 0, except in error files)
	JobID      string // the export job the file belongs to
	List       string // the manifest list the file came from: ListOutput, ListError or ListDeleted
	VerifiedBy string // what proved the bytes: VerifiedChecksum, VerifiedLength, VerifiedCount or VerifiedStructure
}

// Manifest lists a file can come from (File.List).
const (
	ListOutput  = "output"
	ListError   = "error"
	ListDeleted = "deleted"
)

// How a file was verified (File.VerifiedBy), strongest first. Every level also
// proves gzip integrity and one JSON value per line; only VerifiedChecksum
// proves the bytes are the server's.
const (
	VerifiedChecksum  = "checksum"  // the manifest's sha256 matched (and its length, if given)
	VerifiedLength    = "length"    // no checksum: file_length matched (and count, if given)
	VerifiedCount     = "count"     // only a count: lines == count
	VerifiedStructure = "structure" // the manifest promised nothing
)

// Sentinel errors that let callers (and the CLI's exit codes) decide what to do next.
var (
	// ErrRetryable marks a failure that may succeed if tried again later:
	// network errors, 5xx, 429, timeouts, a job that is still running.
	ErrRetryable = errors.New("retryable")
	// ErrAuth marks a failure to authenticate or authorize; retrying will not help.
	ErrAuth = errors.New("authentication failed")
	// ErrUnsafeName marks a name from the server (job id, file name, resource type,
	// group id) that cannot be used as exactly one element of a local path.
	ErrUnsafeName = errors.New("unsafe name from server")
)

// maxNameLen bounds a name used as a path element (file systems allow 255 bytes;
// the suffixes .part, .bad, .ok need room).
const maxNameLen = 200

// CheckName returns an error wrapping ErrUnsafeName unless name can be used as
// exactly one path element: 1..200 bytes of letters, digits, '.', '_' and '-',
// not starting with '.'. DPC's ids are UUIDs and its file names are
// "{job}-{n}.{type}.ndjson", so nothing real is refused; "..", "a/b", "%2e%2e"
// decoded, names with NUL, control or non-ASCII bytes are. kind names the
// field in the error ("job id", "file name", ...).
func CheckName(kind, name string) error {
	bad := name == "" || len(name) > maxNameLen || name[0] == '.'
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		bad = !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
	}
	if bad {
		q := name
		if len(q) > 80 {
			q = q[:80] + "..."
		}
		return fmt.Errorf("%s %+q is not a safe file name (one path element of letters, digits, '.', '_', '-'): %w", kind, q, ErrUnsafeName)
	}
	return nil
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds emitted by export and download for progress bars and logs.
const (
	EventJobKickOff   EventKind = "job.kickoff"   // an export job was started
	EventJobRejoin    EventKind = "job.rejoin"    // a saved job was joined instead of starting a new one
	EventJobProgress  EventKind = "job.progress"  // a poll answered; Percent is X-Progress
	EventJobComplete  EventKind = "job.complete"  // the manifest is in
	EventFileStart    EventKind = "file.start"    // a download attempt started
	EventFileBytes    EventKind = "file.bytes"    // Bytes more decoded bytes were received
	EventFileRetry    EventKind = "file.retry"    // an attempt failed and will be retried; Err says why
	EventFileVerified EventKind = "file.verified" // the file is verified and in place
	EventFileSkipped  EventKind = "file.skipped"  // the file was verified by an earlier run
	EventFileFailed   EventKind = "file.failed"   // the file failed for good (Err); bad bytes kept aside
	EventClockSkew    EventKind = "clock.skew"    // the server clock differs from ours by Skew
)

// Event is a progress report. It never carries a secret: URLs of API and data
// endpoints, counts, and error texts that were scrubbed of tokens.
type Event struct {
	Kind    EventKind
	JobID   string
	URL     string        // file or job URL
	Bytes   int64         // EventFileBytes: increment; EventFileVerified: file size
	Total   int64         // expected size when known (decoded), else 0
	Percent float64       // EventJobProgress
	Status  string        // EventJobProgress: QUEUED, RUNNING, ...
	Attempt int           // EventFileRetry: the attempt that failed (1-based)
	Skew    time.Duration // EventClockSkew: server minus local
	Err     string        // EventFileRetry, EventFileFailed
}

// Progress receives events. It is called from several goroutines at once and
// must return quickly; a nil Progress drops events.
type Progress func(Event)

// Emit calls p if it is not nil.
func (p Progress) Emit(e Event) {
	if p != nil {
		p(e)
	}
}
