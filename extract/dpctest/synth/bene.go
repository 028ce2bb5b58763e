package synth

import (
	"strconv"
	"time"
)

// Stream tags: each part of a beneficiary's data has its own PRNG stream.
const (
	tagBene uint64 = iota + 1
	tagCoverage
	tagClaimCount
	tagClaim
	tagOptOut
	tagUpdated
	tagLookback
)

var (
	givenMale   = []string{"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles", "Donald", "George", "Kenneth", "Paul", "Edward", "Ronald", "Gary", "Larry", "Frank", "Raymond", "Carlos", "Jose", "Wei", "Hiroshi", "Ahmed"}
	givenFemale = []string{"Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Susan", "Margaret", "Dorothy", "Lisa", "Nancy", "Karen", "Betty", "Helen", "Sandra", "Donna", "Carol", "Ruth", "Sharon", "Michelle", "Maria", "Rosa", "Mei", "Yuki", "Fatima"}
	families    = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "O'Brien", "Nguyen", "Kim", "Patel", "Chen"}
	// state, first three ZIP digits
	stateZips = []struct{ st, zip3 string }{
		{"MD", "212"}, {"VA", "223"}, {"NY", "100"}, {"NY", "142"}, {"PA", "191"}, {"FL", "331"}, {"FL", "327"}, {"TX", "770"}, {"TX", "752"},
		{"CA", "900"}, {"CA", "941"}, {"OH", "432"}, {"IL", "606"}, {"MI", "482"}, {"GA", "303"}, {"NC", "276"}, {"AZ", "850"}, {"WA", "981"},
		{"MA", "021"}, {"NJ", "070"}, {"MO", "631"}, {"TN", "372"}, {"CO", "802"}, {"ME", "041"}, {"VT", "054"}, {"PR", "009"},
	}
	races = []struct{ code, disp string }{
		{"1", "White"}, {"1", "White"}, {"1", "White"}, {"1", "White"}, {"2", "Black"}, {"2", "Black"},
		{"3", "Other"}, {"4", "Asian"}, {"5", "Hispanic"}, {"5", "Hispanic"}, {"6", "North American Native"}, {"0", "Unknown"},
	}
)

func raceDisplay(code string) string {
	for _, r := range races {
		if r.code == code {
			return r.disp
		}
	}
	return "Unknown"
}

// beneNum is the unique numeric identity of an MBI: its index in the MBI
// mixed radix for valid MBIs, else a hash.
func beneNum(mbi string) uint64 {
	if v, ok := decodeMBI(mbi); ok {
		return v
	}
	return mix64(hashString(0, mbi)) % mbiSpace
}

// beneIDFor: BFD bene_id, 14 digits, unique per MBI.
func beneIDFor(mbi string) string {
	return strconv.FormatUint(10_000_000_000_000+beneNum(mbi), 10)
}

// Beneficiary returns the deterministic identity of the beneficiary with
// this MBI (any string works; valid MBIs give unique BeneIDs).
func (g *Generator) Beneficiary(mbi string) Beneficiary {
	r := g.stream(mbi, tagBene, 0)
	b := Beneficiary{BeneID: beneIDFor(mbi), MBI: mbi}
	female := r.chance(55)
	if female {
		b.Gender, b.Given = "female", pick(&r, givenFemale)
	} else {
		b.Gender, b.Given = "male", pick(&r, givenMale)
	}
	if r.chance(2) {
		b.Gender = "unknown"
	}
	if r.chance(60) {
		b.Middle = string(mbiAlpha[r.intn(len(mbiAlpha))])
	}
	b.Family = pick(&r, families)
	// Ages 65-100 at Epoch, with some younger (disability/ESRD) beneficiaries.
	age := r.between(65, 100)
	if r.chance(12) {
		age = r.between(25, 64)
	}
	birth := g.opts.Epoch.AddDate(-age, 0, -r.intn(365))
	b.BirthDate = dateString(birth)
	if r.chance(4) {
		b.DeathDate = dateString(g.opts.Epoch.AddDate(0, 0, -r.between(1, 700)))
	}
	sz := pick(&r, stateZips)
	b.State = sz.st
	b.Zip = sz.zip3 + strconv.Itoa(10+r.intn(90))
	b.RaceCode = pick(&r, races).code
	b.LastUpdated = g.lastUpdated(mbi, 0, time.Time{})
	return b
}

// OptedOut reports whether DPC answers for this beneficiary with an
// OperationOutcome only (about 2% of beneficiaries, deterministic per seed).
func (g *Generator) OptedOut(mbi string) bool {
	r := g.stream(mbi, tagOptOut, 0)
	return r.intn(1000) < optOutPerMille
}

// Suppression is why DPC serves a beneficiary only as an OperationOutcome line: the
// issue code and details.text DPC's aggregation engine writes (OutcomeReason.java).
type Suppression struct {
	Code string // "exception" (opted out) or "suppressed" (lookback)
	Text string
}

// Reasons DPC gives, word for word (dpc-aggregation engine/OutcomeReason.java).
const (
	ReasonOptedOut       = "Data not available for opted out patient"
	ReasonLookBackNoData = "DPC couldn't find any claims for this MBI; unable to demonstrate relationship with provider or organization"
	ReasonLookBackNoNPI  = "DPC couldn't find a claim for this MBI from an NPI in this organization"
	ReasonLookBackNoDate = "DPC couldn't find a claim within the past 18 months for this MBI from an NPI in this organization"
	optOutPerMille       = 20
)

// Suppressed reports whether DPC answers for this beneficiary with an OperationOutcome
// only, and why: opted out (OptedOut, about 2%), or failing the 18-month lookback with
// probability chosen so that about Options.SuppressedShare of all beneficiaries are
// suppressed (a share at or below 2% leaves only the opt-outs).
func (g *Generator) Suppressed(mbi string) (Suppression, bool) {
	if g.OptedOut(mbi) {
		return Suppression{Code: "exception", Text: ReasonOptedOut}, true
	}
	share := g.opts.SuppressedShare
	const opt = optOutPerMille / 1000.0
	if share <= opt {
		return Suppression{}, false
	}
	p := min(1, (share-opt)/(1-opt))
	r := g.stream(mbi, tagLookback, 0)
	if float64(r.intn(1_000_000)) >= p*1_000_000 {
		return Suppression{}, false
	}
	text := []string{ReasonLookBackNoDate, ReasonLookBackNoDate, ReasonLookBackNoNPI, ReasonLookBackNoData}[r.intn(4)]
	return Suppression{Code: "suppressed", Text: text}, true
}

// lastUpdated returns the n-th resource's lastUpdated instant, uniform over
// [max(Epoch-3y, notBefore), Epoch+1y) at millisecond resolution.
func (g *Generator) lastUpdated(mbi string, n int, notBefore time.Time) time.Time {
	lo := g.opts.Epoch.AddDate(-3, 0, 0)
	hi := g.opts.Epoch.AddDate(1, 0, 0)
	if notBefore.After(lo) {
		lo = notBefore
	}
	span := hi.Sub(lo).Milliseconds()
	r := g.stream(mbi, tagUpdated, n)
	return lo.Add(time.Duration(r.intn(int(span))) * time.Millisecond)
}

// inWindow reports whether t is in (since, until]. Zero since: no lower bound.
// Zero until: no upper bound.
func inWindow(t, since, until time.Time) bool {
	if !since.IsZero() && !t.After(since) {
		return false
	}
	if !until.IsZero() && t.After(until) {
		return false
	}
	return true
}
