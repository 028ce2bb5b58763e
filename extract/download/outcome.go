package download

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Outcome is one issue of an OperationOutcome from an export's error file,
// one row of the errors table.
type Outcome struct {
	File      string // the error file's name or URL
	Line      int    // 1-based line in the file
	Severity  string // error, warning, ...
	Code      string // exception, suppressed, ...
	Text      string // details.text, else diagnostics
	PatientID string // from location ["Patient","id",<id>] or "Patient/<id>"; empty if none
}

// ParseOutcomes reads OperationOutcome NDJSON (one resource a line) and
// returns one Outcome per issue. A line that is not an OperationOutcome is an
// error naming the file and line: the errors table must not lose rows quietly.
func ParseOutcomes(r io.Reader, file string) ([]Outcome, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var out []Outcome
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var oo struct {
			ResourceType string `json:"resourceType"`
			Issue        []struct {
				Severity string `json:"severity"`
				Code     string `json:"code"`
				Details  struct {
					Text string `json:"text"`
				} `json:"details"`
				Diagnostics string   `json:"diagnostics"`
				Location    []string `json:"location"`
				Expression  []string `json:"expression"`
			} `json:"issue"`
		}
		if err := json.Unmarshal(b, &oo); err != nil {
			return out, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if oo.ResourceType != "OperationOutcome" {
			return out, fmt.Errorf("%s:%d: resourceType %q, want OperationOutcome", file, line, oo.ResourceType)
		}
		for _, is := range oo.Issue {
			o := Outcome{File: file, Line: line, Severity: is.Severity, Code: is.Code, Text: is.Details.Text}
			if o.Text == "" {
				o.Text = is.Diagnostics
			}
			o.PatientID = patientID(is.Location)
			if o.PatientID == "" {
				o.PatientID = patientID(is.Expression)
			}
			out = append(out, o)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

func patientID(loc []string) string {
	if len(loc) >= 3 && loc[0] == "Patient" && loc[1] == "id" {
		return loc[2]
	}
	for _, l := range loc {
		if id, ok := strings.CutPrefix(l, "Patient/"); ok {
			return id
		}
	}
	return ""
}
