package report

import "github.com/dpcetl/dpcetl/extract"

// Export is what a run was made from: every file the job delivered and how it was verified,
// the deletions it landed, error files whose count disagreed with their lines, and why the
// watermark did not move. The runner records it in the run manifest (under "export") and the
// report shows it.
type Export struct {
	Files           []Input          `json:"files"`
	VerifiedBy      map[string]int   `json:"verified_by"`       // method → files
	Deleted         map[string]int64 `json:"deleted,omitempty"` // resource type → deletions landed in deleted_resource
	CountMismatches []CountMismatch  `json:"error_count_mismatches,omitempty"`
	WatermarkHeld   string           `json:"watermark_held,omitempty"`
	Rounded         map[string]int64 `json:"rounded,omitempty"` // "table.column" → values rounded by the money policy
}

// Input is one delivered file: its own hash, size and lines, whatever its manifest promised.
type Input struct {
	File        string `json:"file"` // the last element of its URL (no query: signed URLs carry secrets)
	List        string `json:"list"` // output, error or deleted
	Type        string `json:"type"`
	SHA256      string `json:"sha256"`
	Bytes       int64  `json:"bytes"`
	Lines       int64  `json:"lines"`
	Count       int    `json:"count,omitempty"` // the manifest's count
	VerifiedBy  string `json:"verified_by"`
	Quarantined int    `json:"quarantined,omitempty"`
	Raw         string `json:"raw,omitempty"` // destination key when kept as raw NDJSON (no view reads its type)
}

// CountMismatch is an error file whose lines disagree with the manifest's count: recorded,
// not a failure (the server's inconsistency; its OperationOutcomes still land in export_error).
type CountMismatch struct {
	File  string `json:"file"`
	Count int    `json:"manifest_count"`
	Lines int64  `json:"lines"`
}

// verifiedNotes says in words what each verification method proved.
var verifiedNotes = map[string]string{
	extract.VerifiedChecksum:  "checksum-verified (the sha256 in the manifest matched)",
	extract.VerifiedLength:    "length-verified only (server sent no checksum)",
	extract.VerifiedCount:     "count-verified only (server sent no checksum or length)",
	extract.VerifiedStructure: "NOT verified against the manifest (it promised nothing): gzip and JSON lines checked only",
}

// VerifiedNote returns the words for a verification method; an unknown one is never called verified.
func VerifiedNote(method string) string {
	if n, ok := verifiedNotes[method]; ok {
		return n
	}
	return "NOT verified (unknown method " + method + ")"
}
