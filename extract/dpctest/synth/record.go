package synth

import "time"

// Record is the generator's own account of everything it emits for one
// beneficiary, as plain Go values. It is built from the same internal model
// the NDJSON writer uses, so a round-trip test can compare it with what comes
// out of the claims tables.
//
// Conventions (identical in STU3 and R4 output):
//   - Dates are "YYYY-MM-DD" strings exactly as written in the JSON; "" means absent.
//   - Amounts are decimal strings with exactly two decimals ("123.45", "0.00"),
//     written to JSON as the same digits (a JSON number). Never floats.
//   - Codes are strings and keep leading zeros ("0450", "01").
//   - Amount names are BFD variable names, the last path segment of the
//     https://bluebutton.cms.gov/resources/variables/{name} URL the JSON keys
//     the amount on (adjudication category code, extension url, benefit
//     balance type code).
type Record struct {
	Patient  Beneficiary
	OptedOut bool // the beneficiary opted out of data sharing (one reason for Suppressed)
	// Suppressed: DPC answers with an OperationOutcome only (opted out or lookback
	// failure, see Generator.Suppressed); the resources are still defined.
	Suppressed bool
	Coverages  []Coverage // parts A, B, C, D in that order
	Claims     []Claim    // ordered by EOB id emission order (the order AppendNDJSON writes them)
}

// Beneficiary is the identity of a synthetic beneficiary (the Patient resource).
type Beneficiary struct {
	BeneID      string // BFD bene_id (Patient.id), digits only
	MBI         string // current MBI (identifier system http://hl7.org/fhir/sid/us-mbi)
	Given       string // first given name
	Middle      string // middle initial ("" if none)
	Family      string
	Gender      string // FHIR administrative gender: "male", "female" or "unknown"
	BirthDate   string // YYYY-MM-DD
	DeathDate   string // YYYY-MM-DD, "" when alive (Patient.deceasedDateTime)
	State       string // 2-letter USPS state
	Zip         string // 5-digit ZIP
	RaceCode    string // BFD race code ("1" white, "2" black, ...)
	LastUpdated time.Time
}

// Coverage is one Medicare part (Coverage resource).
type Coverage struct {
	ID              string // "part-a-{bene}" etc.
	Part            string // "A", "B", "C" or "D"
	Status          string // "active" or "cancelled"
	PeriodStart     string // coverage period start ("" when absent)
	ReferenceYear   string // rfrnc_yr, e.g. "2025"
	MSCode          string // ms_cd (A, B, D; "" for C)
	OREC            string // orec (A only)
	CREC            string // crec (A only)
	ESRD            string // esrd_ind (A only)
	TerminationCode string // a_trm_cd (A) / b_trm_cd (B); "" otherwise
	Months          [12]CoverageMonth
	LastUpdated     time.Time
}

// CoverageMonth holds the monthly (01..12) extension values of one part.
// Fields that do not apply to the part are "".
type CoverageMonth struct {
	Dual          string // dual_NN (all parts)
	BuyIn         string // buyinNN (A, B)
	PartCContract string // ptc_cntrct_id_NN (C)
	PartCPBP      string // ptc_pbp_id_NN (C)
	PartCPlanType string // ptc_plan_type_cd_NN (C)
	HMOIndicator  string // hmo_ind_NN (C)
	PartDContract string // ptdcntrctNN (D)
	PartDPBP      string // ptdpbpidNN (D)
	PartDSegment  string // sgmtidNN (D)
	CostShare     string // cstshrNN (D)
	RDSIndicator  string // rdsindNN (D)
}

// ClaimType is the BFD eob-type code.
type ClaimType string

// The eight BFD claim types.
const (
	Carrier    ClaimType = "CARRIER"
	DME        ClaimType = "DME"
	HHA        ClaimType = "HHA"
	Hospice    ClaimType = "HOSPICE"
	Inpatient  ClaimType = "INPATIENT"
	Outpatient ClaimType = "OUTPATIENT"
	PDE        ClaimType = "PDE"
	SNF        ClaimType = "SNF"
)

// ClaimTypes lists all eight claim types.
var ClaimTypes = [...]ClaimType{Carrier, DME, HHA, Hospice, Inpatient, Outpatient, PDE, SNF}

// Claim is one ExplanationOfBenefit.
type Claim struct {
	EOBID            string    // "{type lower}-{ClaimID}", e.g. "carrier-123456789"
	ClaimID          string    // clm_id (pde_id for PDE)
	ClaimGroupID     string    // claim-group identifier
	Type             ClaimType // eob-type code
	NCHClaimTypeCode string    // nch_clm_type_cd ("" for PDE)
	FHIRClaimType    string    // "professional", "institutional" or "pharmacy"
	Status           string    // "active"
	LastUpdated      time.Time
	BillableStart    string
	BillableEnd      string
	// Providers. Institutional: OrganizationNPI + CCN (prvdr_num) + FacilityType.
	// Carrier/DME: no organization; the performing NPIs are in CareTeam.
	// PDE: OrganizationNPI is the pharmacy (service provider) NPI.
	OrganizationNPI    string
	CCN                string // prvdr_num (institutional only)
	FacilityTypeCode   string // clm_fac_type_cd (institutional only)
	ClaimFrequencyCode string // clm_freq_cd (institutional only)
	DRG                string // clm_drg_cd (inpatient, SNF; "" otherwise)
	DischargeStatus    string // ptnt_dschrg_stus_cd (institutional only)
	AdmissionDate      string // inpatient/SNF/hospice: clm_admsn_dt (STU3 hospitalization.start / R4 supportingInfo admissionperiod)
	DischargeDate      string // nch_bene_dschrg_dt ("" if none)
	AdmissionTypeCode  string // clm_ip_admsn_type_cd (inpatient, SNF)
	PaymentAmount      string // payment.amount (clm_pmt_amt); "" for PDE
	TotalCharge        string // clm_tot_chrg_amt: STU3 totalCost (institutional only); R4 total[] clm_tot_chrg_amt (all but PDE); else ""
	PaymentDate        string // PDE: payment.date
	ProcessedDate      string // nch_wkly_proc_dt (all but PDE)
	Diagnoses          []Diagnosis
	Procedures         []Procedure
	CareTeam           []CareTeamMember
	Items              []Item
	// Header money by BFD variable name: STU3 ExplanationOfBenefit.extension valueMoney;
	// R4 benefitBalance.financial usedMoney (ime_op_clm_val_amt, dsh_op_clm_val_amt and
	// clm_uncompd_care_pmt_amt stay extensions in R4, as in BFD v2). Nil for PDE.
	Amounts Amounts
	PDE     *PrescriptionFill
}

// PrescriptionFill holds the Part D event fields (PDE claims only).
type PrescriptionFill struct {
	NDC              string // 11 digits
	DaysSupply       string // days_suply_num
	FillNumber       string // fill_num
	Quantity         string // item.quantity.value, decimal
	DAWCode          string // daw_prod_slctn_cd
	PrescriberNPI    string
	PharmacyNPI      string
	ServiceDate      string
	DispensingStatus string // always "" (the JSON carries a fixed dspnsng_stus_cd "P" the tables do not read)
	PlanContract     string // plan_cntrct_rec_id
	PlanPBP          string // plan_pbp_rec_num
}

// Diagnosis is one ExplanationOfBenefit.diagnosis entry with an ICD-10 code.
// In STU3 the DRG is an extra diagnosis entry holding only packageCode; it is
// NOT listed here (see Claim.DRG) but does take a sequence number.
type Diagnosis struct {
	Sequence int
	Code     string // ICD-10-CM without the dot, as BFD writes it ("E119")
	// STU3: "principal", "admitting", "other", "external-first", "" (carrier/DME secondary
	// diagnoses carry no type). R4: "principal", "admitting", "other", "secondary",
	// "externalcauseofinjury" (CARIN codes, as emitted).
	Type string
	POA  string // present-on-admission indicator ("Y", "N", ...) inpatient only, else ""
}

// Procedure is one ICD-10-PCS procedure.
type Procedure struct {
	Sequence int
	Code     string // 7-character ICD-10-PCS
	Date     string // YYYY-MM-DD
}

// CareTeamMember is one careTeam entry.
type CareTeamMember struct {
	Sequence int
	NPI      string
	// Role code as emitted. STU3 (claimcareteamrole): institutional attending "primary",
	// operating "assist", other "other", line rendering "primary"; carrier/DME performing
	// "primary"; PDE prescriber "primary". R4 (C4BBClaimCareTeamRole): "attending",
	// "operating", "otheroperating", "performing", "prescribing".
	Role      string
	Specialty string // prvdr_spclty (carrier/DME), "" otherwise
}

// Item is one claim line.
type Item struct {
	Sequence         int
	CareTeamSequence int      // careTeamLinkId (STU3) / careTeamSequence (R4); 0 when none
	HCPCS            string   // item.service (STU3) / productOrService (R4) HCPCS code; "" for PDE (NDC instead)
	Modifiers        []string // HCPCS modifiers
	NDC              string   // 11-digit NDC: PDE service coding; carrier/DME item extension; outpatient service extension; "" when none
	RevenueCenter    string   // rev_cntr (institutional), e.g. "0450"
	PlaceOfService   string   // line_place_of_srvc_cd (carrier, DME)
	BETOS            string   // betos_cd (carrier, DME)
	ServiceStart     string   // servicedPeriod.start or servicedDate
	ServiceEnd       string   // servicedPeriod.end ("" when servicedDate)
	Quantity         string   // quantity.value as decimal text
	RenderingNPI     string   // NPI of the care team member the line links to
	Amounts          Amounts  // line adjudication amounts by BFD variable name
}

// Amount is one money value keyed by BFD variable name.
type Amount struct {
	Name  string // e.g. "line_nch_pmt_amt"
	Value string // e.g. "37.50"
}

// Amounts is an ordered list of money values (emission order).
type Amounts []Amount

// Get returns the value of the named amount.
func (a Amounts) Get(name string) (string, bool) {
	for _, x := range a {
		if x.Name == name {
			return x.Value, true
		}
	}
	return "", false
}
