package synth

import "time"

// Resource types AppendNDJSON understands.
const (
	ResourcePatient  = "Patient"
	ResourceCoverage = "Coverage"
	ResourceEOB      = "ExplanationOfBenefit"
)

// AppendNDJSON appends the NDJSON lines (each ending in '\n') of one resource
// type ("Patient", "Coverage" or "ExplanationOfBenefit") for the beneficiary,
// keeping only resources whose meta.lastUpdated is in (since, until]. A zero
// since means no lower bound, a zero until no upper bound. It returns the
// extended slice and the number of lines appended; an unknown resource type
// appends nothing. Opted-out beneficiaries are generated like any other: the
// caller decides (via OptedOut) whether to serve them.
func (g *Generator) AppendNDJSON(dst []byte, mbi, resourceType string, since, until time.Time) ([]byte, int) {
	n := 0
	switch resourceType {
	case ResourcePatient:
		p := g.Beneficiary(mbi)
		if inWindow(p.LastUpdated, since, until) {
			covs := g.coverages(&p)
			dst = g.appendPatient(dst, &p, &covs[0])
			dst = append(dst, '\n')
			n++
		}
	case ResourceCoverage:
		p := g.Beneficiary(mbi)
		covs := g.coverages(&p)
		for i := range covs {
			if inWindow(covs[i].LastUpdated, since, until) {
				dst = g.appendCoverage(dst, &p, &covs[i])
				dst = append(dst, '\n')
				n++
			}
		}
	case ResourceEOB:
		p := g.Beneficiary(mbi)
		covs := g.coverages(&p)
		k := g.claimCount(mbi)
		var c Claim
		var x claimExtra
		for i := range k {
			if !inWindow(g.claimUpdated(&p, i), since, until) {
				continue
			}
			g.claim(&p, &covs, i, &c, &x)
			dst = g.appendClaim(dst, &p, &c, &x)
			dst = append(dst, '\n')
			n++
		}
	}
	return dst, n
}

// Record returns everything the generator emits for the beneficiary, with
// no lastUpdated filtering.
func (g *Generator) Record(mbi string) Record {
	p := g.Beneficiary(mbi)
	covs := g.coverages(&p)
	_, suppressed := g.Suppressed(mbi)
	rec := Record{Patient: p, OptedOut: g.OptedOut(mbi), Suppressed: suppressed, Coverages: covs[:]}
	k := g.claimCount(mbi)
	rec.Claims = make([]Claim, k)
	var x claimExtra
	for i := range k {
		g.claim(&p, &covs, i, &rec.Claims[i], &x)
	}
	return rec
}
