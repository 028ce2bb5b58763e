package synth

// Shared pieces of the ExplanationOfBenefit writers.

var nchTypeDisplay = map[string]string{
	"71": "Local carrier non-durable medical equipment, prosthetics, orthotics, and supplies (DMEPOS) claim",
	"82": "DMERC; DMEPOS claim",
	"60": "Inpatient claim",
	"40": "Outpatient claim",
	"20": "Non swing bed Skilled Nursing Facility (SNF) claim",
	"10": "Home Health Agency (HHA) claim",
	"50": "Hospice claim",
}

var facTypeDisplay = map[string]string{"1": "Hospital", "2": "Skilled Nursing Facility (SNF)", "3": "Home Health Agency (HHA)", "8": "Ambulatory Surgery Center (ASC) or other special facility (e.g. hospice)"}

var freqDisplay = map[string]string{"1": "Admit thru discharge claim", "7": "Replacement of prior claim"}

var claimTypeDisplay = map[string]string{"professional": "Professional", "institutional": "Institutional", "pharmacy": "Pharmacy"}

// coveragePart is the Coverage a claim type is paid under.
func coveragePart(t ClaimType) string {
	switch t {
	case Inpatient, SNF, Hospice:
		return "part-a-"
	case PDE:
		return "part-d-"
	}
	return "part-b-"
}

func nearLineCode(t ClaimType) (string, string) {
	switch t {
	case Carrier:
		return "O", "Part B physician/supplier claim record (processed by local carriers; can include DMEPOS services)"
	case DME:
		return "M", "Part B DMEPOS claim record (processed by DME Regional Carrier) [incl. DMEPOS]"
	case Outpatient, HHA:
		return "W", "Part B institutional claim record (outpatient [HOP], home health agency [HHA])"
	}
	return "V", "Part A institutional claim record (inpatient [IP], skilled nursing facility [SNF], hospice [HOS], or home health agency [HHA])"
}

func srvcClsfctn(t ClaimType) string {
	switch t {
	case HHA:
		return "2"
	case Outpatient:
		return "3"
	}
	return "1"
}

func (g *Generator) appendClaim(b []byte, p *Beneficiary, c *Claim, x *claimExtra) []byte {
	if g.opts.Version == R4 {
		return g.appendClaimR4(b, p, c, x)
	}
	return g.appendClaimSTU3(b, p, c, x)
}

// ndcDisplay looks up the drug name of an NDC.
func ndcDisplay(code string) string { return lookup(ndcs, code) }

func icdDisplay(code string) string {
	if s := lookup(icd10CM, code); s != "" {
		return s
	}
	return lookup(icd10External, code)
}

var diagTypeDisplay = map[string]string{
	"principal":      "The single medical diagnosis that is most relevant to the patient's chief complaint or need for treatment.",
	"admitting":      "The diagnosis given as the reason why the patient was admitted to the hospital.",
	"other":          "Required when other conditions coexist or develop subsequently during the treatment",
	"external-first": "The code used to identify the 1st external cause of injury, poisoning, or other adverse effect.",
}

var poaDisplay = map[string]string{"Y": "Diagnosis was present at the time of admission (POA)", "N": "Diagnosis was not present at the time of admission"}

var roleDisplay = map[string]string{
	"primary": "Primary provider", "assist": "Assisting Provider", "other": "Other", "supervisor": "Supervising Provider",
	"attending": "Attending", "operating": "Operating", "otheroperating": "Other Operating", "performing": "Performing provider",
	"prescribing": "Prescribing provider", "referring": "Referring",
}

// infoFixed is a supporting-information entry whose value the synthetic
// data does not vary (codes the claims tables do not read).
type infoFixed struct{ v, vdisp, code, cdisp string }

var (
	infoMCO      = infoFixed{"clm_mco_pd_sw", "Claim MCO Paid Switch", "0", "No managed care organization (MCO) payment"}
	infoPtntStus = infoFixed{"nch_ptnt_stus_ind_cd", "NCH Patient Status Indicator Code", "A", "Discharged"}
	infoSrcAdmsn = infoFixed{"clm_src_ip_admsn_cd", "Claim Source Inpatient Admission Code", "1", ""}
	infoHHALupa  = infoFixed{"clm_hha_lupa_ind_cd", "Claim HHA Low Utilization Payment Adjustment (LUPA) Indicator Code", "L", "Low utilization payment adjustment (LUPA) claim"}
	infoHHARfrl  = infoFixed{"clm_hha_rfrl_cd", "Claim HHA Referral Code", "1", "Physician referral"}
	infoPrmryPyr = infoFixed{"nch_prmry_pyr_cd", "NCH Primary Payer Code (if not Medicare)", "A", "Employer group health plan (EGHP) insurance for an aged beneficiary"}
	infoDrugCvrg = infoFixed{"drug_cvrg_stus_cd", "Drug Coverage Status Code", "C", "Covered"}
	infoPDE      = []infoFixed{
		{"dspnsng_stus_cd", "Dispensing Status Code", "P", "Partial fill"},
		{"adjstmt_dltn_cd", "Adjustment Deletion Code", "A", "Adjustment"},
		{"nstd_frmt_cd", "Non-Standard Format Code", "X", "X12 837"},
		{"prcng_excptn_cd", "Pricing Exception Code", "M", "Medicare is a secondary payer (MSP)"},
		{"ctstrphc_cvrg_cd", "Catastrophic Coverage Code", "C", "Above attachment point"},
		{"rx_orgn_cd", "Prescription Origination Code", "3", "Electronic"},
		{"brnd_gnrc_cd", "Brand-Generic Code Reported by Submitting Plan", "G", "Generic Null/missing"},
		{"ptnt_rsdnc_cd", "Patient Residence Code", "01", "Home"},
		{"submsn_clr_cd", "Submission clarification code", "08", "Process compound for approved ingredients"},
	}
)

// institutionalInfo lists the fixed information entries of a claim type
// (after the ones carrying Record fields).
func institutionalInfo(t ClaimType) []infoFixed {
	switch t {
	case Inpatient, SNF:
		return []infoFixed{infoPtntStus, infoSrcAdmsn, infoMCO}
	case Outpatient:
		return []infoFixed{infoMCO}
	case HHA:
		return []infoFixed{infoHHALupa, infoHHARfrl}
	case Hospice:
		return []infoFixed{infoPtntStus}
	}
	return nil
}

var revDisplay = map[string]string{
	"0001": "Total charge", "0022": "SNF claim paid under PPS submitted as TOB 21X", "0023": "Home Health Prospective Payment System",
	"0120": "Room & Board - Semi-private two bed (medical or general)", "0191": "Subacute care - level I", "0250": "Pharmacy - general classification",
	"0260": "IV therapy - general classification", "0270": "Medical/surgical supplies", "0300": "Laboratory - general classification",
	"0301": "Laboratory - chemistry", "0320": "Radiology diagnostic - general classification", "0360": "Operating room services",
	"0370": "Anesthesia", "0410": "Respiratory services", "0420": "Physical therapy", "0421": "Physical therapy - visit charge",
	"0430": "Occupational therapy", "0431": "Occupational therapy - visit charge", "0440": "Speech-language pathology",
	"0441": "Speech-language pathology - visit charge", "0450": "Emergency room - general classification", "0510": "Clinic - general classification",
	"0551": "Skilled nursing - visit charge", "0571": "Home health aide - visit charge", "0636": "Drugs requiring detailed coding",
	"0651": "Hospice - routine home care", "0652": "Hospice - continuous home care", "0655": "Hospice - inpatient respite care",
	"0656": "Hospice - general inpatient care", "0657": "Hospice - physician services", "0730": "EKG/ECG - general classification",
	"0762": "Observation room", "0940": "Other therapeutic services",
}

type countDef struct{ name, disp string }

// utilCounts lists the benefitBalance usedUnsignedInt entries of a claim type
// with their values (days of utilization etc.).
func utilCounts(c *Claim, x *claimExtra, r4 bool) ([]countDef, []int) {
	util := countDef{"clm_utlztn_day_cnt", "Claim Medicare Utilization Day Count"}
	coins := countDef{"bene_tot_coinsrnc_days_cnt", "Beneficiary Total Coinsurance Days Count"}
	non := countDef{"clm_non_utlztn_days_cnt", "Claim Medicare Non Utilization Days Count"}
	switch c.Type {
	case Inpatient, SNF:
		free := 60
		if c.Type == SNF {
			free = 20
		}
		defs, vals := []countDef{util, coins, non}, []int{x.utilDays, max(0, x.utilDays-free), 0}
		if r4 && c.Type == Inpatient {
			defs = append(defs, countDef{"clm_pps_cptl_drg_wt_num", "Claim PPS Capital DRG Weight Number"}, countDef{"bene_lrd_used_cnt", "Beneficiary Medicare Lifetime Reserve Days (LRD) Used Count"})
			vals = append(vals, 1, 0)
		}
		return defs, vals
	case Hospice:
		return []countDef{util}, []int{x.utilDays}
	case HHA:
		if !r4 {
			return []countDef{{"clm_hha_tot_visit_cnt", "Claim HHA Total Visit Count"}}, []int{len(c.Items)}
		}
	}
	return nil, nil
}

func (w *jw) countEntries(defs []countDef, vals []int, lead bool) {
	for k, d := range defs {
		if k > 0 || lead {
			w.raw(`,`)
		}
		w.raw(`{"type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/benefit-balance","code":"https://bluebutton.cms.gov/resources/variables/`)
		w.raw(d.name)
		w.raw(`","display":"`)
		w.raw(d.disp)
		w.raw(`"}]},"usedUnsignedInt":`)
		w.int(vals[k])
		w.raw(`}`)
	}
}

// The writers below are emitted the same way by the STU3 and R4 ExplanationOfBenefit
// writers; version differences come in as parameters.

// claimTypeCodings writes the type codings (NCH type, eob-type, FHIR claim type under claimTypeSys).
func (w *jw) claimTypeCodings(c *Claim, claimTypeSys string) {
	if c.NCHClaimTypeCode != "" {
		w.coding2(bbVar, "nch_clm_type_cd", c.NCHClaimTypeCode, nchTypeDisplay[c.NCHClaimTypeCode])
		w.raw(`,`)
	}
	w.coding(bbCS+"eob-type", string(c.Type), "")
	w.raw(`,`)
	w.coding(claimTypeSys, c.FHIRClaimType, claimTypeDisplay[c.FHIRClaimType])
}

// billablePeriod writes the billablePeriod members up to the end date's value.
func (w *jw) billablePeriod(c *Claim, inst bool) {
	if inst {
		w.raw(`"extension":[`)
		w.extCoding("claim_query_cd", "3", "Final bill")
		w.raw(`],`)
	}
	w.raw(`"start":"`)
	w.raw(c.BillableStart)
	w.raw(`","end":"`)
	w.raw(c.BillableEnd)
}

// procedures writes the procedure array (R4 codes each procedure under the CMS ICD-10 system too).
func (w *jw) procedures(c *Claim, r4 bool) {
	if len(c.Procedures) == 0 {
		return
	}
	w.raw(`,"procedure":[`)
	for k := range c.Procedures {
		pr := &c.Procedures[k]
		if k > 0 {
			w.raw(`,`)
		}
		w.raw(`{"sequence":`)
		w.int(pr.Sequence)
		w.raw(`,"date":"`)
		w.raw(pr.Date)
		w.raw(`T00:00:00+00:00","procedureCodeableConcept":{"coding":[`)
		if r4 {
			w.coding("http://www.cms.gov/Medicare/Coding/ICD10", pr.Code, lookup(icd10PCS, pr.Code))
			w.raw(`,`)
		}
		w.coding(sysICD10, pr.Code, lookup(icd10PCS, pr.Code))
		w.raw(`]}}`)
	}
	w.raw(`]`)
}

// coverageRef writes the insurance coverage members up to the reference's value.
func (w *jw) coverageRef(c *Claim, p *Beneficiary) {
	if c.Type == PDE {
		w.raw(`"extension":[`)
		w.extIdentifier("plan_cntrct_rec_id", c.PDE.PlanContract)
		w.raw(`,`)
		w.extIdentifier("plan_pbp_rec_num", c.PDE.PlanPBP)
		w.raw(`],`)
	}
	w.raw(`"reference":"Coverage/` + coveragePart(c.Type))
	w.raw(p.BeneID)
}

// items writes the items of c, comma separated.
func (g *Generator) items(w *jw, c *Claim, x *claimExtra, r4 bool) {
	for k := range c.Items {
		if k > 0 {
			w.raw(`,`)
		}
		if r4 {
			g.itemR4(w, c, x, k)
		} else {
			g.itemSTU3(w, c, x, k)
		}
	}
}

// dmeLineExt writes the leading DME line extensions (supplier, screen savings, MTUS count).
func (w *jw) dmeLineExt(it *Item, x *claimExtra) {
	w.extIdentifier("suplrnum", x.groupNPI)
	w.raw(`,{"url":"https://bluebutton.cms.gov/resources/variables/dmerc_line_scrn_svgs_amt","valueQuantity":{"value":0.00}},{"url":"https://bluebutton.cms.gov/resources/variables/dmerc_line_mtus_cnt","valueQuantity":{"value":`)
	w.raw(it.Quantity)
	w.raw(`,"unit":"Number of services","system":"https://bluebutton.cms.gov/resources/variables/dmerc_line_mtus_cd","code":"3"}},`)
}

// itemLinks writes the item's care team and (professional claims) diagnosis links
// under the version's member openings.
func (w *jw) itemLinks(c *Claim, it *Item, prof bool, careTeam, diagnosis string) {
	if it.CareTeamSequence > 0 {
		w.raw(careTeam)
		w.int(it.CareTeamSequence)
		w.raw(`]`)
	}
	if prof && len(c.Diagnoses) > 0 {
		w.raw(diagnosis)
		w.int(c.Diagnoses[0].Sequence)
		w.raw(`]`)
	}
}

// itemCategory writes the line CMS type of service of professional claims.
func (w *jw) itemCategory(t ClaimType) {
	switch t {
	case Carrier:
		w.raw(`,"category":{"coding":[`)
		w.coding2(bbVar, "line_cms_type_srvc_cd", "1", "Medical care")
		w.raw(`]}`)
	case DME:
		w.raw(`,"category":{"coding":[`)
		w.coding2(bbVar, "line_cms_type_srvc_cd", "P", "Lump sum purchase of DME, prosthetics orthotics")
		w.raw(`]}`)
	}
}

// modifiers writes the HCPCS modifiers of an item.
func (w *jw) modifiers(mods []string) {
	if len(mods) == 0 {
		return
	}
	w.raw(`,"modifier":[`)
	for j, m := range mods {
		if j > 0 {
			w.raw(`,`)
		}
		w.raw(`{"coding":[{"system":"` + sysHCPCS + `","version":"5","code":"`)
		w.raw(m)
		w.raw(`"}]}`)
	}
	w.raw(`]`)
}

// servicedPeriodLocation opens a professional item's servicedPeriod and location
// extensions (state, zip); the caller adds its own and itemWhereQuantity closes them.
func (w *jw) servicedPeriodLocation(it *Item, x *claimExtra) {
	w.raw(`,"servicedPeriod":{"start":"`)
	w.raw(it.ServiceStart)
	w.raw(`","end":"`)
	w.raw(it.ServiceEnd)
	w.raw(`"},"locationCodeableConcept":{"extension":[`)
	w.extCoding("prvdr_state_cd", x.prvdrState, "")
	w.raw(`,`)
	w.extCoding("prvdr_zip", x.provZip, "")
}

// itemWhereQuantity ends an item's location (place of service for professional
// claims, served date and state otherwise) and writes its quantity.
func (w *jw) itemWhereQuantity(it *Item, x *claimExtra, prof bool) {
	if prof {
		w.raw(`],"coding":[`)
		w.coding2(bbVar, "line_place_of_srvc_cd", it.PlaceOfService, posDisplay(it.PlaceOfService))
		w.raw(`]}`)
	} else {
		if it.ServiceStart != "" {
			w.raw(`,"servicedDate":"`)
			w.raw(it.ServiceStart)
			w.raw(`"`)
		}
		w.raw(`,"locationAddress":{"state":"`)
		w.raw(x.prvdrState)
		w.raw(`"}`)
	}
	w.raw(`,"quantity":{"value":`)
	w.raw(it.Quantity)
	w.raw(`}`)
}

// adjNCHPayment writes the line NCH payment adjudication with its 80%/100% extension.
func (w *jw) adjNCHPayment(a *amtDef, val string, r4 bool) {
	w.raw(`{"extension":[`)
	w.extCoding("line_pmt_80_100_cd", "0", "80%")
	w.raw(`],`)
	w.b = w.adjAmountBody(w.b, a, val, r4)
}

// carrierHeaderExt writes the header extensions common to professional claims, each after a comma.
func (w *jw) carrierHeaderExt(x *claimExtra) {
	w.raw(`,`)
	w.extIdentifier("carr_num", x.carrNum)
	w.raw(`,`)
	w.extIdentifier("carr_clm_cntl_num", x.ctrlNum)
	w.raw(`,`)
	w.extCoding("carr_clm_pmt_dnl_cd", "1", "Physician/supplier")
	w.raw(`,`)
	w.extCoding("asgmntcd", "A", "Assigned claim")
	w.raw(`,`)
	w.extIdentifier("clm_clncl_tril_num", "0")
}

// lineAdjudications writes an item's adjudications after '[': the coded reasons of
// its claim type, then its amounts (STU3 gives the PDE plan-paid amount its coverage reason).
func (w *jw) lineAdjudications(t ClaimType, it *Item, x *claimExtra, r4 bool) {
	switch t {
	case Carrier:
		w.adjReasonDisp("carr_line_rdcd_pmt_phys_astn_c", "Carrier Line Reduced Payment Physician Assistant Code", "0", "N/A", r4)
		w.raw(`,`)
	case Outpatient, HHA:
		w.adjReason("rev_cntr_1st_ansi_cd", "Revenue Center 1st ANSI Code", "CO45", r4)
		w.raw(`,`)
		if t == Outpatient {
			w.adjReason("rev_cntr_2nd_ansi_cd", "Revenue Center 2nd ANSI Code", "PR1", r4)
			w.raw(`,`)
		}
	}
	for j := range it.Amounts {
		if j > 0 {
			w.raw(`,`)
		}
		a := &x.lineDefs[j]
		switch {
		case a.name == "line_nch_pmt_amt":
			w.adjNCHPayment(a, it.Amounts[j].Value, r4)
		case !r4 && a.name == "cvrd_d_plan_pd_amt":
			w.raw(`{`)
			w.b = w.adjAmountBodyReason(w.b, a, it.Amounts[j].Value)
		default:
			w.adjAmount(a, it.Amounts[j].Value, r4)
		}
	}
}

// careTeam writes the careTeam array.
func (w *jw) careTeam(c *Claim, x *claimExtra, r4 bool) {
	prof := c.Type == Carrier || c.Type == DME
	w.raw(`,"careTeam":[`)
	for k := range c.CareTeam {
		ct := &c.CareTeam[k]
		if k > 0 {
			w.raw(`,`)
		}
		w.raw(`{`)
		if prof {
			w.raw(`"extension":[`)
			w.extCoding("carr_line_prvdr_type_cd", "0", "")
			w.raw(`,`)
			w.extCoding("prtcptng_ind_cd", "1", "Participating")
			if !r4 && c.Type == Carrier {
				w.raw(`,{"url":"` + sysNPI + `","valueCoding":`)
				w.coding(sysNPI, x.groupNPI, x.orgName)
				w.raw(`}`)
			}
			w.raw(`],`)
		}
		w.raw(`"sequence":`)
		w.int(ct.Sequence)
		if r4 {
			w.raw(`,"provider":{"identifier":{` + carinNPIType + `,"value":"`)
		} else {
			w.raw(`,"provider":{"identifier":{"system":"` + sysNPI + `","value":"`)
		}
		w.raw(ct.NPI)
		w.raw(`"}}`)
		if prof {
			w.raw(`,"responsible":true`)
		}
		w.raw(`,"role":{"coding":[`)
		if r4 {
			w.coding("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole", ct.Role, roleDisplay[ct.Role])
			w.raw(`]},"qualification":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"207R00000X","display":"Internal Medicine Physician"}`)
			if ct.Specialty != "" {
				w.raw(`,`)
				w.coding2(bbVar, "prvdr_spclty", ct.Specialty, lookup(specialties, ct.Specialty))
			}
			w.raw(`]}`)
		} else {
			w.coding("http://hl7.org/fhir/claimcareteamrole", ct.Role, roleDisplay[ct.Role])
			w.raw(`]}`)
			if ct.Specialty != "" {
				w.raw(`,"qualification":{"coding":[`)
				w.coding2(bbVar, "prvdr_spclty", ct.Specialty, lookup(specialties, ct.Specialty))
				w.raw(`]}`)
			}
		}
		w.raw(`}`)
	}
	w.raw(`]`)
}
