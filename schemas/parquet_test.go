package schemas

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	pgo "github.com/parquet-go/parquet-go"

	"github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/transform"
)

// TestMoneyPoliciesInParquet writes the CARIN claims' eob table to Parquet under round_half_even
// and exact and reads it back with an independent reader (parquet-go): the money column's
// declared DECIMAL and digits, the date kept as written and the instant beside it all survive.
func TestMoneyPoliciesInParquet(t *testing.T) {
	views, err := Views(R4)
	if err != nil {
		t.Fatal(err)
	}
	src := typedSource("carin-eob.ndjson", "ExplanationOfBenefit", readBulk(t, "carin-eob.ndjson"))
	for _, tc := range []struct {
		policy   transform.MoneyPolicy
		prec, sc int
		paid     string // of inp-1, sent as 112.41600000000001
	}{
		{transform.MoneyRoundHalfEven, 15, 2, "112.42"},
		{transform.MoneyExact, 38, 18, "112.416000000000010000"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			eng, err := transform.New(views, transform.WithMoneyPolicy(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := parquet.NewWriter(&buf, eng.Schemas()[TableEOB], parquet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error {
				defer b.Record.Release()
				if b.Table != TableEOB {
					return nil
				}
				return w.Write(b.Record)
			}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := pgo.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			col := map[string]int{}
			for i, p := range f.Schema().Columns() {
				col[p[0]] = i
			}
			lt := f.Schema().Fields()[col["payment_amount"]].Type().LogicalType()
			if want := fmt.Sprintf("DECIMAL(%d,%d)", tc.prec, tc.sc); lt == nil || lt.String() != want {
				t.Fatalf("payment_amount logical type %v, want DECIMAL(%d,%d)", lt, tc.prec, tc.sc)
			}
			rows := make([]pgo.Row, 16)
			rr := f.RowGroups()[0].Rows()
			n, err := rr.ReadRows(rows)
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			rr.Close()
			if n != 7 {
				t.Fatalf("%d rows, want 7", n)
			}
			r := rows[0]
			if id := string(r[col["eob_id"]].ByteArray()); id != "inp-1" {
				t.Fatalf("first row %s", id)
			}
			v := r[col["payment_amount"]]
			var unscaled *big.Int
			if tc.prec <= 18 {
				unscaled = big.NewInt(v.Int64())
			} else {
				unscaled = new(big.Int).SetBytes(v.ByteArray()) // big-endian two's complement; positive here
			}
			if got := decimal128.FromBigInt(unscaled).ToString(int32(tc.sc)); got != tc.paid {
				t.Errorf("payment_amount %s, want %s", got, tc.paid)
			}
			day := time.Unix(int64(r[col["billable_period_start"]].Int32())*86400, 0).UTC().Format("2006-01-02")
			ts := time.UnixMicro(r[col["billable_period_start_ts"]].Int64()).UTC().Format(time.RFC3339)
			if day != "2021-03-05" || ts != "2021-03-05T15:00:00Z" {
				t.Errorf("billable_period_start %s, _ts %s; want 2021-03-05 and 2021-03-05T15:00:00Z", day, ts)
			}
			if got := string(r[col["claim_type"]].ByteArray()) + "/" + string(r[col["claim_type_raw"]].ByteArray()); got != "INPATIENT/institutional" {
				t.Errorf("claim type %s", got)
			}
		})
	}
}
