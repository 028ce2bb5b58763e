package viewgen

import (
	"fmt"
	"strings"
)

// ctLookup is the NPI of the care team member whose sequence is the line's first link
// (%context is the line: the forEach node, unchanged inside where()).
func ctLookup(link string) string {
	return npiOf(fmt.Sprintf("%%resource.careTeam.where(sequence = %%context.%s.first()).provider.identifier", link))
}

func eobCols() []col {
	return []col{
		c("eob_id", "string", `ExplanationOfBenefit.id, "{type}-{claim id}" (e.g. carrier-9991831999).`, "id"),
		c("claim_id", "code", "BFD claim id: identifier clm_id (pde_id for Part D events).",
			fmt.Sprintf("identifier.where(system = '%sclm_id' or system = '%spde_id').value.first()", v, v)),
		c("claim_group_id", "code", "BFD claim group identifier.",
			fmt.Sprintf("identifier.where(system = '%sidentifier/claim-group').value.first()", bb)),
		c("claim_type", "code", "Claim type from the Blue Button eob-type coding (never meta.profile): CARRIER, DME, HHA, HOSPICE, INPATIENT, OUTPATIENT, PDE or SNF; null when that coding is not one of these eight. Without any eob-type coding (CARIN / other R4 payers), from the HL7 claim-type coding: institutional with C4BB subType inpatient INPATIENT, outpatient OUTPATIENT, else INSTITUTIONAL; professional CARRIER; pharmacy PDE; oral ORAL; vision VISION; null otherwise.",
			claimTypeExpr()),
		c("claim_type_raw", "code", "The claim type code exactly as sent: the eob-type code, else the HL7 claim-type code, else the first type coding (lets a check count claims whose type is unknown).",
			claimTypeCoding+".code"),
		c("nch_claim_type_code", "code", "NCH claim type code (nch_clm_type_cd), e.g. 71 carrier, 60 inpatient; null for PDE.",
			fmt.Sprintf("type.coding.where(system = '%snch_clm_type_cd').code.first()", v)),
		c("patient_id", "string", "Patient.id (BFD bene_id) the claim belongs to.", patientRef),
		c("status", "code", "EOB status (active, cancelled, ...).", "status"),
		c("billable_period_start", "date", "Claim from date (billablePeriod.start).", "billablePeriod.start"),
		c("billable_period_end", "date", "Claim through date (billablePeriod.end).", "billablePeriod.end"),
		c("billing_npi", "code", "Billing provider NPI: institutional organization NPI, Part D pharmacy NPI, carrier billing NPI (R4 only). Only a Luhn-valid NPI-system identifier; anything else is in billing_provider_id.",
			npiOf("organization.identifier"),
			fmt.Sprintf("(%s | %s).first()", npiOf("provider.identifier"), npiOf("contained.where(resourceType = 'Organization').identifier"))),
		c("attending_npi", "code", `Attending physician NPI (institutional claims only): STU3 care team role "primary" that no line links to; R4 role "attending". Luhn-valid NPIs only (the raw identifier is in eob_care_team).`,
			fmt.Sprintf("iif(type.coding.where(system = '%s' and (code = 'HHA' or code = 'HOSPICE' or code = 'INPATIENT' or code = 'OUTPATIENT' or code = 'SNF')).exists(), careTeam.where(role.coding.code = 'primary' and (%%resource.item.careTeamLinkId contains sequence).not()).provider.identifier.where(%s).value.where(%s).first())", eobType, npiIdentifier(), luhn()),
			npiOf("careTeam.where(role.coding.code = 'attending').provider.identifier")),
		c("operating_npi", "code", `Operating physician NPI: STU3 care team role "assist", R4 role "operating". Luhn-valid NPIs only.`,
			npiOf("careTeam.where(role.coding.code = 'assist').provider.identifier"),
			npiOf("careTeam.where(role.coding.code = 'operating').provider.identifier")),
		c("provider_ccn", "code", "Institutional provider CCN (prvdr_num).",
			fmt.Sprintf("provider.identifier.where(system = '%sprvdr_num').value.first()", v),
			"contained.where(resourceType = 'Organization').identifier.where(type.coding.code = 'PRN').value.first()"),
		c("facility_type_code", "code", "Facility type code (clm_fac_type_cd).",
			fmt.Sprintf("facility.%s.valueCoding.code.first()", ext("clm_fac_type_cd"))),
		c("claim_frequency_code", "code", "Claim frequency code (clm_freq_cd), last digit of the type of bill.",
			info("information", "clm_freq_cd"), info("supportingInfo", "clm_freq_cd")),
		c("drg_code", "code", "DRG (clm_drg_cd): STU3 diagnosis entry with only packageCode, R4 supportingInfo.",
			fmt.Sprintf("diagnosis.packageCode.coding.where(system = '%sclm_drg_cd').code.first()", v),
			info("supportingInfo", "clm_drg_cd")),
		c("discharge_status_code", "code", "Patient discharge status code (ptnt_dschrg_stus_cd).",
			info("information", "ptnt_dschrg_stus_cd"), info("supportingInfo", "ptnt_dschrg_stus_cd")),
		c("admission_date", "date", "Admission date: STU3 hospitalization.start, R4 supportingInfo admissionperiod.",
			"hospitalization.start",
			"supportingInfo.where(category.coding.code = 'admissionperiod').timingPeriod.start.first()"),
		c("discharge_date", "date", "Discharge date: STU3 hospitalization.end, R4 supportingInfo admissionperiod end.",
			"hospitalization.end",
			"supportingInfo.where(category.coding.code = 'admissionperiod').timingPeriod.end.first()"),
		c("admission_type_code", "code", "Inpatient admission type code (clm_ip_admsn_type_cd).",
			infocat("information", "clm_ip_admsn_type_cd")+".code.coding.code.first()",
			infocat("supportingInfo", "clm_ip_admsn_type_cd")+".code.coding.code.first()"),
		c("principal_diagnosis_code", "code", `ICD code of the diagnosis typed "principal", as sent (no dot).`,
			"diagnosis.where(type.coding.code = 'principal').diagnosisCodeableConcept.coding.code.first()"),
		c("total_charge_amount", "money", "Claim total charge (clm_tot_chrg_amt): STU3 totalCost, R4 total[] keyed on the BFD variable URL, except the carrier/DME entry BFD files under CARIN priorpayerpaid with that variable: it holds carr_clm_prmry_pyr_pd_amt (see primary_payer_paid_amount).",
			"totalCost.value",
			fmt.Sprintf("total.where(category.coding.where(code = '%sclm_tot_chrg_amt').exists() and category.coding.where(code = 'priorpayerpaid').exists().not()).amount.value.first()", v)),
		c("payment_amount", "money", "Claim payment amount (clm_pmt_amt, payment.amount).", "payment.amount.value"),
		c("payment_date", "date", "Payment date (payment.date; Part D events).", "payment.date"),
		c("coverage_reference", "string", "Coverage the claim is paid under (insurance.coverage.reference; STU3 single insurance, R4 array).",
			"insurance.coverage.reference.first()"),
		c("pde_days_supply", "integer", "Part D days supply (days_suply_num).",
			fmt.Sprintf("item.quantity.%s.valueQuantity.value.first()", ext("days_suply_num")),
			"supportingInfo.where(category.coding.code = 'dayssupply').valueQuantity.value.first()"),
		c("pde_fill_number", "integer", "Part D fill number (fill_num).",
			fmt.Sprintf("item.quantity.%s.valueQuantity.value.first()", ext("fill_num")),
			"supportingInfo.where(category.coding.code = 'refillnum').valueQuantity.value.first()"),
		c("pde_daw_code", "code", "Part D dispense-as-written code (daw_prod_slctn_cd).",
			info("information", "daw_prod_slctn_cd"), info("supportingInfo", "daw_prod_slctn_cd")),
		c("last_updated", "instant", "meta.lastUpdated.", "meta.lastUpdated"),
	}
}

func lineCols() []col {
	return []col{
		c("line_number", "integer", "Line number (item.sequence).", "sequence"),
		c("hcpcs_code", "code", "HCPCS/CPT code: STU3 item.service, R4 item.productOrService (system hcpcs).",
			fmt.Sprintf("service.coding.where(system = '%s').code.first()", hcpcs),
			fmt.Sprintf("productOrService.coding.where(system = '%s').code.first()", hcpcs)),
		c("hcpcs_modifier_1", "code", "First HCPCS modifier (R4 also carries unit codings in modifier; only the hcpcs system counts).",
			fmt.Sprintf("modifier.coding.where(system = '%s').code[0]", hcpcs)),
		c("hcpcs_modifier_2", "code", "Second HCPCS modifier.",
			fmt.Sprintf("modifier.coding.where(system = '%s').code[1]", hcpcs)),
		c("ndc", "code", "National Drug Code: a coding on Part D events, an extension elsewhere (STU3 institutional: rev_cntr_ide_ndc_upc_num).",
			fmt.Sprintf("(service.coding.where(system = '%s').code | extension('%s').valueCoding.code | service.%s.valueCoding.code).first()", ndcSys, ndcSys, ext("rev_cntr_ide_ndc_upc_num")),
			fmt.Sprintf("(productOrService.coding.where(system = '%s').code | productOrService.extension('%s').valueCoding.code).first()", ndcSys, ndcSys)),
		c("revenue_center_code", "code", "Revenue center code (rev_cntr), institutional claims.",
			fmt.Sprintf("revenue.coding.where(system = '%srev_cntr').code.first()", v)),
		c("place_of_service_code", "code", "Place of service (line_place_of_srvc_cd).",
			fmt.Sprintf("locationCodeableConcept.coding.where(system = '%sline_place_of_srvc_cd').code.first()", v)),
		c("betos_code", "code", "BETOS code (betos_cd).", ext("betos_cd")+".valueCoding.code.first()"),
		c("service_start", "date", "Service from date (servicedPeriod.start or servicedDate).",
			"(servicedPeriod.start | servicedDate).first()"),
		c("service_end", "date", "Service through date (servicedPeriod.end or servicedDate).",
			"(servicedPeriod.end | servicedDate).first()"),
		c("quantity", "quantity", "Units: item.quantity (carrier, DME, Part D; STU3 institutional lines: rev_cntr_unit_cnt); R4 institutional lines (with a revenue center): the rev_cntr_unit_cnt extension only, because BFD v2 puts the NDC quantity in their item.quantity (see ndc_quantity).",
			"quantity.value",
			fmt.Sprintf("iif(revenue.exists(), %s.valueQuantity.value.first(), quantity.value)", ext("rev_cntr_unit_cnt"))),
		c("rendering_npi", "code", "NPI of the care team member the line links to first (STU3 careTeamLinkId, R4 careTeamSequence; the member of care_team_sequence), when it is a Luhn-valid NPI-system identifier. Placeholders and UPINs (R4 hospice \"0\") never land here: see rendering_provider_id, and eob_line_care_team for every link.",
			ctLookup("careTeamLinkId"), ctLookup("careTeamSequence")),
		c("care_team_sequence", "integer", "Sequence of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence); joins eob_care_team.sequence.",
			"careTeamLinkId.first()", "careTeamSequence.first()"),
		c("submitted_amount", "money", "Submitted charge: line_sbmtd_chrg_amt, rev_cntr_tot_chrg_amt, tot_rx_cst_amt (Part D).",
			adj("line_sbmtd_chrg_amt", "rev_cntr_tot_chrg_amt", "tot_rx_cst_amt")),
		c("allowed_amount", "money", "Allowed charge: line_alowd_chrg_amt.", adj("line_alowd_chrg_amt")),
		c("paid_amount", "money", "Medicare/plan payment: line_nch_pmt_amt, rev_cntr_pmt_amt_amt, cvrd_d_plan_pd_amt (Part D).",
			adj("line_nch_pmt_amt", "rev_cntr_pmt_amt_amt", "cvrd_d_plan_pd_amt")),
		c("provider_paid_amount", "money", "Paid to provider: line_prvdr_pmt_amt, rev_cntr_prvdr_pmt_amt.",
			adj("line_prvdr_pmt_amt", "rev_cntr_prvdr_pmt_amt")),
		c("beneficiary_paid_amount", "money", "Paid to the beneficiary: line_bene_pmt_amt, rev_cntr_bene_pmt_amt.",
			adj("line_bene_pmt_amt", "rev_cntr_bene_pmt_amt")),
		c("deductible_amount", "money", "Deductible: line_bene_ptb_ddctbl_amt, rev_cntr_cash_ddctbl_amt.",
			adj("line_bene_ptb_ddctbl_amt", "rev_cntr_cash_ddctbl_amt")),
		c("coinsurance_amount", "money", "Coinsurance: line_coinsrnc_amt, rev_cntr_coinsrnc_wge_adjstd_c.",
			adj("line_coinsrnc_amt", "rev_cntr_coinsrnc_wge_adjstd_c")),
		c("patient_pay_amount", "money", "Paid by the patient: rev_cntr_ptnt_rspnsblty_pmt, ptnt_pay_amt (Part D).",
			adj("rev_cntr_ptnt_rspnsblty_pmt", "ptnt_pay_amt")),
		c("primary_payer_paid_amount", "money", "Primary payer (not Medicare) paid: line_bene_prmry_pyr_pd_amt, rev_cntr_1st_msp_pd_amt.",
			adj("line_bene_prmry_pyr_pd_amt", "rev_cntr_1st_msp_pd_amt")),
		c("noncovered_amount", "money", "Non-covered charge: rev_cntr_ncvrd_chrg_amt.", adj("rev_cntr_ncvrd_chrg_amt")),
		c("rate_amount", "money", "Revenue center rate: rev_cntr_rate_amt.", adj("rev_cntr_rate_amt")),
	}
}

func icdVersion(cc string) string {
	var sys []string
	for _, s := range icd10 {
		sys = append(sys, fmt.Sprintf("system = '%s'", s))
	}
	return fmt.Sprintf("iif(%s.coding.where(system = '%s').exists(), '9', iif(%s.coding.where(%s).exists(), '10', {}))",
		cc, icd9, cc, strings.Join(sys, " or "))
}

const dx = "diagnosisCodeableConcept.coding.code.first()"

func diagCols() []col {
	return []col{
		c("sequence", "integer", "diagnosis.sequence.", "sequence"),
		c("code", "code", "ICD diagnosis code without the dot.",
			fmt.Sprintf("iif(%s.contains('.'), iif(%s.substring(3, 1) = '.', %s.substring(0, 3) & %s.substring(4), %s.substring(0, 4) & %s.substring(5)), %s)", dx, dx, dx, dx, dx, dx, dx)),
		c("icd_version", "code", `"9" or "10" from the coding system.`, icdVersion("diagnosisCodeableConcept")),
		c("diagnosis_type", "code", "Diagnosis type code as sent (STU3 diagnosis-type / R4 ex-diagnosistype or C4BBClaimDiagnosisType).",
			"type.coding.code.first()"),
		c("poa_indicator", "code", "Present-on-admission indicator (clm_poa_ind_swN / clm_e_poa_ind_swN).",
			fmt.Sprintf("extension.where(url.startsWith('%sclm_poa_ind_sw') or url.startsWith('%sclm_e_poa_ind_sw')).valueCoding.code.first()", v, v)),
		c("is_principal", "boolean", `True when typed "principal".`, "type.coding.where(code = 'principal').exists()"),
	}
}

func procCols() []col {
	return []col{
		c("sequence", "integer", "procedure.sequence.", "sequence"),
		c("code", "code", "ICD procedure code (ICD-10-PCS or ICD-9-CM volume 3).", "procedureCodeableConcept.coding.code.first()"),
		c("icd_version", "code", `"9" or "10" from the coding system.`, icdVersion("procedureCodeableConcept")),
		c("procedure_date", "date", "procedure.date (date part).", "date.toString().substring(0, 10)"),
	}
}

func careTeamCols() []col {
	return []col{
		c("sequence", "integer", "careTeam.sequence.", "sequence"),
		c("role", "code", "Care team role code as sent (STU3 claimcareteamrole: primary/assist/other; R4 C4BBClaimCareTeamRole: attending/operating/performing/...).",
			"role.coding.code.first()"),
		c("npi", "code", "Provider NPI: a Luhn-valid NPI-system identifier only (STU3 system us-npi, R4 type npi).", npiOf("provider.identifier")),
		c("specialty_code", "code", "Provider specialty (prvdr_spclty) when sent.",
			fmt.Sprintf("qualification.coding.where(system = '%sprvdr_spclty').code.first()", v)),
		c("provider_identifier", "code", "Provider identifier exactly as sent (NPI, UPIN, placeholder \"0\", ...).", "provider.identifier.value.first()"),
		c("provider_identifier_system", "string", "System of the provider identifier when sent (STU3 us-npi).", "provider.identifier.system.first()"),
		c("provider_identifier_type", "code", "Type code of the provider identifier when sent (R4 npi, UPIN, ...).", "provider.identifier.type.coding.code.first()"),
		c("taxonomy_code", "code", "Provider taxonomy (NUCC) when sent.", "qualification.coding.where(system = 'http://nucc.org/provider-taxonomy').code.first()"),
		c("provider_type_code", "code", "Carrier line provider type (carr_line_prvdr_type_cd).", extCode("carr_line_prvdr_type_cd")),
		c("participating_code", "code", "Provider participating indicator (prtcptng_ind_cd).", extCode("prtcptng_ind_cd")),
	}
}

func parentCols() []col {
	return []col{
		c("eob_id", "string", "ExplanationOfBenefit.id of the claim.", "id"),
		c("patient_id", "string", "Patient.id (BFD bene_id).", patientRef),
		c("claim_type", "code", "Claim type from the eob-type coding (see eob.claim_type).", claimTypeExpr()),
	}
}

func patientCols() []col {
	mbiCurrent := fmt.Sprintf("identifier.where(system = '%s' and (extension('%s').valueCoding.code = 'current' or type.coding.extension('%s').valueCoding.code = 'current')).value.first()", mbiSys, curSys, curSys)
	mbiAny := fmt.Sprintf("identifier.where(system = '%s').value", mbiSys)
	return []col{
		c("patient_id", "string", "Patient.id (BFD bene_id).", "id"),
		c("bene_id", "code", "bene_id identifier.", fmt.Sprintf("identifier.where(system = '%sbene_id').value.first()", v)),
		c("mbi", "code", "Current MBI: the us-mbi identifier marked current (identifier-currency), else the only us-mbi identifier.",
			fmt.Sprintf("iif(%s.exists(), %s, iif(%s.count() = 1, %s.first(), {}))", strings.Replace(mbiCurrent, ".value.first()", "", 1), mbiCurrent, mbiAny, mbiAny)),
		c("given_name", "string", "First given name.", "name.first().given[0]"),
		c("middle_name", "string", "Second given name (middle name or initial).", "name.first().given[1]"),
		c("family_name", "string", "Family name.", "name.first().family"),
		c("gender", "code", "Administrative gender.", "gender"),
		c("birth_date", "date", "Birth date.", "birthDate"),
		c("death_date", "date", "Date of death (deceasedDateTime, date part).", "deceasedDateTime.toString().substring(0, 10)"),
		c("state_code", "code", "Address state (BFD sends SSA state codes in some files, USPS in others; as sent).", "address.state.first()"),
		c("zip_code", "code", "Address postal code (leading zeros kept).", "address.postalCode.first()"),
		c("race_code", "code", "BFD race code (race extension).", ext("race")+".valueCoding.code.first()"),
		c("last_updated", "instant", "meta.lastUpdated.", "meta.lastUpdated"),
	}
}

const (
	partSTU3 = "iif(grouping.subPlan.startsWith('Part '), grouping.subPlan.substring(5), {})"
	planR4   = "class.where(type.coding.code = 'plan').value.first()"
)

func coverageCols() []col {
	partR4 := fmt.Sprintf("iif(%s.startsWith('Part '), %s.substring(5), {})", planR4, planR4)
	return []col{
		c("coverage_id", "string", `Coverage.id ("part-a-{bene}" ...).`, "id"),
		c("patient_id", "string", "Patient.id (BFD bene_id).", "beneficiary.getReferenceKey(Patient)"),
		c("part", "code", "Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).", partSTU3, partR4),
		c("status", "code", "Coverage status (active, cancelled).", "status"),
		c("period_start", "date", "Coverage period start.", "period.start"),
		c("period_end", "date", "Coverage period end.", "period.end"),
		c("reference_year", "integer", "BFD reference year (rfrnc_yr).", ext("rfrnc_yr")+".valueDate.first().toString().substring(0, 4).toInteger()"),
		c("medicare_status_code", "code", "Medicare status code (ms_cd).", ext("ms_cd")+".valueCoding.code.first()"),
		c("orec_code", "code", "Original reason for entitlement (orec).", ext("orec")+".valueCoding.code.first()"),
		c("crec_code", "code", "Current reason for entitlement (crec).", ext("crec")+".valueCoding.code.first()"),
		c("esrd_indicator", "code", "ESRD indicator (esrd_ind).", ext("esrd_ind")+".valueCoding.code.first()"),
		c("part_a_termination_code", "code", "Part A termination code (a_trm_cd).", ext("a_trm_cd")+".valueCoding.code.first()"),
		c("part_b_termination_code", "code", "Part B termination code (b_trm_cd).", ext("b_trm_cd")+".valueCoding.code.first()"),
		c("last_updated", "instant", "meta.lastUpdated.", "meta.lastUpdated"),
	}
}

var monthFields = [][3]string{
	{"dual_status_code", "Medicare-Medicaid dual status (dual_MM).", "dual_%02d"},
	{"buy_in_code", "State buy-in indicator (buyinMM).", "buyin%02d"},
	{"part_c_contract_id", "Part C contract (ptc_cntrct_id_MM).", "ptc_cntrct_id_%02d"},
	{"part_c_pbp_id", "Part C plan benefit package (ptc_pbp_id_MM).", "ptc_pbp_id_%02d"},
	{"part_c_plan_type_code", "Part C plan type (ptc_plan_type_cd_MM).", "ptc_plan_type_cd_%02d"},
	{"hmo_indicator", "HMO indicator (hmo_ind_MM).", "hmo_ind_%02d"},
	{"part_d_contract_id", "Part D contract (ptdcntrctMM).", "ptdcntrct%02d"},
	{"part_d_pbp_id", "Part D plan benefit package (ptdpbpidMM).", "ptdpbpid%02d"},
	{"part_d_segment_id", "Part D segment (sgmtidMM).", "sgmtid%02d"},
	{"cost_share_code", "Part D cost-sharing group (cstshrMM).", "cstshr%02d"},
	{"rds_indicator", "Part D retiree drug subsidy indicator (rdsindMM).", "rdsind%02d"},
}

func pick(cs []col, names ...string) []col {
	var out []col
	for _, cl := range cs {
		for _, n := range names {
			if cl.name == n {
				out = append(out, cl)
			}
		}
	}
	return out
}

func amtVar(field string) string {
	return fmt.Sprintf("iif(%s.startsWith('%s'), %s.substring(%d), %s)", field, v, field, len(v), field)
}

var moneyTag = []Tag{{Name: "ansi/type", Value: "DECIMAL(15,2)"}}

const varDesc = "BFD variable name (last segment of the https://bluebutton.cms.gov/resources/variables/ URL), e.g. nch_clm_prvdr_pmt_amt."

var tableBuilders = []tableBuilder{
	{"patient", func(ver string) Doc {
		return view("patient", "Patient", "One row per beneficiary (Patient).", ver, Sel{Column: cols(withCCLF("patient", append(patientCols(), patientExtraCols()...)), ver)})
	}},
	{"coverage", func(ver string) Doc {
		return view("coverage", "Coverage", "One row per Coverage (one per Medicare part A/B/C/D).", ver, Sel{Column: cols(withCCLF("coverage", coverageCols()), ver)})
	}},
	{"coverage_month", func(ver string) Doc {
		var branches []Sel
		for m := 1; m <= 12; m++ {
			cs := []ColDoc{{Name: "month", Path: fmt.Sprint(m), Type: "integer", Description: "Calendar month 1..12.", Tag: []Tag{{Name: "ansi/type", Value: "INTEGER"}}}}
			for _, f := range monthFields {
				cd := ColDoc{Name: f[0], Path: ext(fmt.Sprintf(f[2], m)) + ".valueCoding.code.first()", Type: "string", Description: f[1]}
				if tag, ok := cclf["coverage_month"][f[0]]; ok {
					cd.Tag = []Tag{{Name: "cclf", Value: tag}}
				}
				cs = append(cs, cd)
			}
			branches = append(branches, Sel{Column: cs})
		}
		head := pick(coverageCols(), "coverage_id", "patient_id", "part", "reference_year")
		return view("coverage_month", "Coverage", "One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.", ver,
			Sel{Column: cols(head, ver)}, Sel{UnionAll: branches})
	}},
	{"eob", func(ver string) Doc {
		return view("eob", "ExplanationOfBenefit", "One row per claim (ExplanationOfBenefit).", ver, Sel{Column: cols(withCCLF("eob", append(eobCols(), eobExtraCols()...)), ver)})
	}},
	{"eob_amount", func(ver string) Doc {
		branches := []Sel{
			{ForEach: "extension.where(valueMoney.exists())", Column: []ColDoc{
				{Name: "variable", Path: amtVar("url"), Type: "string", Description: varDesc},
				{Name: "amount", Path: "valueMoney.value", Type: "decimal", Description: "The amount, exact.", Tag: moneyTag}}},
			{ForEach: "benefitBalance.financial.where(usedMoney.exists())", Column: []ColDoc{
				{Name: "variable", Path: amtVar(fmt.Sprintf("type.coding.where(system = '%scodesystem/benefit-balance').code.first()", bb)), Type: "string", Description: varDesc},
				{Name: "amount", Path: "usedMoney.value", Type: "decimal", Description: "The amount, exact.", Tag: moneyTag}}},
		}
		if ver == STU3 {
			branches = append(branches, Sel{ForEach: "totalCost", Column: []ColDoc{
				{Name: "variable", Path: "'clm_tot_chrg_amt'", Type: "string", Description: varDesc},
				{Name: "amount", Path: "value", Type: "decimal", Description: "The amount, exact.", Tag: moneyTag}}})
		} else {
			branches = append(branches, Sel{ForEach: "total", Column: []ColDoc{
				{Name: "variable", Path: totalVar(), Type: "string", Description: varDesc},
				{Name: "amount", Path: "amount.value", Type: "decimal", Description: "The amount, exact.", Tag: moneyTag}}})
		}
		return view("eob_amount", "ExplanationOfBenefit", "One row per header money amount of a claim, keyed by BFD variable: money extensions, benefitBalance.financial usedMoney, and the totals (STU3 totalCost as clm_tot_chrg_amt; R4 total[] by BFD variable, with the carrier/DME priorpayerpaid total as prpayamt, the Part D drug-cost total as tot_rx_cst_amt and CARIN-only totals as total:{code}). Lossless companion of the eob columns.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{UnionAll: branches})
	}},
	{"eob_line", func(ver string) Doc {
		return view("eob_line", "ExplanationOfBenefit", "One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{ForEach: "item", Column: cols(withCCLF("eob_line", append(lineCols(), lineExtraCols()...)), ver)})
	}},
	{"eob_line_amount", func(ver string) Doc {
		return view("eob_line_amount", "ExplanationOfBenefit", "One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.", ver,
			Sel{Column: cols(parentCols(), ver)},
			Sel{ForEach: "item", Column: []ColDoc{lineCols()[0].render(ver)}, Select: []Sel{{ForEach: "adjudication.where(amount.exists())", Column: []ColDoc{
				{Name: "variable", Path: amtVar(fmt.Sprintf("category.coding.where(system = '%s').code.first()", adjSys)), Type: "string", Description: "BFD variable name the amount is keyed on (adjudication category coding of system https://bluebutton.cms.gov/resources/codesystem/adjudication, URL prefix removed)."},
				{Name: "amount", Path: "amount.value", Type: "decimal", Description: "The amount, exact.", Tag: moneyTag},
				{Name: "category_code", Path: fmt.Sprintf("category.coding.where(system != '%s').code.first()", adjSys), Type: "string", Description: "Other (CARIN) adjudication category code when sent (R4: submitted, eligible, paidtoprovider, ...); ambiguous on its own."},
			}}}})
	}},
	{"eob_diagnosis", func(ver string) Doc {
		return view("eob_diagnosis", "ExplanationOfBenefit", "One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{ForEach: "diagnosis.where(diagnosisCodeableConcept.exists())", Column: cols(withCCLF("eob_diagnosis", diagCols()), ver)})
	}},
	{"eob_procedure", func(ver string) Doc {
		return view("eob_procedure", "ExplanationOfBenefit", "One row per procedure of a claim.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{ForEach: "procedure", Column: cols(withCCLF("eob_procedure", procCols()), ver)})
	}},
	{"eob_care_team", func(ver string) Doc {
		return view("eob_care_team", "ExplanationOfBenefit", "One row per care team member of a claim.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{ForEach: "careTeam", Column: cols(withCCLF("eob_care_team", careTeamCols()), ver)})
	}},
	{"export_error", func(ver string) Doc {
		errCols := []ColDoc{{Name: "operation_outcome_id", Path: "id", Type: "string", Description: "OperationOutcome.id when sent."}}
		issueCols := []col{
			c("severity", "code", "issue.severity (error, warning, ...).", "severity"),
			c("code", "code", "issue.code (exception, suppressed, ...).", "code"),
			c("details_text", "string", "issue.details.text.", "details.text"),
			c("patient_id", "string", `Patient id from issue.location ["Patient","id",<id>] (or R4 expression).`,
				"iif(location.count() = 3 and location[0] = 'Patient', location[2], iif(expression.count() = 3 and expression[0] = 'Patient', expression[2], {}))"),
			c("location", "string", `issue.location (or R4 expression) joined with "/".`,
				"iif(location.exists(), location.join('/'), iif(expression.exists(), expression.join('/'), {}))"),
			c("diagnostics", "string", "issue.diagnostics.", "diagnostics"),
		}
		return view("export_error", "OperationOutcome", "One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).", ver,
			Sel{Column: errCols}, Sel{ForEachOrNull: "issue", Column: cols(issueCols, ver)})
	}},
}

// urlPart is the resource type or (id) the id of a relative "Type/id" request.url, found without a
// split(): the first '/' within the length of the longest FHIR type name. Absolute URLs, an empty
// id and anything with more segments give null (request_url keeps what was sent).
func urlPart(id bool) string {
	e := "{}"
	for k := 40; k >= 1; k-- {
		rest := fmt.Sprintf("request.url.substring(%d)", k+1)
		part := fmt.Sprintf("request.url.substring(0, %d)", k)
		if id {
			part = rest
		}
		e = fmt.Sprintf("iif(request.url.substring(%d, 1) = '/', iif(%s.contains('/') = false, %s, {}), %s)", k, rest, part, e)
	}
	return fmt.Sprintf("iif(request.url.contains('://'), {}, %s)", e)
}

func deletedResource(ver string) Doc {
	return view("deleted_resource", "Bundle", "One row per entry of the Bundles in a bulk export's deleted[] files (Bulk Data IG: request.method DELETE, request.url \"Type/id\"): resources the server deleted in the export window. A log like export_error: rows are never merged.", ver,
		Sel{ForEach: "entry", Column: cols([]col{
			c("resource_type", "code", `Resource type from request.url ("Patient/123" → Patient); null when the url is not "Type/id".`, urlPart(false)),
			c("resource_id", "code", `Resource id from request.url ("Patient/123" → 123); null when the url is not "Type/id".`, urlPart(true)),
			c("request_method", "code", "entry.request.method (DELETE).", "request.method"),
			c("request_url", "string", "entry.request.url exactly as sent.", "request.url"),
			c("full_url", "string", "entry.fullUrl when sent.", "fullUrl"),
			c("bundle_id", "string", "Bundle.id when sent.", "%resource.id"),
			c("bundle_timestamp", "instant", "Bundle.timestamp when sent.", "%resource.timestamp"),
		}, ver)})
}
