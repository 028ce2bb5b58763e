package transform

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"github.com/dpcetl/dpcetl/transform/view"
)

// benchViews is a claims-like view set over STU3 EOBs: header, lines, diagnosis, procedure, care team.
var benchViews = []string{`{
  "name": "eob", "resource": "ExplanationOfBenefit",
  "select": [{"column": [
    {"name": "eob_id", "path": "id", "type": "id"},
    {"name": "claim_id", "path": "identifier.where(system = 'https://bluebutton.cms.gov/resources/variables/clm_id').value.first()", "type": "string"},
    {"name": "patient_id", "path": "patient.getReferenceKey(Patient)", "type": "id"},
    {"name": "claim_type", "path": "type.coding.where(system = 'https://bluebutton.cms.gov/resources/codesystem/eob-type').code.first()", "type": "code", "tag": [{"name": "arrow/dictionary", "value": "true"}]},
    {"name": "status", "path": "status", "type": "code", "tag": [{"name": "arrow/dictionary", "value": "true"}]},
    {"name": "last_updated", "path": "meta.lastUpdated", "type": "instant"},
    {"name": "billable_start", "path": "billablePeriod.start", "type": "date"},
    {"name": "billable_end", "path": "billablePeriod.end", "type": "date"},
    {"name": "payment", "path": "payment.amount.value", "type": "decimal", "tag": [{"name": "ansi/type", "value": "DECIMAL(15,2)"}]},
    {"name": "provider_payment", "path": "extension('https://bluebutton.cms.gov/resources/variables/nch_clm_prvdr_pmt_amt').value.value.first()", "type": "decimal", "tag": [{"name": "ansi/type", "value": "DECIMAL(15,2)"}]}
  ]}]}`, `{
  "name": "eob_line", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
    {"forEach": "item", "column": [
      {"name": "line_num", "path": "sequence", "type": "integer"},
      {"name": "hcpcs", "path": "service.coding.code.first()", "type": "code"},
      {"name": "service_start", "path": "servicedPeriod.start", "type": "date"},
      {"name": "allowed", "path": "adjudication.where(category.coding.code = 'https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt').amount.value.first()", "type": "decimal", "tag": [{"name": "ansi/type", "value": "DECIMAL(15,2)"}]}
    ]}]}`, `{
  "name": "eob_diagnosis", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
    {"forEach": "diagnosis", "column": [
      {"name": "sequence", "path": "sequence", "type": "integer"},
      {"name": "system", "path": "diagnosisCodeableConcept.coding.system.first()", "type": "uri"},
      {"name": "code", "path": "diagnosisCodeableConcept.coding.code.first()", "type": "code"},
      {"name": "dx_type", "path": "type.coding.code.first()", "type": "code"}
    ]}]}`, `{
  "name": "eob_procedure", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
    {"forEach": "procedure", "column": [
      {"name": "sequence", "path": "sequence", "type": "integer"},
      {"name": "code", "path": "procedureCodeableConcept.coding.code.first()", "type": "code"},
      {"name": "performed", "path": "date", "type": "dateTime"}
    ]}]}`, `{
  "name": "eob_care_team", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
    {"forEach": "careTeam", "column": [
      {"name": "sequence", "path": "sequence", "type": "integer"},
      {"name": "npi", "path": "provider.identifier.value", "type": "string"},
      {"name": "role", "path": "role.coding.code.first()", "type": "code"}
    ]}]}`}

// benchCorpus generates about size bytes of synthetic STU3 EOB NDJSON.
func benchCorpus(tb testing.TB, size int) []byte {
	tb.Helper()
	g := synth.New(synth.Options{Seed: 7, Version: synth.STU3, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	for i := 0; len(buf) < size; i++ {
		buf, _ = g.AppendNDJSON(buf, g.MBI(i), "ExplanationOfBenefit", time.Time{}, until)
	}
	return buf
}

func benchEngine(tb testing.TB, mem memory.Allocator) *Engine {
	tb.Helper()
	var vs []*view.View
	for _, s := range benchViews {
		v, err := view.Parse("bench", []byte(s))
		if err != nil {
			tb.Fatal(err)
		}
		vs = append(vs, v)
	}
	eng, err := New(vs, WithAllocator(mem))
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// BenchmarkEngineClaims runs the generic engine and the typed baseline over the same corpus
// on one core, alternating the two in every iteration so that a busy machine slows both
// alike, and reports MB/s for each (wall clock and process CPU time) and their ratios.
// Run: go test ./transform -run '^$' -bench BenchmarkEngineClaims -benchtime 5x
func BenchmarkEngineClaims(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	data := benchCorpus(b, 64<<20)
	mem := memory.NewGoAllocator()
	eng := benchEngine(b, mem)
	var engWall, engCPU, baseWall, baseCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		t0, c0 := time.Now(), cpuTime()
		src := Source{Name: "bench", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
		if _, err := eng.Run(context.Background(), []Source{src}, func(bt Batch) error { bt.Record.Release(); return nil }); err != nil {
			b.Fatal(err)
		}
		engWall, engCPU = engWall+time.Since(t0), engCPU+cpuTime()-c0
		runtime.GC()
		t0, c0 = time.Now(), cpuTime()
		if _, err := baselineRun(data, eng, mem); err != nil {
			b.Fatal(err)
		}
		baseWall, baseCPU = baseWall+time.Since(t0), baseCPU+cpuTime()-c0
	}
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/engWall.Seconds(), "engine-MB/s")
	b.ReportMetric(mb/baseWall.Seconds(), "baseline-MB/s")
	b.ReportMetric(baseWall.Seconds()/engWall.Seconds(), "ratio-wall")
	// Process CPU time (all threads, GC included) is the per-core figure on a shared machine.
	b.ReportMetric(mb/engCPU.Seconds(), "engine-MB/cpu-s")
	b.ReportMetric(mb/baseCPU.Seconds(), "baseline-MB/cpu-s")
	b.ReportMetric(baseCPU.Seconds()/engCPU.Seconds(), "ratio-cpu")
}

// The typed baseline: goccy/go-json into structs, then a plain Go flatten of the same columns
// into the same Arrow schemas.
type bCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}
type bCC struct {
	Coding []bCoding `json:"coding"`
}
type bEOB struct {
	ID   string `json:"id"`
	Meta struct {
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Extension []struct {
		URL        string `json:"url"`
		ValueMoney *struct {
			Value gojson.Number `json:"value"`
		} `json:"valueMoney"`
	} `json:"extension"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Status  string `json:"status"`
	Type    bCC    `json:"type"`
	Patient struct {
		Reference string `json:"reference"`
	} `json:"patient"`
	BillablePeriod struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"billablePeriod"`
	Payment struct {
		Amount struct {
			Value gojson.Number `json:"value"`
		} `json:"amount"`
	} `json:"payment"`
	Item []struct {
		Sequence       int `json:"sequence"`
		Service        bCC `json:"service"`
		ServicedPeriod struct {
			Start string `json:"start"`
		} `json:"servicedPeriod"`
		Adjudication []struct {
			Category bCC `json:"category"`
			Amount   *struct {
				Value gojson.Number `json:"value"`
			} `json:"amount"`
		} `json:"adjudication"`
	} `json:"item"`
	Diagnosis []struct {
		Sequence int   `json:"sequence"`
		CC       bCC   `json:"diagnosisCodeableConcept"`
		Type     []bCC `json:"type"`
	} `json:"diagnosis"`
	Procedure []struct {
		Sequence int    `json:"sequence"`
		Date     string `json:"date"`
		CC       bCC    `json:"procedureCodeableConcept"`
	} `json:"procedure"`
	CareTeam []struct {
		Sequence int `json:"sequence"`
		Provider struct {
			Identifier struct {
				Value string `json:"value"`
			} `json:"identifier"`
		} `json:"provider"`
		Role bCC `json:"role"`
	} `json:"careTeam"`
}

func firstCode(cc bCC) (string, bool) {
	if len(cc.Coding) == 0 {
		return "", false
	}
	return cc.Coding[0].Code, true
}

type bApp struct{ b *array.RecordBuilder }

func (a bApp) str(i int, s string, ok bool) {
	if !ok {
		a.b.Field(i).AppendNull()
		return
	}
	switch fb := a.b.Field(i).(type) {
	case *array.StringBuilder:
		fb.Append(s)
	case *array.BinaryDictionaryBuilder:
		_ = fb.AppendString(s)
	}
}

func (a bApp) dec(i int, n gojson.Number, ok bool) error {
	if !ok || n == "" {
		a.b.Field(i).AppendNull()
		return nil
	}
	d, _, err := parseDecimal(string(n), 15, 2, false)
	if err != nil {
		return err
	}
	a.b.Field(i).(*array.Decimal128Builder).Append(d)
	return nil
}

func (a bApp) date(i int, s string) error {
	if s == "" {
		a.b.Field(i).AppendNull()
		return nil
	}
	d, err := parseDate(s)
	if err != nil {
		return err
	}
	a.b.Field(i).(*array.Date32Builder).Append(arrow.Date32(d))
	return nil
}

func (a bApp) ts(i int, s string) error {
	if s == "" {
		a.b.Field(i).AppendNull()
		return nil
	}
	us, err := parseDateTime(s)
	if err != nil {
		return err
	}
	a.b.Field(i).(*array.TimestampBuilder).Append(arrow.Timestamp(us))
	return nil
}

func (a bApp) int(i int, v int) { a.b.Field(i).(*array.Int32Builder).Append(int32(v)) }

// cpuTime is the CPU time (user+system) used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// baselineRun flattens data with the typed baseline and returns rows per table.
func baselineRun(data []byte, eng *Engine, mem memory.Allocator) (map[string]int64, error) {
	sch := eng.Schemas()
	names := []string{"eob", "eob_line", "eob_diagnosis", "eob_procedure", "eob_care_team"}
	var bs [5]bApp
	for i, n := range names {
		bs[i] = bApp{array.NewRecordBuilder(mem, sch[n])}
		defer bs[i].b.Release()
	}
	rows := [5]int{}
	total := map[string]int64{}
	flush := func(k int, force bool) {
		if rows[k] >= DefaultBatchRows || force && rows[k] > 0 {
			total[names[k]] += int64(rows[k])
			bs[k].b.NewRecordBatch().Release()
			rows[k] = 0
		}
	}
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		line := data
		if nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		var e bEOB
		if err := gojson.Unmarshal(line, &e); err != nil {
			return nil, err
		}
		h := bs[0]
		h.str(0, e.ID, true)
		claimID, ok := "", false
		for _, id := range e.Identifier {
			if id.System == "https://bluebutton.cms.gov/resources/variables/clm_id" {
				claimID, ok = id.Value, true
				break
			}
		}
		h.str(1, claimID, ok)
		_, pid := splitRef(e.Patient.Reference)
		h.str(2, pid, pid != "")
		ct, ok := "", false
		for _, c := range e.Type.Coding {
			if c.System == "https://bluebutton.cms.gov/resources/codesystem/eob-type" {
				ct, ok = c.Code, true
				break
			}
		}
		h.str(3, ct, ok)
		h.str(4, e.Status, e.Status != "")
		if err := h.ts(5, e.Meta.LastUpdated); err != nil {
			return nil, err
		}
		if err := h.date(6, e.BillablePeriod.Start); err != nil {
			return nil, err
		}
		if err := h.date(7, e.BillablePeriod.End); err != nil {
			return nil, err
		}
		if err := h.dec(8, e.Payment.Amount.Value, true); err != nil {
			return nil, err
		}
		var pp gojson.Number
		for _, x := range e.Extension {
			if x.URL == "https://bluebutton.cms.gov/resources/variables/nch_clm_prvdr_pmt_amt" && x.ValueMoney != nil {
				pp = x.ValueMoney.Value
				break
			}
		}
		if err := h.dec(9, pp, pp != ""); err != nil {
			return nil, err
		}
		rows[0]++
		for _, it := range e.Item {
			l := bs[1]
			l.str(0, e.ID, true)
			l.int(1, it.Sequence)
			c, ok := firstCode(it.Service)
			l.str(2, c, ok)
			if err := l.date(3, it.ServicedPeriod.Start); err != nil {
				return nil, err
			}
			var amt gojson.Number
			for _, adj := range it.Adjudication {
				found := false
				for _, cd := range adj.Category.Coding {
					if cd.Code == "https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt" {
						found = true
					}
				}
				if found && adj.Amount != nil {
					amt = adj.Amount.Value
					break
				}
			}
			if err := l.dec(4, amt, amt != ""); err != nil {
				return nil, err
			}
			rows[1]++
		}
		for _, d := range e.Diagnosis {
			x := bs[2]
			x.str(0, e.ID, true)
			x.int(1, d.Sequence)
			sys, ok := "", len(d.CC.Coding) > 0
			if ok {
				sys = d.CC.Coding[0].System
			}
			x.str(2, sys, ok)
			c, ok := firstCode(d.CC)
			x.str(3, c, ok)
			t, ok := "", false
			if len(d.Type) > 0 {
				t, ok = firstCode(d.Type[0])
			}
			x.str(4, t, ok)
			rows[2]++
		}
		for _, p := range e.Procedure {
			x := bs[3]
			x.str(0, e.ID, true)
			x.int(1, p.Sequence)
			c, ok := firstCode(p.CC)
			x.str(2, c, ok)
			if err := x.ts(3, p.Date); err != nil {
				return nil, err
			}
			rows[3]++
		}
		for _, ct := range e.CareTeam {
			x := bs[4]
			x.str(0, e.ID, true)
			x.int(1, ct.Sequence)
			v := ct.Provider.Identifier.Value
			x.str(2, v, v != "")
			c, ok := firstCode(ct.Role)
			x.str(3, c, ok)
			rows[4]++
		}
		for k := range rows {
			flush(k, false)
		}
	}
	for k := range rows {
		flush(k, true)
	}
	return total, nil
}

func splitRef(ref string) (string, string) {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == '/' {
			return ref[:i], ref[i+1:]
		}
	}
	return "", ""
}

// TestBenchViewsMatchBaseline checks that the engine and the typed baseline produce the same
// row counts on a small corpus, so the benchmark compares equal work.
func TestBenchViewsMatchBaseline(t *testing.T) {
	data := benchCorpus(t, 1<<20)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng := benchEngine(t, mem)
	src := Source{Name: "bench", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	st, err := eng.Run(context.Background(), []Source{src}, func(bt Batch) error { bt.Record.Release(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	base, err := baselineRun(data, eng, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range eng.Tables() {
		if st.Rows[n] != base[n] {
			t.Errorf("table %s: engine %d rows, baseline %d", n, st.Rows[n], base[n])
		}
	}
	if st.Rows["eob"] == 0 || st.Rows["eob_line"] == 0 || st.Rows["eob_diagnosis"] == 0 || st.Rows["eob_care_team"] == 0 || st.Rows["eob_procedure"] == 0 {
		t.Fatalf("bench views produce too few rows: %v", st.Rows)
	}
}
