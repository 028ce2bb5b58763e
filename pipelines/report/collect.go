// Package report builds a run's report.html: one self-contained page (no network) with rows and
// amounts per table and claim type, claims per service month, null and quarantine rates and warnings.
package report

import (
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/dpcetl/dpcetl/transform"
)

// Collector accumulates the report's figures from the record batches of a run. Give it every
// batch before it is written (Wrap); it keeps counts and sums only — no values of a row, so
// no PHI, reach the report. It is safe for concurrent use.
type Collector struct {
	mu     sync.Mutex
	tables map[string]*tableStats
	months map[string]map[string]int64 // claim type → YYYY-MM → claims
	// suppressed holds the patient ids of export_error rows (a patient DPC served only as an
	// OperationOutcome: opted out, lookback failed); only their number is reported.
	suppressed map[string]bool
}

type tableStats struct {
	rows    int64
	byType  map[string]int64
	cols    []string
	nulls   map[string]int64
	amounts map[string]map[string]decimal128.Num // money column → claim type → exact sum
	scale   map[string]int32
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{tables: map[string]*tableStats{}, months: map[string]map[string]int64{}, suppressed: map[string]bool{}}
}

// noType is the claim-type key of rows without one (non-claim tables, unknown types).
const noType = "—"

// Observe counts one record batch of a table.
func (c *Collector) Observe(table string, rec arrow.RecordBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.tables[table]
	if ts == nil {
		ts = &tableStats{byType: map[string]int64{}, nulls: map[string]int64{}, amounts: map[string]map[string]decimal128.Num{}, scale: map[string]int32{}}
		for _, f := range rec.Schema().Fields() {
			ts.cols = append(ts.cols, f.Name)
		}
		c.tables[table] = ts
	}
	n := int(rec.NumRows())
	ts.rows += int64(n)
	var ct *array.String
	if idx := rec.Schema().FieldIndices("claim_type"); len(idx) > 0 {
		ct, _ = rec.Column(idx[0]).(*array.String)
	}
	typeOf := func(i int) string {
		if ct == nil || ct.IsNull(i) {
			return noType
		}
		return ct.Value(i)
	}
	for i := 0; i < n; i++ {
		ts.byType[typeOf(i)]++
	}
	for k, f := range rec.Schema().Fields() {
		col := rec.Column(k)
		ts.nulls[f.Name] += int64(col.NullN())
		d, ok := col.(*array.Decimal128)
		if !ok || d.DataType().(*arrow.Decimal128Type).Scale != 2 {
			continue // money is DECIMAL(15,2); quantities are not summed
		}
		ts.scale[f.Name] = 2
		m := ts.amounts[f.Name]
		if m == nil {
			m = map[string]decimal128.Num{}
			ts.amounts[f.Name] = m
		}
		for i := 0; i < n; i++ {
			if d.IsValid(i) {
				m[typeOf(i)] = m[typeOf(i)].Add(d.Value(i))
			}
		}
	}
	switch table {
	case "eob":
		if idx := rec.Schema().FieldIndices("billable_period_start"); len(idx) > 0 {
			if dt, ok := rec.Column(idx[0]).(*array.Date32); ok {
				for i := 0; i < n; i++ {
					m := "unknown"
					if dt.IsValid(i) {
						m = dt.Value(i).ToTime().Format("2006-01")
					}
					t := typeOf(i)
					if c.months[t] == nil {
						c.months[t] = map[string]int64{}
					}
					c.months[t][m]++
				}
			}
		}
	case "export_error":
		code, pid := strCol(rec, "code"), strCol(rec, "patient_id")
		if code != nil && pid != nil {
			for i := 0; i < n; i++ {
				if code.IsValid(i) && pid.IsValid(i) {
					c.suppressed[pid.Value(i)] = true
				}
			}
		}
	}
}

func strCol(rec arrow.RecordBatch, name string) *array.String {
	if idx := rec.Schema().FieldIndices(name); len(idx) > 0 {
		s, _ := rec.Column(idx[0]).(*array.String)
		return s
	}
	return nil
}

// Wrap returns an emit function that observes every batch, then hands it to emit.
func (c *Collector) Wrap(emit func(transform.Batch) error) func(transform.Batch) error {
	return func(b transform.Batch) error {
		c.Observe(b.Table, b.Record)
		return emit(b)
	}
}

// Rows returns the rows counted per table.
func (c *Collector) Rows() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int64{}
	for t, ts := range c.tables {
		out[t] = ts.rows
	}
	return out
}

// Suppressed is the number of distinct patients DPC reported as suppressed (opted out).
func (c *Collector) Suppressed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.suppressed)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
