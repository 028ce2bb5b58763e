// Package synth generates deterministic, BFD-shaped synthetic Medicare data
// (Patient, Coverage, ExplanationOfBenefit NDJSON) for the DPC sandbox and tests.
//
// # Shapes
//
// With Version STU3 (the default, what DPC serves) resources follow Blue
// Button v1 (BFD STU3) as in BFD's endpoint-response fixtures; with R4 they
// follow Blue Button v2 (BFD R4 / CARIN BB). testdata/synth holds the real
// samples and TestFieldLevelSTU3/TestFieldLevelR4 check that generated EOBs
// of every claim type carry every element path of the real sample of that
// type (minus a short, documented ignore list), with the same JSON kinds,
// parseable dates and money with at most two decimals.
//
// Per beneficiary: one Patient, four Coverage (part-a/b/c/d-{bene_id}) with
// the monthly BFD extensions, and 2-12 ExplanationOfBenefit claims whose
// type is drawn from all eight BFD claim types (carrier, DME, HHA, hospice,
// inpatient, outpatient, PDE, SNF).
//
// # Determinism and scale
//
// Everything derives from (Options.Seed, MBI, index) through splitmix64
// streams, so Beneficiary, AppendNDJSON and Record always agree and nothing
// is kept between calls: the sandbox can serve any number of patients in
// constant memory. Output is built by appending bytes (no encoding/json);
// BenchmarkAppendNDJSON reports the rate (~600 MB/s STU3 on one core of the
// development machine).
//
// # Time
//
// meta.lastUpdated of every resource lies in [Epoch-3y, Epoch+1y) (claims:
// after their first service date), so a sandbox clock moving past Epoch
// keeps revealing updated resources; AppendNDJSON filters on (since, until].
// Claim service dates lie before Epoch.
//
// # Record
//
// Record(mbi) returns the generator's own account of the data as Go values
// (see the Record type for conventions: dates "YYYY-MM-DD", money as exact
// two-decimal strings named by BFD variable, codes with leading zeros). It
// is built from the same model the JSON writers use, and TestRecordMatchesJSON
// checks every Record field against the emitted JSON for both versions.
// Fields whose JSON spelling differs by version (diagnosis type codes,
// care-team roles, STU3 diagnosis sequence shifted by the DRG entry, R4
// total for professional claims) hold the value emitted for the generator's
// Version.
package synth
