package synth_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var resourceTypes = []string{"Patient", "Coverage", "ExplanationOfBenefit"}

func gen(v synth.FHIRVersion, seed int64) *synth.Generator {
	return synth.New(synth.Options{Seed: seed, Version: v, Epoch: epoch})
}

func lines(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		panic("NDJSON does not end in a newline")
	}
	return bytes.Split(b[:len(b)-1], []byte("\n"))
}

func TestMBIFormatAndUniqueness(t *testing.T) {
	g := gen(synth.STU3, 1)
	seen := map[string]bool{}
	for i := range 20000 {
		m := g.MBI(i)
		if !synth.ValidMBI(m) {
			t.Fatalf("MBI(%d) = %q is not a valid MBI", i, m)
		}
		// CMS spec: position 1 is 1-9, 2/5/8/9 letters without S,L,O,I,B,Z, 4/7/10/11 digits.
		if m[0] < '1' || m[0] > '9' || strings.ContainsAny(m, "SLOIBZ") {
			t.Fatalf("MBI %q violates the CMS format", m)
		}
		if seen[m] {
			t.Fatalf("MBI(%d) = %q repeats", i, m)
		}
		seen[m] = true
	}
	if g.MBI(5) != gen(synth.R4, 1).MBI(5) {
		t.Error("MBI depends on the FHIR version")
	}
	if g.MBI(5) == gen(synth.STU3, 2).MBI(5) {
		t.Error("MBI does not depend on the seed")
	}
	for _, bad := range []string{"", "1EG4TE5MK7", "1EG4-TE5-MK73", "0EG4TE5MK73", "1SG4TE5MK73", "1EG4TE5MK7A", "1eg4te5mk73"} {
		if synth.ValidMBI(bad) {
			t.Errorf("ValidMBI(%q) = true", bad)
		}
	}
	if !synth.ValidMBI("1EG4TE5MK73") { // the example MBI from the CMS MBI format document
		t.Error(`ValidMBI("1EG4TE5MK73") = false`)
	}
}

func TestNPILuhn(t *testing.T) {
	if !synth.ValidNPI("1234567893") { // the CMS NPI check-digit example
		t.Fatal(`ValidNPI("1234567893") = false`)
	}
	for _, bad := range []string{"1234567890", "123456789", "12345678931", "123456789A"} {
		if synth.ValidNPI(bad) {
			t.Errorf("ValidNPI(%q) = true", bad)
		}
	}
	g := gen(synth.STU3, 3)
	seen := map[string]bool{}
	for i := range 20000 {
		n := g.NPI(i)
		if !synth.ValidNPI(n) || seen[n] {
			t.Fatalf("NPI(%d) = %q invalid or repeated", i, n)
		}
		seen[n] = true
		// a single changed digit must break the check
		b := []byte(n)
		b[4] = '0' + (b[4]-'0'+1)%10
		if synth.ValidNPI(string(b)) {
			t.Fatalf("ValidNPI accepts %s (altered %s)", b, n)
		}
	}
}

func TestDeterminism(t *testing.T) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		g1, g2 := gen(v, 11), gen(v, 11)
		other := gen(v, 12)
		for i := range 30 {
			m := g1.MBI(i)
			for _, rt := range resourceTypes {
				a, na := g1.AppendNDJSON(nil, m, rt, time.Time{}, time.Time{})
				b, nb := g2.AppendNDJSON(nil, m, rt, time.Time{}, time.Time{})
				c, _ := g1.AppendNDJSON(nil, m, rt, time.Time{}, time.Time{})
				if !bytes.Equal(a, b) || !bytes.Equal(a, c) || na != nb {
					t.Fatalf("%v %s %s: output differs between identical generators/calls", v, m, rt)
				}
				if o, _ := other.AppendNDJSON(nil, m, rt, time.Time{}, time.Time{}); bytes.Equal(a, o) {
					t.Fatalf("%v %s %s: seed 12 gives the same bytes as seed 11", v, m, rt)
				}
			}
			if !reflect.DeepEqual(g1.Record(m), g2.Record(m)) {
				t.Fatalf("%v %s: Record differs", v, m)
			}
			if g1.Beneficiary(m) != g2.Beneficiary(m) {
				t.Fatalf("Beneficiary differs")
			}
		}
	}
}

func TestNDJSONValid(t *testing.T) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		g := gen(v, 5)
		ids := map[string]bool{}
		types := map[string]int{}
		for i := range 80 {
			m := g.MBI(i)
			rec := g.Record(m)
			for _, rt := range resourceTypes {
				prefix := []byte("x")
				b, n := g.AppendNDJSON(prefix, m, rt, time.Time{}, time.Time{})
				if !bytes.HasPrefix(b, prefix) {
					t.Fatal("AppendNDJSON did not append to dst")
				}
				ls := lines(b[1:])
				if len(ls) != n {
					t.Fatalf("count %d, lines %d", n, len(ls))
				}
				want := map[string]int{"Patient": 1, "Coverage": 4, "ExplanationOfBenefit": len(rec.Claims)}[rt]
				if n != want {
					t.Fatalf("%s %s: %d lines, want %d", m, rt, n, want)
				}
				for _, l := range ls {
					var r struct {
						ResourceType string                       `json:"resourceType"`
						ID           string                       `json:"id"`
						Meta         struct{ LastUpdated string } `json:"meta"`
					}
					if err := json.Unmarshal(l, &r); err != nil { // also rejects invalid JSON
						t.Fatalf("%v invalid JSON (%v): %s", v, err, l)
					}
					if r.ResourceType != rt {
						t.Fatalf("resourceType %q in %s file", r.ResourceType, rt)
					}
					lu, err := time.Parse("2006-01-02T15:04:05.000-07:00", r.Meta.LastUpdated)
					if err != nil {
						t.Fatalf("lastUpdated %q: %v", r.Meta.LastUpdated, err)
					}
					if lu.Before(epoch.AddDate(-3, 0, 0)) || !lu.Before(epoch.AddDate(1, 0, 0)) {
						t.Fatalf("lastUpdated %v outside [epoch-3y, epoch+1y)", lu)
					}
					key := rt + "/" + r.ID
					if ids[key] {
						t.Fatalf("duplicate id %s", key)
					}
					ids[key] = true
					if rt == "ExplanationOfBenefit" {
						types[r.ID[:strings.IndexByte(r.ID, '-')]]++
					}
				}
			}
		}
		for _, ct := range synth.ClaimTypes {
			if types[strings.ToLower(string(ct))] == 0 {
				t.Errorf("%v: no %s claims in 80 beneficiaries", v, ct)
			}
		}
	}
}

func TestSinceUntilFiltering(t *testing.T) {
	g := gen(synth.STU3, 9)
	cut1 := epoch.AddDate(-1, 0, 0)
	cut2 := epoch.AddDate(0, 3, 0)
	for i := range 60 {
		m := g.MBI(i)
		rec := g.Record(m)
		updated := map[string][]time.Time{"Patient": {rec.Patient.LastUpdated}}
		for _, c := range rec.Coverages {
			updated["Coverage"] = append(updated["Coverage"], c.LastUpdated)
		}
		for _, c := range rec.Claims {
			updated["ExplanationOfBenefit"] = append(updated["ExplanationOfBenefit"], c.LastUpdated)
		}
		for _, rt := range resourceTypes {
			all, nAll := g.AppendNDJSON(nil, m, rt, time.Time{}, time.Time{})
			early, n1 := g.AppendNDJSON(nil, m, rt, time.Time{}, cut1)
			mid, n2 := g.AppendNDJSON(nil, m, rt, cut1, cut2)
			late, n3 := g.AppendNDJSON(nil, m, rt, cut2, time.Time{})
			if n1+n2+n3 != nAll || len(early)+len(mid)+len(late) != len(all) {
				t.Fatalf("%s %s: windows %d+%d+%d != %d", m, rt, n1, n2, n3, nAll)
			}
			want := [3]int{}
			for _, u := range updated[rt] {
				switch {
				case !u.After(cut1):
					want[0]++
				case !u.After(cut2):
					want[1]++
				default:
					want[2]++
				}
			}
			if want != [3]int{n1, n2, n3} {
				t.Fatalf("%s %s: got %d/%d/%d per window, Record says %v", m, rt, n1, n2, n3, want)
			}
			// boundaries: (since, until] — a resource updated exactly at until is in, at since is out.
			for _, u := range updated[rt] {
				if _, n := g.AppendNDJSON(nil, m, rt, u.Add(-time.Millisecond), u); n < 1 {
					t.Fatalf("resource updated at %v missing from (u-1ms, u]", u)
				}
			}
		}
	}
}

func TestLastUpdatedSpread(t *testing.T) {
	g := gen(synth.STU3, 4)
	var before, after int
	for i := range 500 {
		for _, c := range g.Record(g.MBI(i)).Claims {
			if c.LastUpdated.After(epoch) {
				after++
			} else {
				before++
			}
			if from, _ := time.Parse(time.DateOnly, c.BillableStart); c.LastUpdated.Before(from) {
				t.Fatalf("%s updated %v before its service date %v", c.EOBID, c.LastUpdated, from)
			}
		}
	}
	// a moving sandbox clock must keep revealing updates: some fall after Epoch.
	if after == 0 || before == 0 || after > before {
		t.Fatalf("lastUpdated spread: %d before epoch, %d after", before, after)
	}
}

func TestOptedOutFraction(t *testing.T) {
	g := gen(synth.STU3, 1)
	n := 0
	for i := range 5000 {
		if g.OptedOut(g.MBI(i)) {
			n++
		}
	}
	if n < 25 || n > 250 {
		t.Fatalf("%d of 5000 opted out, want roughly 2%%", n)
	}
}

func TestBeneficiaryIdentity(t *testing.T) {
	g := gen(synth.STU3, 1)
	ids := map[string]bool{}
	for i := range 5000 {
		m := g.MBI(i)
		b := g.Beneficiary(m)
		if b.MBI != m || b.BeneID == "" || ids[b.BeneID] {
			t.Fatalf("bad identity %+v", b)
		}
		ids[b.BeneID] = true
		if _, err := time.Parse(time.DateOnly, b.BirthDate); err != nil {
			t.Fatal(err)
		}
		if b.Gender != "male" && b.Gender != "female" && b.Gender != "unknown" {
			t.Fatal(b.Gender)
		}
		if len(b.State) != 2 || len(b.Zip) != 5 {
			t.Fatalf("address %q %q", b.State, b.Zip)
		}
	}
	// any string gets an identity (the sandbox may be asked about foreign MBIs)
	if g.Beneficiary("not-an-mbi").BeneID == "" {
		t.Fatal("no BeneID for an arbitrary string")
	}
}

// TestConcurrentUse: one Generator serves many goroutines (the sandbox
// streams files in parallel); results must not depend on interleaving.
func TestConcurrentUse(t *testing.T) {
	g := gen(synth.STU3, 8)
	want := make([][]byte, 16)
	for i := range want {
		want[i], _ = g.AppendNDJSON(nil, g.MBI(i), "ExplanationOfBenefit", time.Time{}, time.Time{})
	}
	errs := make(chan string, 64)
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := range 32 {
				i := (k + w*5) % len(want)
				got, _ := g.AppendNDJSON(nil, g.MBI(i), "ExplanationOfBenefit", time.Time{}, time.Time{})
				if !bytes.Equal(got, want[i]) {
					errs <- g.MBI(i)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for m := range errs {
		t.Errorf("concurrent output for %s differs", m)
	}
}

func TestSuppressedShare(t *testing.T) {
	for _, share := range []float64{0, 0.10, 0.60} {
		g := synth.New(synth.Options{Seed: 3, SuppressedShare: share})
		n, opted, lookback := 0, 0, 0
		for i := range 10000 {
			mbi := g.MBI(i)
			s, ok := g.Suppressed(mbi)
			if ok != g.Record(mbi).Suppressed {
				t.Fatalf("share %v: Suppressed and Record disagree for %s", share, mbi)
			}
			if !ok {
				continue
			}
			n++
			switch {
			case s.Code == "exception" && s.Text == synth.ReasonOptedOut:
				opted++
			case s.Code == "suppressed" && s.Text != "":
				lookback++
			default:
				t.Fatalf("share %v: unexpected suppression %+v", share, s)
			}
		}
		want := max(share, 0.02) * 10000
		if float64(n) < want*0.8 || float64(n) > want*1.2 {
			t.Errorf("share %v: %d of 10000 suppressed, want about %.0f", share, n, want)
		}
		if share == 0 && lookback != 0 {
			t.Errorf("share 0: %d lookback failures, want none", lookback)
		}
		if opted == 0 {
			t.Errorf("share %v: no opted-out beneficiary", share)
		}
	}
}
