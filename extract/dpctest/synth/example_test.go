package synth_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

func Example() {
	g := synth.New(synth.Options{Seed: 1, Version: synth.STU3, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	mbi := g.MBI(0)
	fmt.Println("MBI", mbi, synth.ValidMBI(mbi), "NPI", g.NPI(0), synth.ValidNPI(g.NPI(0)))

	rec := g.Record(mbi) // what the generator emits, as Go values
	fmt.Println("bene", rec.Patient.BeneID, rec.Patient.BirthDate, "claims", len(rec.Claims))
	c := rec.Claims[0]
	fmt.Println(c.EOBID, c.Type, c.NCHClaimTypeCode, c.BillableStart, "paid", c.PaymentAmount)

	// the same claims as NDJSON, up to the epoch only
	b, n := g.AppendNDJSON(nil, mbi, "ExplanationOfBenefit", time.Time{}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(n, "EOB lines updated by the epoch;", bytes.Count(b, []byte("\n")), "newlines")
	// Output:
	// MBI 1GC1TA4AD16 true NPI 1541495085 true
	// bene 10386812160216 1953-06-27 claims 4
	// carrier-1038681216021600 CARRIER 71 2023-11-22 paid 125.84
	// 2 EOB lines updated by the epoch; 2 newlines
}
