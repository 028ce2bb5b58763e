package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dpcetl/dpcetl/transform"
)

// Warning kinds reported by Checker.
const (
	// WarnUnknownClaimType: an eob row whose eob-type coding is missing or not one of the eight
	// BFD claim types; claim_type is null and claim_type_raw holds what was sent.
	WarnUnknownClaimType = "unknown_claim_type"
	// WarnUnresolvedRendering: an eob_line row linking to a care team sequence that names no
	// care team member with a provider identifier; rendering_npi is null.
	WarnUnresolvedRendering = "unresolved_rendering_npi"
	// WarnInvalidRenderingNPI: the member an eob_line row links to has an identifier, but not a
	// Luhn-valid NPI (a UPIN, a placeholder such as "0", a test number); rendering_npi is null
	// and rendering_provider_id keeps what was sent.
	WarnInvalidRenderingNPI = "invalid_rendering_npi"
)

// Warning is a data-quality finding in the claims tables that did not stop the run: the rows
// are kept (with nulls), and the count goes into the run summary.
type Warning struct {
	Table    string
	Kind     string
	Count    int64
	Examples []string // up to 5 distinct offending values
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: %d %s (e.g. %v)", w.Table, w.Count, w.Kind, w.Examples)
}

// Checker counts warnings over the record batches of a run. Give it every batch the
// engine emits (Observe); read Warnings at the end. It is safe for concurrent use.
type Checker struct {
	mu sync.Mutex
	w  map[[2]string]*Warning
}

// NewChecker returns an empty Checker.
func NewChecker() *Checker { return &Checker{w: map[[2]string]*Warning{}} }

const maxExamples = 5

func (c *Checker) add(table, kind, example string) {
	k := [2]string{table, kind}
	w := c.w[k]
	if w == nil {
		w = &Warning{Table: table, Kind: kind}
		c.w[k] = w
	}
	w.Count++
	if len(w.Examples) < maxExamples {
		for _, e := range w.Examples {
			if e == example {
				return
			}
		}
		w.Examples = append(w.Examples, example)
	}
}

// Observe inspects one record batch of table. Tables it has no checks for are ignored; a
// built-in table without the expected columns is an error (the batch is not from these views).
func (c *Checker) Observe(table string, rec arrow.RecordBatch) error {
	switch table {
	case TableEOB, TableEOBAmount, TableEOBLine, TableEOBLineAmount, TableEOBDiagnosis, TableEOBProcedure, TableEOBCareTeam:
	default:
		return nil
	}
	ct, err := column[*array.String](rec, "claim_type")
	if err != nil {
		return fmt.Errorf("schemas: check %s: %w", table, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch table {
	case TableEOB:
		raw, err := column[*array.String](rec, "claim_type_raw")
		if err != nil {
			return fmt.Errorf("schemas: check %s: %w", table, err)
		}
		id, _ := column[*array.String](rec, "eob_id")
		for i := 0; i < int(rec.NumRows()); i++ {
			if ct.IsValid(i) {
				continue
			}
			ex := "<missing eob-type coding>"
			if raw.IsValid(i) {
				ex = fmt.Sprintf("%q", raw.Value(i))
			}
			if id != nil && id.IsValid(i) {
				ex += " in " + id.Value(i)
			}
			c.add(table, WarnUnknownClaimType, ex)
		}
	case TableEOBLine:
		seq, err := column[*array.Int32](rec, "care_team_sequence")
		if err != nil {
			return fmt.Errorf("schemas: check %s: %w", table, err)
		}
		npi, err := column[*array.String](rec, "rendering_npi")
		if err != nil {
			return fmt.Errorf("schemas: check %s: %w", table, err)
		}
		raw, err := column[*array.String](rec, "rendering_provider_id")
		if err != nil {
			return fmt.Errorf("schemas: check %s: %w", table, err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			switch {
			case !seq.IsValid(i) || npi.IsValid(i):
			case raw.IsNull(i):
				c.add(table, WarnUnresolvedRendering, fmt.Sprint(seq.Value(i)))
			default:
				c.add(table, WarnInvalidRenderingNPI, fmt.Sprintf("%q", raw.Value(i)))
			}
		}
	}
	return nil
}

// Warnings returns the counted warnings sorted by table and kind.
func (c *Checker) Warnings() []Warning {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Warning, 0, len(c.w))
	for _, w := range c.w {
		cp := *w
		cp.Examples = append([]string(nil), w.Examples...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Count returns the count of one warning kind in one table.
func (c *Checker) Count(table, kind string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.w[[2]string{table, kind}]; w != nil {
		return w.Count
	}
	return 0
}

func column[T arrow.Array](rec arrow.RecordBatch, name string) (T, error) {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return zero, fmt.Errorf("no column %s", name)
	}
	a, ok := rec.Column(idx[0]).(T)
	if !ok {
		return zero, fmt.Errorf("column %s is %s", name, rec.Column(idx[0]).DataType())
	}
	return a, nil
}

// Wrap returns an emit function for transform.Engine.Run that observes every batch and then
// hands it to emit (which owns and releases it). A batch that fails the check is released
// and the error returned, so the run stops.
func (c *Checker) Wrap(emit func(transform.Batch) error) func(transform.Batch) error {
	return func(b transform.Batch) error {
		if err := c.Observe(b.Table, b.Record); err != nil {
			b.Record.Release()
			return err
		}
		return emit(b)
	}
}

// ErrTooManyWarnings is returned by Limit when the checks counted more warnings than allowed.
var ErrTooManyWarnings = errors.New("schemas: more data-quality warnings than allowed")

// Limit returns ErrTooManyWarnings (naming the counts) when more than max warnings were
// counted; a negative max never fails.
func (c *Checker) Limit(max int) error {
	var n int64
	var parts []string
	for _, w := range c.Warnings() {
		n += w.Count
		parts = append(parts, fmt.Sprintf("%s.%s %d", w.Table, w.Kind, w.Count))
	}
	if max < 0 || n <= int64(max) {
		return nil
	}
	return fmt.Errorf("%w: %d warnings (%s), the limit is %d", ErrTooManyWarnings, n, strings.Join(parts, ", "), max)
}
