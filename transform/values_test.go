package transform_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// valuesView has the column types real non-CMS claims stress: money DECIMAL(15,2) and a
// date fed a FHIR dateTime.
const valuesView = `{"name":"claim","resource":"ExplanationOfBenefit","status":"active","select":[{"column":[
  {"name":"id","path":"id","type":"id"},
  {"name":"start","path":"billablePeriod.start","type":"date","tag":[{"name":"ansi/type","value":"DATE"}]},
  {"name":"start_ts","path":"billablePeriod.start","type":"dateTime","tag":[{"name":"ansi/type","value":"TIMESTAMP"}]},
  {"name":"paid","path":"payment.amount.value","type":"decimal","tag":[{"name":"ansi/type","value":"DECIMAL(15,2)"}]}]},
  {"forEach":"total","column":[{"name":"total","path":"amount.value","type":"decimal","tag":[{"name":"ansi/type","value":"DECIMAL(15,2)"}]}]}]}`

func claimLine(id, start, paid string) string {
	return `{"resourceType":"ExplanationOfBenefit","id":"` + id + `","billablePeriod":{"start":"` + start + `"},"payment":{"amount":{"value":` + paid + `}},"total":[{"amount":{"value":` + paid + `}}]}`
}

// TestMoneyPolicies runs the same claims under each money policy: a float artifact
// (112.41600000000001) is refused only by strict, rounded and counted by round_half_even,
// kept exactly by exact; truly malformed money is quarantined by all three with an error
// naming the file, the line and the column.
func TestMoneyPolicies(t *testing.T) {
	v, err := view.Parse("values.json", []byte(valuesView))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		claimLine("a", "2021-03-05T10:00:00-05:00", "112.41600000000001"),
		claimLine("b", "2021-03-05", "12.50"),
		claimLine("c", "2021-03-05", `"12,50"`),
		claimLine("d", "2021-03-05", `"abc"`),
		claimLine("e", "2021-03-05T23:30:00-05:00", "0.125"),
		claimLine("f", "2021-03-05T10:00:00.123456789-05:00", "1.00"),
	}, "\n")
	for _, tc := range []struct {
		policy  transform.MoneyPolicy
		typ     string
		rows    string
		rounded map[string]int64
		quar    []string // quarantined ids' errors, in line order
	}{
		{transform.MoneyStrict, "decimal(15, 2)", "b|2021-03-05|2021-03-05T00:00:00Z|12.50|12.50", nil,
			[]string{"line 1", "more than 2 decimal places", "line 3", "is not a number", "line 4", "is not a number", "line 5", "more than 2 decimal places", "line 6", "sub-microsecond"}},
		{transform.MoneyRoundHalfEven, "decimal(15, 2)",
			"a|2021-03-05|2021-03-05T15:00:00Z|112.42|112.42;b|2021-03-05|2021-03-05T00:00:00Z|12.50|12.50;e|2021-03-05|2021-03-06T04:30:00Z|0.12|0.12;f|2021-03-05|2021-03-05T15:00:00.123456Z|1.00|1.00",
			map[string]int64{"claim.paid": 2, "claim.total": 2, "claim.start_ts": 1}, []string{"line 3", "is not a number", "line 4", "is not a number"}},
		{transform.MoneyExact, "decimal(38, 18)",
			"a|2021-03-05|2021-03-05T15:00:00Z|112.416000000000010000|112.416000000000010000;b|2021-03-05|2021-03-05T00:00:00Z|12.500000000000000000|12.500000000000000000;e|2021-03-05|2021-03-06T04:30:00Z|0.125000000000000000|0.125000000000000000;f|2021-03-05|2021-03-05T15:00:00.123456Z|1.000000000000000000|1.000000000000000000",
			map[string]int64{"claim.start_ts": 1}, []string{"line 3", "is not a number", "line 4", "is not a number"}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			q := &memQuarantine{}
			eng, err := transform.New([]*view.View{v}, transform.WithAllocator(mem), transform.WithQuarantine(q), transform.WithThreshold(-1, -1), transform.WithMoneyPolicy(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.Schemas()["claim"].Field(3).Type.String(); got != tc.typ {
				t.Errorf("paid is %s, want %s", got, tc.typ)
			}
			var c collect
			st, err := eng.Run(context.Background(), []transform.Source{src("claims.ndjson", in)}, c.emit)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.rows["claim"], ";"); got != tc.rows {
				t.Errorf("rows\n got %s\nwant %s", got, tc.rows)
			}
			if len(st.Rounded) != len(tc.rounded) {
				t.Errorf("Rounded = %v, want %v", st.Rounded, tc.rounded)
			}
			for k, n := range tc.rounded {
				if st.Rounded[k] != n {
					t.Errorf("Rounded = %v, want %v", st.Rounded, tc.rounded)
				}
			}
			if len(q.recs)*2 != len(tc.quar) {
				t.Fatalf("quarantined %d lines, want %d: %v", len(q.recs), len(tc.quar)/2, q.recs)
			}
			for i, r := range q.recs {
				where := "claims.ndjson " + tc.quar[2*i]
				got := r.File + " line " + itoa(r.Line)
				if got != where || !strings.Contains(r.Err, tc.quar[2*i+1]) || !strings.Contains(r.Err, `column "`) {
					t.Errorf("quarantine %d: %s: %s; want %s: %s", i, got, r.Err, where, tc.quar[2*i+1])
				}
			}
		})
	}
	// The error Run returns (logged) names file, line and column but not the value.
	eng, err := transform.New([]*view.View{v}, transform.WithMoneyPolicy(transform.MoneyRoundHalfEven))
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.Run(context.Background(), []transform.Source{src("claims.ndjson", in)}, (&collect{}).emit)
	if !errors.Is(err, transform.ErrQuarantineThreshold) || !strings.Contains(err.Error(), "claims.ndjson line 3") ||
		!strings.Contains(err.Error(), `column "paid" (decimal(15,2)): value is not a number`) || strings.Contains(err.Error(), "12,50") {
		t.Errorf("Run error: %v", err)
	}
	if _, err := transform.New([]*view.View{v}, transform.WithMoneyPolicy("round")); err == nil {
		t.Error("unknown money policy accepted")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
