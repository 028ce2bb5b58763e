package runner

import (
	"bufio"
	"encoding/json"
	"os"

	"github.com/dpcetl/dpcetl/extract"
)

// DPC serves a patient that opted out or fails its 18-month lookback only as one
// OperationOutcome line; real exports can be mostly such lines. The transform puts them in
// export_error; the summary says how many patients that was and why.

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
// DPC did not serve and why. A file it cannot read leaves the counts as they are (the
// transform reports it).
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
			g.SuppressedWhy = addCounts(g.SuppressedWhy, map[string]int{why: 1})
			g.Suppressed++
		}
		fh.Close()
	}
}
