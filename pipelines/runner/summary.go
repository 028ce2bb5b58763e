package runner

import (
	"path/filepath"
	"sync"

	"github.com/dpcetl/dpcetl/pipelines/report"
	"github.com/dpcetl/dpcetl/schemas"
)

// Summary is what a command did; the CLI prints it as one JSON line on stdout.
type Summary struct {
	Command       string             `json:"command"`
	Status        string             `json:"status"` // ok or failed
	ExitCode      int                `json:"exit_code"`
	Error         string             `json:"error,omitempty"`
	API           string             `json:"api,omitempty"`
	Destination   string             `json:"destination,omitempty"`
	Files         int                `json:"files"`
	Bytes         int64              `json:"bytes"`
	Rows          map[string]int64   `json:"rows"`
	Quarantined   int                `json:"quarantined"`
	Warnings      map[string]int64   `json:"warnings,omitempty"` // "table.kind" → count (schemas.Checker)
	QuarantineDir string             `json:"quarantine_dir,omitempty"`
	Durations     map[string]float64 `json:"durations_s"`
	Seconds       float64            `json:"seconds"`
	Outputs       []string           `json:"outputs"`
	Suppressed    int                `json:"suppressed_patients"`   // patients served only as an OperationOutcome (export_error)
	SuppressedWhy map[string]int     `json:"suppressed,omitempty"`  // reason → patients
	VerifiedBy    map[string]int     `json:"verified_by,omitempty"` // verification method → files (report.VerifiedNote)
	Deleted       map[string]int64   `json:"deleted,omitempty"`     // resource type → deletions landed in deleted_resource
	Raw           map[string]int64   `json:"raw,omitempty"`         // resource type → lines kept as raw NDJSON (no view)
	// CountMismatches: error files whose lines disagree with the manifest's count (recorded, not a failure).
	CountMismatches int              `json:"error_count_mismatches,omitempty"`
	WatermarksHeld  int              `json:"watermarks_held,omitempty"` // groups whose watermark did not move (GroupSummary.WatermarkHeld says why)
	Rounded         map[string]int64 `json:"rounded,omitempty"`         // "table.column" → values rounded under money_policy round_half_even/exact (money to its scale, sub-microsecond times)
	Groups          []*GroupSummary  `json:"groups"`

	mu sync.Mutex
}

// GroupSummary is one group's part of a run.
type GroupSummary struct {
	Group           string                 `json:"group"`
	Status          string                 `json:"status"`
	Error           string                 `json:"error,omitempty"`
	JobID           string                 `json:"job_id,omitempty"`
	JobState        string                 `json:"job_state,omitempty"`
	Since           string                 `json:"since,omitempty"`
	TransactionTime string                 `json:"transaction_time,omitempty"`
	Watermark       string                 `json:"watermark,omitempty"`
	Files           int                    `json:"files"`
	Bytes           int64                  `json:"bytes"`
	Resources       map[string]int         `json:"resources,omitempty"` // manifest counts per resource type
	Rows            map[string]int64       `json:"rows,omitempty"`
	Quarantined     int                    `json:"quarantined"`
	Suppressed      int                    `json:"suppressed_patients,omitempty"`
	SuppressedWhy   map[string]int         `json:"suppressed,omitempty"`
	Durations       map[string]float64     `json:"durations_s,omitempty"`
	Warnings        map[string]int64       `json:"warnings,omitempty"` // "table.kind" → count (schemas.Checker)
	Report          string                 `json:"report,omitempty"`   // report.html of the committed run
	QuarantineFile  string                 `json:"quarantine_file,omitempty"`
	VerifiedBy      map[string]int         `json:"verified_by,omitempty"`
	Deleted         map[string]int64       `json:"deleted,omitempty"`
	Raw             map[string]int64       `json:"raw,omitempty"`
	CountMismatches []report.CountMismatch `json:"error_count_mismatches,omitempty"`
	WatermarkHeld   string                 `json:"watermark_held,omitempty"` // why the watermark did not move past this job
	Rounded         map[string]int64       `json:"rounded,omitempty"`        // "table.column" → values rounded by the money policy
	Outputs         []string               `json:"-"`                        // listed once, in Summary.Outputs, to keep the XCom line short

	collector *report.Collector // figures of the group's batches, for report.html
	lines     int64             // NDJSON lines read
	export    *report.Export    // the job's files, for the run manifest and report.html
	raw       []rawFile         // files kept raw, published with the run
}

func newSummary() *Summary {
	return &Summary{Rows: map[string]int64{}, Durations: map[string]float64{}, Outputs: []string{}, Groups: []*GroupSummary{}}
}

// add folds a group's figures into the run totals.
func (s *Summary) add(g *GroupSummary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Groups = append(s.Groups, g)
	s.Files += g.Files
	s.Bytes += g.Bytes
	s.Quarantined += g.Quarantined
	s.Warnings = addCounts(s.Warnings, g.Warnings)
	s.Suppressed += g.Suppressed
	s.SuppressedWhy = addCounts(s.SuppressedWhy, g.SuppressedWhy)
	if g.QuarantineFile != "" {
		s.QuarantineDir = filepath.Dir(filepath.Dir(g.QuarantineFile))
	}
	s.VerifiedBy = addCounts(s.VerifiedBy, g.VerifiedBy)
	s.Deleted = addCounts(s.Deleted, g.Deleted)
	s.Raw = addCounts(s.Raw, g.Raw)
	s.Rounded = addCounts(s.Rounded, g.Rounded)
	s.CountMismatches += len(g.CountMismatches)
	if g.WatermarkHeld != "" {
		s.WatermarksHeld++
	}
	for t, n := range g.Rows {
		s.Rows[t] += n
	}
	for st, d := range g.Durations {
		s.Durations[st] += d
	}
	s.Outputs = append(s.Outputs, g.Outputs...)
}

// noteWarnings adds the claims checks' warnings to the group's.
func (g *GroupSummary) noteWarnings(chk *schemas.Checker) {
	for _, w := range chk.Warnings() {
		g.Warnings = addCounts(g.Warnings, map[string]int64{w.Table + "." + w.Kind: w.Count})
	}
}

func addCounts[N int | int64](into, from map[string]N) map[string]N {
	for k, n := range from {
		if into == nil {
			into = map[string]N{}
		}
		into[k] += n
	}
	return into
}

func newGroupSummary(group string) *GroupSummary {
	return &GroupSummary{Group: group, Status: "ok", Rows: map[string]int64{}, Durations: map[string]float64{}, Resources: map[string]int{}}
}
