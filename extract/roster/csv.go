// Package roster keeps DPC attribution in step with a CSV roster: it plans and applies the
// practitioner, patient and group changes, and renews attributions before their 90 days lapse.
package roster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dpcetl/dpcetl/extract/dpc"
)

// Column names of a roster CSV (header row required, any order, case-insensitive).
const (
	ColNPI                = "practitioner_npi"
	ColPractitionerGiven  = "practitioner_given"
	ColPractitionerFamily = "practitioner_family"
	ColMBI                = "patient_mbi"
	ColPatientGiven       = "patient_given"
	ColPatientFamily      = "patient_family"
	ColBirthDate          = "patient_birth_date"
	ColGender             = "patient_gender"
)

// requiredColumns must appear in the header; the practitioner names are optional columns,
// needed only for practitioners DPC does not know yet.
var requiredColumns = []string{ColNPI, ColMBI, ColPatientGiven, ColPatientFamily, ColBirthDate, ColGender}

var columnAliases = map[string]string{
	"npi": ColNPI, "mbi": ColMBI, "birth_date": ColBirthDate, "birthdate": ColBirthDate,
	"gender": ColGender, "given": ColPatientGiven, "family": ColPatientFamily,
}

// Row is one attribution line of the roster: the patient MBI attributed to the practitioner NPI.
// Line is the 1-based line of the CSV record (the header is line 1).
type Row struct {
	Line               int
	NPI                string
	PractitionerGiven  string
	PractitionerFamily string
	MBI                string
	PatientGiven       string
	PatientFamily      string
	BirthDate          string
	Gender             string
}

// RowError is a problem with one cell (or one row when Column is empty).
type RowError struct {
	Line   int
	Column string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("row %d, column %s: %v", e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Roster is a parsed, validated roster.
type Roster struct {
	Rows []Row
}

// NPIs returns the distinct practitioner NPIs in first-seen order.
func (r Roster) NPIs() []string {
	seen := map[string]bool{}
	var out []string
	for _, row := range r.Rows {
		if !seen[row.NPI] {
			seen[row.NPI] = true
			out = append(out, row.NPI)
		}
	}
	return out
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// AllowSyntheticMBI accepts the sandbox's synthetic MBIs (dpc.SyntheticMBI); never set it
	// for production rosters.
	AllowSyntheticMBI bool
}

// Parse reads and validates a roster CSV with real MBIs only (see ParseWith).
func Parse(r io.Reader) (Roster, error) { return ParseWith(r, ParseOptions{}) }

// ParseWith reads and validates a roster CSV. Every problem is reported (not just the first),
// each naming its row and column; the error wraps dpc.ErrInvalid.
func ParseWith(r io.Reader, opts ParseOptions) (Roster, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below with a better message
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Roster{}, fmt.Errorf("roster: empty file, expected a header row with %s: %w", strings.Join(requiredColumns, ","), dpc.ErrInvalid)
	}
	if err != nil {
		return Roster{}, fmt.Errorf("roster: header: %w: %w", err, dpc.ErrInvalid)
	}
	idx := map[string]int{}
	var errs []error
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if a, ok := columnAliases[name]; ok {
			name = a
		}
		if _, dup := idx[name]; dup {
			errs = append(errs, &RowError{Line: 1, Column: name, Err: errors.New("column appears twice")})
		}
		idx[name] = i
	}
	for _, c := range requiredColumns {
		if _, ok := idx[c]; !ok {
			errs = append(errs, &RowError{Line: 1, Column: c, Err: errors.New("required column is missing from the header")})
		}
	}
	if len(errs) > 0 {
		return Roster{}, fmt.Errorf("roster: %w: %w", errors.Join(errs...), dpc.ErrInvalid)
	}
	get := func(rec []string, col string) string {
		i, ok := idx[col]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var ros Roster
	type pairKey struct{ npi, mbi string }
	pairs := map[pairKey]int{}
	patients := map[string]Row{}
	practs := map[string]Row{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, &RowError{Line: line, Err: err})
			if len(errs) > 100 {
				break
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			errs = append(errs, &RowError{Line: line, Err: fmt.Errorf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		row := Row{
			Line: line, NPI: get(rec, ColNPI), MBI: strings.ToUpper(get(rec, ColMBI)),
			PractitionerGiven: get(rec, ColPractitionerGiven), PractitionerFamily: get(rec, ColPractitionerFamily),
			PatientGiven: get(rec, ColPatientGiven), PatientFamily: get(rec, ColPatientFamily),
			BirthDate: get(rec, ColBirthDate), Gender: strings.ToLower(get(rec, ColGender)),
		}
		rowErrs := validateRow(row, opts)
		errs = append(errs, rowErrs...)
		if len(rowErrs) > 0 {
			continue
		}
		k := pairKey{row.NPI, row.MBI}
		if first, dup := pairs[k]; dup {
			errs = append(errs, &RowError{Line: line, Err: fmt.Errorf("repeats row %d (same practitioner and patient)", first)})
			continue
		}
		pairs[k] = line
		if p, ok := patients[row.MBI]; ok && (p.PatientGiven != row.PatientGiven || p.PatientFamily != row.PatientFamily ||
			p.BirthDate != row.BirthDate || p.Gender != row.Gender) {
			errs = append(errs, &RowError{Line: line, Column: ColMBI, Err: fmt.Errorf("patient %s has different name, birth date or gender on row %d", row.MBI, p.Line)})
			continue
		}
		patients[row.MBI] = row
		if p, ok := practs[row.NPI]; ok && row.PractitionerFamily != "" && p.PractitionerFamily != "" &&
			(p.PractitionerGiven != row.PractitionerGiven || p.PractitionerFamily != row.PractitionerFamily) {
			errs = append(errs, &RowError{Line: line, Column: ColNPI, Err: fmt.Errorf("practitioner %s has a different name on row %d", row.NPI, p.Line)})
			continue
		}
		if p, ok := practs[row.NPI]; !ok || p.PractitionerFamily == "" {
			practs[row.NPI] = row
		}
		ros.Rows = append(ros.Rows, row)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
		return Roster{}, fmt.Errorf("roster: %w: %w", errors.Join(errs...), dpc.ErrInvalid)
	}
	// Fill missing practitioner names from another row of the same practitioner.
	for i := range ros.Rows {
		if ros.Rows[i].PractitionerFamily == "" {
			p := practs[ros.Rows[i].NPI]
			ros.Rows[i].PractitionerGiven, ros.Rows[i].PractitionerFamily = p.PractitionerGiven, p.PractitionerFamily
		}
	}
	return ros, nil
}

func lineOf(err error) int {
	var re *RowError
	if errors.As(err, &re) {
		return re.Line
	}
	return 0
}

func validateRow(r Row, opts ParseOptions) []error {
	var errs []error
	add := func(col string, err error) {
		if err != nil {
			errs = append(errs, &RowError{Line: r.Line, Column: col, Err: err})
		}
	}
	add(ColNPI, dpc.ValidateNPI(r.NPI))
	if opts.AllowSyntheticMBI {
		add(ColMBI, dpc.ValidateMBIOrSynthetic(r.MBI))
	} else {
		add(ColMBI, dpc.ValidateMBI(r.MBI))
	}
	if r.PatientGiven == "" {
		add(ColPatientGiven, errors.New("empty"))
	}
	if r.PatientFamily == "" {
		add(ColPatientFamily, errors.New("empty"))
	}
	add(ColBirthDate, dpc.ValidateDate(r.BirthDate))
	add(ColGender, dpc.ValidateGender(r.Gender))
	if (r.PractitionerGiven == "") != (r.PractitionerFamily == "") {
		col := ColPractitionerGiven
		if r.PractitionerFamily == "" {
			col = ColPractitionerFamily
		}
		add(col, errors.New("give both practitioner names or neither"))
	}
	return errs
}
