package runner

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"

	"github.com/dpcetl/dpcetl/extract"
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
	QuarantineDir string             `json:"quarantine_dir,omitempty"`
	Durations     map[string]float64 `json:"durations_s"`
	Seconds       float64            `json:"seconds"`
	Outputs       []string           `json:"outputs"`
	// SuppressedPatients counts the patients DPC served only as an OperationOutcome (opted
	// out, failing the lookback, or an error), by reason in Suppressed; their lines are in
	// the export_error table. A run that is mostly such patients still succeeds.
	SuppressedPatients int             `json:"suppressed_patients"`
	Suppressed         map[string]int  `json:"suppressed,omitempty"`
	Groups             []*GroupSummary `json:"groups"`

	mu sync.Mutex
}

// GroupSummary is one group's part of a run.
type GroupSummary struct {
	Group              string             `json:"group"`
	Status             string             `json:"status"`
	Error              string             `json:"error,omitempty"`
	JobID              string             `json:"job_id,omitempty"`
	JobState           string             `json:"job_state,omitempty"`
	Since              string             `json:"since,omitempty"`
	TransactionTime    string             `json:"transaction_time,omitempty"`
	Watermark          string             `json:"watermark,omitempty"`
	Files              int                `json:"files"`
	Bytes              int64              `json:"bytes"`
	Resources          map[string]int     `json:"resources,omitempty"` // manifest counts per resource type
	Rows               map[string]int64   `json:"rows,omitempty"`
	Quarantined        int                `json:"quarantined"`
	SuppressedPatients int                `json:"suppressed_patients,omitempty"`
	Suppressed         map[string]int     `json:"suppressed,omitempty"` // reason → patients
	Durations          map[string]float64 `json:"durations_s,omitempty"`
	Outputs            []string           `json:"-"` // listed once, in Summary.Outputs, to keep the XCom line short
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
	s.SuppressedPatients += g.SuppressedPatients
	for why, n := range g.Suppressed {
		if s.Suppressed == nil {
			s.Suppressed = map[string]int{}
		}
		s.Suppressed[why] += n
	}
	for t, n := range g.Rows {
		s.Rows[t] += n
	}
	for st, d := range g.Durations {
		s.Durations[st] += d
	}
	s.Outputs = append(s.Outputs, g.Outputs...)
}

func newGroupSummary(group string) *GroupSummary {
	return &GroupSummary{Group: group, Status: "ok", Rows: map[string]int64{}, Durations: map[string]float64{}, Resources: map[string]int{}}
}

// suppressionReasons shortens DPC's OperationOutcome texts (dpc-aggregation OutcomeReason)
// for the summary; other texts are kept as they are.
var suppressionReasons = map[string]string{
	"Data not available for opted out patient": "opted out",
	"DPC couldn't find any claims for this MBI; unable to demonstrate relationship with provider or organization": "lookback: no claims",
	"DPC couldn't find a claim for this MBI from an NPI in this organization":                                     "lookback: no claim by an NPI of the organization",
	"DPC couldn't find a claim within the past 18 months for this MBI from an NPI in this organization":           "lookback: no claim in 18 months",
	"Unable to retrieve patient data due to internal error":                                                       "DPC internal error",
}

// noteSuppressed counts, from the verified OperationOutcome files of a job, the patients
// DPC did not serve and why. The transform puts the same lines in export_error; this only
// summarises them, and a file it cannot read leaves the counts as they are.
func (g *GroupSummary) noteSuppressed(files []extract.File) {
	for _, f := range files {
		if f.Type != "OperationOutcome" {
			continue
		}
		fh, err := os.Open(f.Path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var oo struct {
				Issue []struct {
					Code    string `json:"code"`
					Details struct {
						Text string `json:"text"`
					} `json:"details"`
					Diagnostics string `json:"diagnostics"`
				} `json:"issue"`
			}
			if json.Unmarshal(sc.Bytes(), &oo) != nil || len(oo.Issue) == 0 {
				continue
			}
			is := oo.Issue[0]
			why := is.Details.Text
			if why == "" {
				why = is.Diagnostics
			}
			if short, ok := suppressionReasons[why]; ok {
				why = short
			} else if why == "" {
				why = is.Code
			}
			if g.Suppressed == nil {
				g.Suppressed = map[string]int{}
			}
			g.Suppressed[why]++
			g.SuppressedPatients++
		}
		fh.Close()
	}
}
