package viewgen

import (
	"fmt"
	"strings"
)

// npiTypes are the ways BFD marks an identifier as an NPI: the us-npi system (STU3, R4
// contained resources), the carrier billing-NPI variable, or an R4 identifier type code npi.
func npiIdentifier() string {
	return fmt.Sprintf("(system = '%s' or system = '%scarr_clm_blg_npi_num' or type.coding.where(code = 'npi' or code = 'NPI').exists())", npiSys, v)
}

// luhn is true when $this is a ten-digit NPI whose check digit is right (Luhn over the
// 80840-prefixed number: the prefix contributes 24). Placeholders such as "0", UPINs and
// nine-digit numbers fail and stay out of NPI columns.
func luhn() string {
	var terms []string
	for i := 0; i < 10; i++ {
		d := fmt.Sprintf("$this.substring(%d, 1).toInteger()", i)
		if i%2 == 0 {
			terms = append(terms, fmt.Sprintf("(%s * 2) div 10 + (%s * 2) mod 10", d, d))
		} else {
			terms = append(terms, d)
		}
	}
	return fmt.Sprintf("$this.length() = 10 and (24 + %s) mod 10 = 0", strings.Join(terms, " + "))
}

// npiOf is the first Luhn-valid NPI among the identifiers in ids.
func npiOf(ids string) string {
	return fmt.Sprintf("%s.where(%s).value.where(%s).first()", ids, npiIdentifier(), luhn())
}

// extCode is the coded value of a BFD extension, whatever its value[x]: BFD writes the same
// variable as valueCoding in one version and valueIdentifier in the other (fi_num).
func extCode(name string) string { return extCodeOn("", name) }

// extCodeOn is extCode of an extension on the element base ("" = the resource or forEach node).
func extCodeOn(base, name string) string {
	e := ext(name)
	if base != "" {
		e = base + "." + e
	}
	// One scan of the extensions (select), not one per value[x] kind.
	return e + ".select(valueCoding.code | valueIdentifier.value | valueString | valueCode).first()"
}
func extQty(name string) string   { return ext(name) + ".valueQuantity.value.first()" }
func extMoney(name string) string { return ext(name) + ".valueMoney.value.first()" }

// bb is a benefitBalance.financial entry of a BFD variable.
func bbFin(name string) string {
	return fmt.Sprintf("benefitBalance.financial.where(type.coding.where(code = '%s%s').exists())", v, name)
}

// bbInt is a count BFD sends as benefitBalance usedUnsignedInt or (R4) as a supportingInfo
// valueQuantity keyed on the variable.
func bbInt(name string) string {
	return fmt.Sprintf("(%s.usedUnsignedInt | %s.valueQuantity.value).first()", bbFin(name), infocat("supportingInfo", name))
}

// anyInfo is the code of an information (STU3) / supportingInfo (R4) entry keyed on a BFD variable.
func anyInfo(version, name string) string {
	if version == R4 {
		return info("supportingInfo", name)
	}
	return info("information", name)
}

func both(stu3, r4 string) (string, string) { return stu3, r4 }

// eobExtraCols are the analyst-core header columns added in schema 2 (CCLF-aligned).
func eobExtraCols() []col {
	ctrl := fmt.Sprintf("(%s | %s).first()", extCode("carr_clm_cntl_num"), extCode("fi_doc_clm_cntl_num"))
	svcS, svcR := both(fmt.Sprintf("type.coding.where(system = '%sclm_srvc_clsfctn_type_cd').code.first()", v), extCode("clm_srvc_clsfctn_type_cd"))
	nearS, nearR := both(fmt.Sprintf("type.coding.where(system = '%snch_near_line_rec_ident_cd').code.first()", v), extCode("nch_near_line_rec_ident_cd"))
	hospS, hospR := both("hospitalization."+ext("bene_hospc_prd_cnt")+".valueQuantity.value.first()", ext("bene_hospc_prd_cnt")+".valueQuantity.value.first()")
	prpayS := fmt.Sprintf("(%s | %s.usedMoney.value).first()", extMoney("prpayamt"), bbFin("prpayamt"))
	prpayR := fmt.Sprintf("(%s.usedMoney.value | total.where(category.coding.where(code = 'priorpayerpaid').exists()).amount.value).first()", bbFin("prpayamt"))
	phS := fmt.Sprintf("(%s | %s).first()", extCodeOn("facility", "phrmcy_srvc_type_cd"), info("information", "phrmcy_srvc_type_cd"))
	phR := extCodeOn("facility", "phrmcy_srvc_type_cd")
	cvS := fmt.Sprintf("(%s | item.adjudication.reason.coding.where(system = '%sdrug_cvrg_stus_cd').code).first()", info("information", "drug_cvrg_stus_cd"), v)
	return []col{
		cc("CCLF1 CLM_CNTL_NUM", "claim_control_number", "code", "Claim control number: carr_clm_cntl_num (carrier, DME) or fi_doc_clm_cntl_num (institutional); nets adjustments with original_claim_control_number.", ctrl),
		cc("CCLF1 CLM_ORG_CNTL_NUM", "original_claim_control_number", "code", "Original claim control number of an adjustment (fi_orig_clm_cntl_num).", extCode("fi_orig_clm_cntl_num")),
		cc("CCLF1 CLM_QUERY_CD", "claim_query_code", "code", "Claim query code (claim_query_cd on billablePeriod): 3 final, 1 interim, 5 credit adjustment, ...", extCodeOn("billablePeriod", "claim_query_cd")),
		cc("CCLF1 CLM_BILL_CLSFCTN_CD", "service_classification_code", "code", "Claim service classification type code (clm_srvc_clsfctn_type_cd), second digit of the type of bill.", svcS, svcR),
		c("near_line_record_code", "code", "NCH near-line record identification code (nch_near_line_rec_ident_cd).", nearS, nearR),
		cc("CCLF7 CLM_ADJSMT_TYPE_CD", "adjustment_deletion_code", "code", "Part D adjustment/deletion code (adjstmt_dltn_cd).", anyInfo(STU3, "adjstmt_dltn_cd"), anyInfo(R4, "adjstmt_dltn_cd")),
		cc("CCLF5 CLM_CARR_PMT_DNL_CD", "payment_denial_code", "code", "Carrier claim payment denial code (carr_clm_pmt_dnl_cd).", extCode("carr_clm_pmt_dnl_cd")),
		cc("CCLF1 CLM_MDCR_NPMT_RSN_CD", "nonpayment_reason_code", "code", "Claim Medicare non-payment reason code (clm_mdcr_non_pmt_rsn_cd).", extCode("clm_mdcr_non_pmt_rsn_cd")),
		c("fi_claim_action_code", "code", "FI claim action code (fi_clm_actn_cd).", extCode("fi_clm_actn_cd")),
		cc("CCLF1 CLM_NCH_PRMRY_PYR_CD", "primary_payer_code", "code", "NCH primary payer code (nch_prmry_pyr_cd).", anyInfo(STU3, "nch_prmry_pyr_cd"), anyInfo(R4, "nch_prmry_pyr_cd")),
		c("primary_payer_paid_amount", "money", "Primary payer paid amount (prpayamt, carr_clm_prmry_pyr_pd_amt). R4 carrier/DME claims send it in total[] under CARIN priorpayerpaid, mislabelled with the clm_tot_chrg_amt variable: it is taken here, not as the total charge.", prpayS, prpayR),
		cc("CCLF1 CLM_ADMSN_SRC_CD", "admission_source_code", "code", "Source of admission (clm_src_ip_admsn_cd).", anyInfo(STU3, "clm_src_ip_admsn_cd"), anyInfo(R4, "clm_src_ip_admsn_cd")),
		c("patient_status_code", "code", "NCH patient status indicator (nch_ptnt_stus_ind_cd).", anyInfo(STU3, "nch_ptnt_stus_ind_cd"), anyInfo(R4, "nch_ptnt_stus_ind_cd")),
		c("utilization_day_count", "integer", "Utilization day count (clm_utlztn_day_cnt, benefitBalance).", bbInt("clm_utlztn_day_cnt")),
		c("non_utilization_day_count", "integer", "Non-utilization day count (clm_non_utlztn_days_cnt).", bbInt("clm_non_utlztn_days_cnt")),
		c("coinsurance_day_count", "integer", "Beneficiary total coinsurance days (bene_tot_coinsrnc_days_cnt).", bbInt("bene_tot_coinsrnc_days_cnt")),
		c("lifetime_reserve_days_used", "integer", "Lifetime reserve days used (bene_lrd_used_cnt).", bbInt("bene_lrd_used_cnt")),
		c("hha_visit_count", "integer", "HHA total visit count (clm_hha_tot_visit_cnt).", bbInt("clm_hha_tot_visit_cnt")),
		c("hospice_period_count", "integer", "Beneficiary hospice period count (bene_hospc_prd_cnt): STU3 on hospitalization, R4 on the claim.", hospS, hospR),
		cc("CCLF1 CLM_CNTRCTR_NUM", "contractor_number", "code", "Medicare contractor: carrier number (carr_num) or fiscal intermediary number (fi_num).", fmt.Sprintf("(%s | %s).first()", extCode("carr_num"), extCode("fi_num"))),
		c("clinical_trial_number", "code", "Clinical trial number (clm_clncl_tril_num).", extCode("clm_clncl_tril_num")),
		c("assignment_code", "code", "Carrier claim provider assignment indicator (asgmntcd).", extCode("asgmntcd")),
		cc("CCLF7 CLM_LINE_RX_SRVC_RFRNC_NUM", "rx_service_reference_number", "code", "Part D prescription service reference number (rx_srvc_rfrnc_num identifier).", fmt.Sprintf("identifier.where(system = '%srx_srvc_rfrnc_num').value.first()", v)),
		c("plan_contract_id", "code", "Part D plan contract id (plan_cntrct_rec_id on insurance.coverage).", extCodeOn("insurance.coverage", "plan_cntrct_rec_id")),
		c("plan_pbp_id", "code", "Part D plan benefit package (plan_pbp_rec_num on insurance.coverage).", extCodeOn("insurance.coverage", "plan_pbp_rec_num")),
		c("brand_generic_code", "code", "Part D brand/generic code (brnd_gnrc_cd).", anyInfo(STU3, "brnd_gnrc_cd"), anyInfo(R4, "brnd_gnrc_cd")),
		c("dispensing_status_code", "code", "Part D dispensing status (dspnsng_stus_cd).", anyInfo(STU3, "dspnsng_stus_cd"), anyInfo(R4, "dspnsng_stus_cd")),
		c("drug_coverage_status_code", "code", "Part D drug coverage status (drug_cvrg_stus_cd): STU3 information or line adjudication reason, R4 supportingInfo.", cvS, anyInfo(R4, "drug_cvrg_stus_cd")),
		c("rx_origin_code", "code", "Part D prescription origin (rx_orgn_cd).", anyInfo(STU3, "rx_orgn_cd"), anyInfo(R4, "rx_orgn_cd")),
		c("pharmacy_service_type_code", "code", "Part D pharmacy service type (phrmcy_srvc_type_cd).", phS, phR),
		c("catastrophic_coverage_code", "code", "Part D catastrophic coverage code (ctstrphc_cvrg_cd).", anyInfo(STU3, "ctstrphc_cvrg_cd"), anyInfo(R4, "ctstrphc_cvrg_cd")),
		c("billing_provider_id", "code", "Billing provider NPI-system identifier exactly as sent, valid or not (billing_npi takes only a Luhn-valid one).",
			fmt.Sprintf("organization.identifier.where(%s).value.first()", npiIdentifier()),
			fmt.Sprintf("(provider.identifier.where(%s).value | contained.where(resourceType = 'Organization').identifier.where(%s).value).first()", npiIdentifier(), npiIdentifier())),
		// 2.1.0: what non-CMS sources send beyond the 2.0.0 columns.
		c("billable_period_start_ts", "dateTime", "billablePeriod.start as an instant (UTC) when the source sent a time (FHIR dateTime); null for a plain date (all CMS sources). billable_period_start keeps the date as written.",
			"billablePeriod.start.where(toString().contains('T'))"),
		c("billable_period_end_ts", "dateTime", "billablePeriod.end as an instant (UTC) when the source sent a time; null for a plain date.",
			"billablePeriod.end.where(toString().contains('T'))"),
		c("claim_type_system", "string", "System of the coding claim_type_raw comes from (eob-type, HL7 claim-type, or a payer's own).", claimTypeCoding+".system"),
	}
}

// lineExtraCols are the analyst-core line columns added in schema 2.
func lineExtraCols() []col {
	loc := func(name string) string { return extCodeOn("locationCodeableConcept", name) }
	dedS, dedR := both(extCodeOn("revenue", "rev_cntr_ddctbl_coinsrnc_cd"), fmt.Sprintf("revenue.coding.where(system = '%srev_cntr_ddctbl_coinsrnc_cd').code.first()", v))
	procS, procR := both(fmt.Sprintf("adjudication.reason.coding.where(system = '%sline_prcsg_ind_cd').code.first()", v), extCode("line_prcsg_ind_cd"))
	reason := func(name string) string {
		return fmt.Sprintf("adjudication.reason.coding.where(system = '%s%s').code.first()", v, name)
	}
	return []col{
		cc("CCLF5 CLM_FED_TYPE_SRVC_CD", "type_of_service_code", "code", "CMS type of service (line_cms_type_srvc_cd, item.category).", fmt.Sprintf("category.coding.where(system = '%sline_cms_type_srvc_cd').code.first()", v)),
		c("mtus_count", "quantity", "Miles/time/units/services count (carr_line_mtus_cnt, dmerc_line_mtus_cnt).", fmt.Sprintf("(%s | %s).first()", extQty("carr_line_mtus_cnt"), extQty("dmerc_line_mtus_cnt"))),
		c("mtus_code", "code", "MTUS indicator code: carr_line_mtus_cd (carrier), or the unit code of the dmerc_line_mtus_cnt quantity (DME, system dmerc_line_mtus_cd).", fmt.Sprintf("(%s | %s.valueQuantity.code).first()", extCode("carr_line_mtus_cd"), ext("dmerc_line_mtus_cnt"))),
		cc("CCLF5 CLM_PRCNG_LCLTY_CD", "pricing_locality_code", "code", "Carrier line pricing locality (carr_line_prcng_lclty_cd).", loc("carr_line_prcng_lclty_cd")),
		cc("CCLF5 RNDRG_PRVDR_FIPS_ST_CD (BFD sends the SSA state code)", "provider_state_code", "code", "Line provider state code (prvdr_state_cd).", loc("prvdr_state_cd")),
		c("provider_zip_code", "code", "Line provider ZIP (prvdr_zip), leading zeros kept.", loc("prvdr_zip")),
		c("clia_lab_number", "code", "CLIA laboratory number (carr_line_clia_lab_num).", loc("carr_line_clia_lab_num")),
		c("dme_pricing_state_code", "code", "DME pricing state (dmerc_line_prcng_state_cd): STU3 on the location, R4 on the line.", loc("dmerc_line_prcng_state_cd"), extCode("dmerc_line_prcng_state_cd")),
		c("dme_supplier_type_code", "code", "DME supplier type (dmerc_line_supplr_type_cd): STU3 on the location, R4 on the line.", loc("dmerc_line_supplr_type_cd"), extCode("dmerc_line_supplr_type_cd")),
		c("supplier_number", "code", "DME supplier number (suplrnum).", fmt.Sprintf("(%s | %s).first()", extCode("suplrnum"), extCode("suplrnum"))),
		c("primary_payer_code", "code", "Line primary payer code (line_bene_prmry_pyr_cd).", extCode("line_bene_prmry_pyr_cd")),
		c("processing_indicator_code", "code", "Line processing indicator (line_prcsg_ind_cd): STU3 adjudication reason, R4 line extension.", procS, procR),
		c("payment_80_100_code", "code", "Line payment 80%/100% code (line_pmt_80_100_cd, on an adjudication).", extCodeOn("adjudication", "line_pmt_80_100_cd")),
		c("service_deductible_code", "code", "Line service deductible indicator (line_service_deductible).", extCode("line_service_deductible")),
		c("reduced_payment_code", "code", "Reduced payment physician assistant code (carr_line_rdcd_pmt_phys_astn_c).", reason("carr_line_rdcd_pmt_phys_astn_c")),
		c("revenue_denial_reason_code_1", "code", "First revenue center ANSI adjustment reason code (rev_cntr_1st_ansi_cd).", reason("rev_cntr_1st_ansi_cd")),
		c("revenue_denial_reason_code_2", "code", "Second revenue center ANSI adjustment reason code (rev_cntr_2nd_ansi_cd).", reason("rev_cntr_2nd_ansi_cd")),
		c("revenue_status_code", "code", "Revenue center status indicator (rev_cntr_stus_ind_cd).", extCodeOn("revenue", "rev_cntr_stus_ind_cd")),
		c("deductible_coinsurance_code", "code", "Revenue center deductible/coinsurance code (rev_cntr_ddctbl_coinsrnc_cd): STU3 revenue extension, R4 revenue coding.", dedS, dedR),
		c("ndc_quantity", "quantity", "NDC quantity (rev_cntr_ndc_qty): STU3 line extension; R4 institutional lines carry it in item.quantity.", extQty("rev_cntr_ndc_qty"),
			fmt.Sprintf("iif(revenue.exists(), quantity.value, %s)", extQty("rev_cntr_ndc_qty"))),
		c("ndc_quantity_unit", "code", "NDC quantity unit code (rev_cntr_ndc_qty_qlfr_cd as the quantity's code).", ext("rev_cntr_ndc_qty")+".valueQuantity.code.first()",
			fmt.Sprintf("iif(revenue.exists(), quantity.code, %s.valueQuantity.code.first())", ext("rev_cntr_ndc_qty"))),
		cc("CCLF5 CLM_RNDRG_PRVDR_TAX_NUM", "provider_tax_number", "code", "Line provider tax number (tax_num; identifier system https://bluebutton.cms.gov/resources/variables/tax_num): STU3 a linked care team member with that identifier system, R4 a line extension. Never in an NPI column, even when it looks like one.",
			fmt.Sprintf("%%resource.careTeam.where(%%context.careTeamLinkId contains sequence).provider.identifier.where(system = '%stax_num').value.first()", v),
			extCode("tax_num")),
		c("rendering_provider_id", "code", "Identifier, exactly as sent, of the first care team member the line links to (NPI, UPIN, ...); rendering_npi takes only a Luhn-valid NPI. Every link is in eob_line_care_team.",
			"%resource.careTeam.where(sequence = %context.careTeamLinkId.first()).provider.identifier.value.first()",
			"%resource.careTeam.where(sequence = %context.careTeamSequence.first()).provider.identifier.value.first()"),
	}
}
