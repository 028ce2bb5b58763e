// Package extract is the DPC client side of dpcetl: it turns a bulk export into local files
// whose every byte is proven to be what DPC sent, ready for transform.
package extract

import (
	"errors"
	"time"
)

// File is a downloaded export file whose bytes were proven to be what DPC sent.
// It is the only thing extract hands to transform.
type File struct {
	Type   string // FHIR resource type: Patient, Coverage, ExplanationOfBenefit, OperationOutcome
	URL    string // where it came from
	Path   string // local path of the verified, decoded (plain NDJSON) file
	SHA256 string // hex sha256 of the decoded bytes, equal to the manifest checksum
	Bytes  int64  // decoded length in bytes
	Count  int    // resource count from the job manifest
	Lines  int64  // NDJSON lines in the file (verified equal to Count when Count > 0)
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
