package viewgen

import "fmt"

// cclf maps table → column → the CCLF field it corresponds to (CCLF1 Part A header, CCLF2
// revenue lines, CCLF3 procedures, CCLF4 diagnoses, CCLF5 Part B lines, CCLF6 DME, CCLF7 Part D,
// CCLF8 beneficiary, CCLF9 MBI/HICN crosswalk). Documentation only: it goes into the column tags.
var cclf = map[string]map[string]string{
	"eob": {
		"claim_id": "CCLF1/5/6/7 CUR_CLM_UNIQ_ID", "nch_claim_type_code": "CCLF1 CLM_TYPE_CD",
		"billable_period_start": "CCLF1 CLM_FROM_DT", "billable_period_end": "CCLF1 CLM_THRU_DT",
		"provider_ccn": "CCLF1 PRVDR_OSCAR_NUM", "facility_type_code": "CCLF1 CLM_BILL_FAC_TYPE_CD",
		"claim_frequency_code": "CCLF1 CLM_BILL_FREQ_CD", "drg_code": "CCLF1 DGNS_DRG_CD",
		"discharge_status_code": "CCLF1 BENE_PTNT_STUS_CD", "admission_type_code": "CCLF1 CLM_ADMSN_TYPE_CD",
		"principal_diagnosis_code": "CCLF1 PRNCPL_DGNS_CD", "total_charge_amount": "CCLF1 CLM_MDCR_INSTNL_TOT_CHRG_AMT",
		"payment_amount": "CCLF1 CLM_PMT_AMT", "billing_npi": "CCLF1 FAC_PRVDR_NPI_NUM / CCLF7 CLM_SRVC_PRVDR_GNRC_ID_NUM",
		"attending_npi": "CCLF1 ATNDG_PRVDR_NPI_NUM", "operating_npi": "CCLF1 OPRTG_PRVDR_NPI_NUM",
		"pde_days_supply": "CCLF7 CLM_LINE_DAYS_SUPLY_QTY", "pde_fill_number": "CCLF7 CLM_LINE_RX_FILL_NUM",
		"pde_daw_code": "CCLF7 CLM_DAW_PROD_SLCTN_CD", "dispensing_status_code": "CCLF7 CLM_DSPNSNG_STUS_CD",
		"pharmacy_service_type_code": "CCLF7 CLM_PHRMCY_SRVC_TYPE_CD", "payment_date": "CCLF7 CLM_LINE_FROM_DT (paid date)",
	},
	"eob_line": {
		"line_number": "CCLF2/5/6 CLM_LINE_NUM", "hcpcs_code": "CCLF2/5/6 CLM_LINE_HCPCS_CD",
		"hcpcs_modifier_1": "CCLF5/6 HCPCS_1_MDFR_CD", "hcpcs_modifier_2": "CCLF5/6 HCPCS_2_MDFR_CD",
		"ndc": "CCLF7 CLM_LINE_NDC_CD", "revenue_center_code": "CCLF2 CLM_LINE_PROD_REV_CTR_CD",
		"place_of_service_code": "CCLF5/6 CLM_POS_CD", "betos_code": "CCLF5/6 HCPCS_BETOS_CD",
		"service_start": "CCLF2/5/6 CLM_LINE_FROM_DT", "service_end": "CCLF2/5/6 CLM_LINE_THRU_DT",
		"quantity": "CCLF2/5/6/7 CLM_LINE_SRVC_UNIT_QTY", "rendering_npi": "CCLF5 RNDRG_PRVDR_NPI_NUM / CCLF7 CLM_PRSBNG_PRVDR_GNRC_ID_NUM",
		"allowed_amount": "CCLF5/6 CLM_LINE_ALOWD_CHRG_AMT", "paid_amount": "CCLF2/5/6 CLM_LINE_CVRD_PD_AMT",
		"primary_payer_code": "CCLF5/6 CLM_LINE_PRMRY_PYR_CD", "processing_indicator_code": "CCLF5/6 CLM_PRCSG_IND_CD",
		"patient_pay_amount": "CCLF7 CLM_LINE_BENE_PMT_AMT",
	},
	"eob_care_team": {
		"specialty_code": "CCLF5 CLM_PRVDR_SPCLTY_CD", "provider_type_code": "CCLF5 RNDRG_PRVDR_TYPE_CD",
		"participating_code": "CCLF5 CLM_RNDRG_PRVDR_PRTCPTG_CD", "npi": "CCLF5 RNDRG_PRVDR_NPI_NUM / CCLF1 *_PRVDR_NPI_NUM by role",
	},
	"coverage":       {"medicare_status_code": "CCLF8 BENE_MDCR_STUS_CD", "orec_code": "CCLF8 BENE_ORGNL_ENTLMT_RSN_CD"},
	"coverage_month": {"dual_status_code": "CCLF8 BENE_DUAL_STUS_CD", "buy_in_code": "CCLF8 BENE_ENTLMT_BUYIN_IND"},
	"eob_diagnosis":  {"code": "CCLF4 CLM_DGNS_CD", "sequence": "CCLF4 CLM_VAL_SQNC_NUM", "icd_version": "CCLF4 DGNS_PRCDR_ICD_IND", "poa_indicator": "CCLF4 CLM_POA_IND"},
	"eob_procedure":  {"code": "CCLF3 CLM_PRCDR_CD", "sequence": "CCLF3 CLM_VAL_SQNC_NUM", "icd_version": "CCLF3 DGNS_PRCDR_ICD_IND", "procedure_date": "CCLF3 CLM_PRCDR_PRFRM_DT"},
	"patient": {
		"mbi": "CCLF8 BENE_MBI_ID", "hicn": "CCLF8 BENE_HIC_NUM", "given_name": "CCLF8 BENE_1ST_NAME",
		"middle_name": "CCLF8 BENE_MIDL_NAME", "family_name": "CCLF8 BENE_LAST_NAME", "gender": "CCLF8 BENE_SEX_CD",
		"birth_date": "CCLF8 BENE_DOB", "death_date": "CCLF8 BENE_DEATH_DT", "state_code": "CCLF8 BENE_FIPS_STATE_CD (BFD: SSA or USPS code)",
		"zip_code": "CCLF8 BENE_ZIP_CD", "race_code": "CCLF8 BENE_RACE_CD",
	},
}

// withCCLF tags the columns of a table with their CCLF field (columns that already carry one keep it).
func withCCLF(table string, cs []col) []col {
	out := append([]col(nil), cs...)
	for i := range out {
		if f, ok := cclf[table][out[i].name]; ok && out[i].cclf == "" {
			out[i].cclf = f
		}
	}
	return out
}

func patientExtraCols() []col {
	hicnCurrent := fmt.Sprintf("identifier.where(system = 'http://hl7.org/fhir/sid/us-medicare' and (extension('%s').valueCoding.code = 'current' or type.coding.extension('%s').valueCoding.code = 'current')).value.first()", curSys, curSys)
	return []col{
		c("hicn", "code", "Current HICN: the us-medicare identifier marked current (identifier-currency). Every MBI and HICN, current and historic, is in patient_identifier.", hicnCurrent),
		cc("CCLF8 BENE_LINE_1_ADR", "address_line_1", "string", "First address line.", "address.first().line[0]"),
		cc("CCLF8 BENE_LINE_2_ADR", "address_line_2", "string", "Second address line.", "address.first().line[1]"),
		c("address_lines", "string", "Every address line, joined with \" | \" (BFD sends up to six).", "iif(address.first().line.exists(), address.first().line.join(' | '), {})"),
		cc("CCLF8 BENE_CITY_TEXT", "city", "string", "Address city.", "address.city.first()"),
	}
}

// detail columns shared by eob_detail, eob_line_detail, patient_detail and coverage_detail.
type detailExpr struct {
	source, variable, system, code, display, value, amount, quantity, date string
}

const null = "{}"

func (d detailExpr) columns() []ColDoc {
	or := func(s string) string {
		if s == "" {
			return null
		}
		return s
	}
	return []ColDoc{
		{Name: "source", Path: "'" + d.source + "'", Type: "string", Description: "Where the value sits in the resource (FHIR element path, indexes removed), e.g. item.locationCodeableConcept.extension."},
		{Name: "variable", Path: or(d.variable), Type: "string", Description: "BFD variable name (URL prefix https://bluebutton.cms.gov/resources/variables/ removed), or the URL/system/category as sent when it is not a BFD variable."},
		{Name: "system", Path: or(d.system), Type: "string", Description: "Code system of code (or identifier system) when sent."},
		{Name: "code", Path: or(d.code), Type: "string", Description: "Coded value, as sent (leading zeros kept)."},
		{Name: "display", Path: or(d.display), Type: "string", Description: "Display text of the code when sent."},
		{Name: "value", Path: or(d.value), Type: "string", Description: "Other value as text: identifier value, string, reference, boolean."},
		{Name: "amount", Path: or(d.amount), Type: "decimal", Description: "Money amount, exact.", Tag: moneyTag},
		{Name: "quantity", Path: or(d.quantity), Type: "decimal", Description: "Quantity or count, exact.", Tag: []Tag{{Name: "ansi/type", Value: "DECIMAL(18,6)"}}},
		{Name: "date", Path: or(d.date), Type: "date", Description: "Date value (or period start).", Tag: []Tag{{Name: "ansi/type", Value: "DATE"}}},
	}
}

func detExt(source string) Sel {
	return Sel{ForEach: source, Column: detailExpr{source: source, variable: amtVar("url"),
		system: "(valueCoding.system | valueQuantity.system).first()", code: "(valueCoding.code | valueQuantity.code).first()", display: "valueCoding.display",
		value:    "(valueIdentifier.value | valueString | valueCode | valueReference.reference | valueBoolean.toString() | valueInteger.toString()).first()",
		amount:   "valueMoney.value",
		quantity: "(valueQuantity.value | valueDecimal | valueUnsignedInt | valuePositiveInt).first()",
		date:     "(valueDate | valuePeriod.start.toString().substring(0, 10)).first()"}.columns()}
}

func detCoding(source string) Sel {
	return Sel{ForEach: source, Column: detailExpr{source: source, variable: amtVar("system"), system: "system", code: "code", display: "display"}.columns()}
}

func detIdent(source string) Sel {
	return Sel{ForEach: source, Column: detailExpr{source: source,
		variable: "iif(system.exists(), " + amtVar("system") + ", type.coding.code.first())",
		system:   "system", code: "type.coding.code.first()", display: "type.coding.display.first()", value: "value",
		date: "period.start.toString().substring(0, 10)"}.columns()}
}

func detInfo(source string) Sel {
	cat := fmt.Sprintf("category.coding.where(system = '%scodesystem/information').code.first()", bb)
	return Sel{ForEach: source, Column: detailExpr{source: source,
		variable: fmt.Sprintf("iif(%s.exists(), %s, category.coding.code.first())", cat, amtVar(cat)),
		system:   "code.coding.system.first()", code: "code.coding.code.first()", display: "code.coding.display.first()",
		value:  "(valueString | valueReference.reference | valueIdentifier.value | valueBoolean.toString()).first()",
		amount: "valueMoney.value", quantity: "valueQuantity.value",
		date: "(timingDate | timingPeriod.start.toString().substring(0, 10)).first()"}.columns()}
}

func detBenefit() Sel {
	return Sel{ForEach: "benefitBalance.financial", Column: detailExpr{source: "benefitBalance.financial",
		variable: amtVar(fmt.Sprintf("type.coding.where(system = '%scodesystem/benefit-balance').code.first()", bb)),
		system:   "type.coding.system.first()", code: "%resource.benefitBalance.category.coding.code.first()",
		amount: "usedMoney.value", quantity: "(usedUnsignedInt | allowedUnsignedInt).first().toDecimal()"}.columns()}
}

// totalVar names a total[] entry: its BFD variable, except the carrier/DME entry BFD files under
// CARIN priorpayerpaid with the clm_tot_chrg_amt variable (it is carr_clm_prmry_pyr_pd_amt, the
// STU3 prpayamt) and the Part D drug-cost total (tot_rx_cst_amt); a total with no BFD
// variable is named "total:" plus its CARIN category code.
func totalVar() string {
	bfd := fmt.Sprintf("category.coding.where(system = '%s').code.first()", adjSys)
	return fmt.Sprintf("iif(category.coding.where(code = 'priorpayerpaid').exists() and %s = '%sclm_tot_chrg_amt', 'prpayamt', iif(%s.exists(), %s, iif(category.coding.where(code = 'drugcost').exists(), 'tot_rx_cst_amt', 'total:' & category.coding.code.first())))",
		bfd, v, bfd, amtVar(bfd))
}

func detTotal() Sel {
	// value keeps the BFD variable the total was labelled with, so the mislabelled carrier/DME
	// total (variable prpayamt here) still shows clm_tot_chrg_amt as sent.
	bfd := fmt.Sprintf("category.coding.where(system = '%s').code.first()", adjSys)
	return Sel{ForEach: "total", Column: detailExpr{source: "total", variable: totalVar(),
		system: "category.coding.system.first()", code: "category.coding.code.first()", amount: "amount.value",
		value: fmt.Sprintf("iif(%s.exists(), %s, {})", bfd, amtVar(bfd))}.columns()}
}

func detAdjudication(source string) Sel {
	bfd := fmt.Sprintf("category.coding.where(system = '%s').code.first()", adjSys)
	return Sel{ForEach: source, Column: detailExpr{source: source,
		variable: fmt.Sprintf("iif(%s.exists(), %s, iif(reason.coding.system.exists(), %s, category.coding.code.first()))", bfd, amtVar(bfd), amtVar("reason.coding.system.first()")),
		system:   "reason.coding.system.first()", code: "reason.coding.code.first()", display: "reason.coding.display.first()",
		amount: "amount.value", quantity: "value"}.columns()}
}

func eobDetailBranches(ver string) []Sel {
	bs := []Sel{
		detExt("extension"), detExt("billablePeriod.extension"), detExt("facility.extension"),
		detExt("careTeam.extension"), detExt("diagnosis.extension"), detExt("insurance.coverage.extension"),
		detIdent("identifier"), detIdent("provider.identifier"), detIdent("organization.identifier"),
		detIdent("facility.identifier"), detIdent("referral.identifier"), detIdent("insurer.identifier"), detIdent("careTeam.provider.identifier"),
		detIdent("contained.identifier"), detIdent("contained.requester.agent.identifier"), detIdent("contained.recipient.identifier"),
		detCoding("type.coding"), detCoding("subType.coding"), detCoding("diagnosis.packageCode.coding"),
		detCoding("careTeam.qualification.coding"),
		detCoding("contained.code.coding"),
		detBenefit(),
	}
	if ver == STU3 {
		bs = append(bs, detExt("hospitalization.extension"), detInfo("information"),
			Sel{ForEach: "totalCost", Column: detailExpr{source: "totalCost", variable: "'clm_tot_chrg_amt'", amount: "value"}.columns()})
	} else {
		bs = append(bs, detInfo("supportingInfo"), detTotal())
	}
	return bs
}

func lineDetailBranches(ver string) []Sel {
	svc := "service"
	if ver == R4 {
		svc = "productOrService"
	}
	return []Sel{
		detExt("extension"), detExt(svc + ".extension"), detExt("locationCodeableConcept.extension"),
		detExt("revenue.extension"), detExt("quantity.extension"), detExt("adjudication.extension"),
		detCoding(svc + ".coding"), detCoding("revenue.coding"), detCoding("category.coding"),
		detCoding("locationCodeableConcept.coding"), detCoding("modifier.coding"), detCoding("detail.type.coding"),
		detAdjudication("adjudication"),
	}
}

var moreBuilders = []tableBuilder{
	{"deleted_resource", deletedResource},
	{"eob_line_care_team", func(ver string) Doc {
		link := "careTeamLinkId"
		if ver == R4 {
			link = "careTeamSequence"
		}
		ct := "%resource.careTeam.where(sequence = %context)"
		return view("eob_line_care_team", "ExplanationOfBenefit", "Bridge of every line → care team link (STU3 careTeamLinkId, R4 careTeamSequence), in link order: a line that links several members (rendering, referring, supplier) has a row for each.", ver,
			Sel{Column: cols(parentCols(), ver)},
			Sel{ForEach: "item", Column: []ColDoc{lineCols()[0].render(ver)}, Select: []Sel{{ForEach: link, Column: cols([]col{
				c("link_order", "integer", "Position of the link in the line's link list (0 = first).", "%rowIndex"),
				c("care_team_sequence", "integer", "The linked careTeam.sequence (joins eob_care_team.sequence).", "$this"),
				c("role", "code", "Role of the linked member as sent.", ct+".role.coding.code.first()"),
				c("npi", "code", "NPI of the linked member: Luhn-valid NPI-system identifiers only.", npiOf(ct+".provider.identifier")),
				c("provider_identifier", "code", "Identifier of the linked member exactly as sent.", ct+".provider.identifier.value.first()"),
				c("provider_identifier_type", "code", "Type code of that identifier (R4 npi, UPIN, ...) or, when untyped, its system.", fmt.Sprintf("(%s.provider.identifier.type.coding.code | %s.provider.identifier.system).first()", ct, ct)),
			}, ver)}}})
	}},
	{"patient_identifier", func(ver string) Doc {
		cur := fmt.Sprintf("(extension('%s').valueCoding.code | type.coding.extension('%s').valueCoding.code).first()", curSys, curSys)
		kind := fmt.Sprintf("iif(system = '%s', 'mbi', iif(system = 'http://hl7.org/fhir/sid/us-medicare', 'hicn', iif(system = '%sidentifier/mbi-hash', 'mbi_hash', iif(system = '%sidentifier/hicn-hash', 'hicn_hash', iif(system = '%sbene_id', 'bene_id', system)))))", mbiSys, bb, bb, v)
		return view("patient_identifier", "Patient", "One row per Patient identifier: every MBI and HICN (current and historic, CCLF9-style crosswalk), the hashes and bene_id.", ver,
			Sel{Column: cols([]col{c("patient_id", "string", "Patient.id (BFD bene_id).", "id")}, ver)},
			Sel{ForEach: "identifier", Column: cols([]col{
				cc("CCLF9 CRNT_NUM / PRVS_NUM", "kind", "code", "mbi, hicn, mbi_hash, hicn_hash, bene_id, or the system as sent.", kind),
				c("system", "string", "Identifier system as sent.", "system"),
				c("value", "code", "Identifier value, as sent.", "value"),
				c("currency", "code", "current or historic (BFD identifier-currency extension) when sent.", cur),
				c("is_current", "boolean", "True when marked current; false when marked historic; null when unmarked.", fmt.Sprintf("iif(%s.exists(), %s = 'current', {})", cur, cur)),
				c("type_code", "code", "Identifier type code (v2-0203 MB, MC, ...) when sent.", "type.coding.code.first()"),
				cc("CCLF9 PRVS_ID_EFCTV_DT", "period_start", "date", "Identifier period start when sent.", "period.start.toString().substring(0, 10)"),
				cc("CCLF9 PRVS_ID_OBSLT_DT", "period_end", "date", "Identifier period end when sent.", "period.end.toString().substring(0, 10)"),
			}, ver)})
	}},
	{"eob_detail", func(ver string) Doc {
		return view("eob_detail", "ExplanationOfBenefit", "Long tail of every claim-level BFD variable: one row per extension, identifier, BFD coding, information/supportingInfo entry, benefitBalance entry, total and contained-resource code of a claim, whether or not a typed column also carries it. Nothing a claim sends is dropped.", ver,
			Sel{Column: cols(parentCols(), ver)}, Sel{UnionAll: eobDetailBranches(ver)})
	}},
	{"eob_line_detail", func(ver string) Doc {
		return view("eob_line_detail", "ExplanationOfBenefit", "Long tail of every line-level BFD variable: one row per line extension, coding and adjudication (amounts and reason/denial codes).", ver,
			Sel{Column: cols(parentCols(), ver)},
			Sel{ForEach: "item", Column: []ColDoc{lineCols()[0].render(ver)}, Select: []Sel{{UnionAll: lineDetailBranches(ver)}}})
	}},
	{"patient_detail", func(ver string) Doc {
		return view("patient_detail", "Patient", "Long tail of a Patient: one row per extension (race, sex, monthly dual status, reference year, ...), nested extension and identifier-currency marker.", ver,
			Sel{Column: cols([]col{c("patient_id", "string", "Patient.id (BFD bene_id).", "id")}, ver)},
			Sel{UnionAll: []Sel{detExt("extension"), detExt("extension.extension"), detExt("identifier.extension"), detExt("identifier.type.coding.extension"), detIdent("identifier")}})
	}},
	{"coverage_detail", func(ver string) Doc {
		return view("coverage_detail", "Coverage", "Long tail of a Coverage: one row per extension (every monthly and yearly enrollment variable), identifier and class.", ver,
			Sel{Column: cols([]col{c("coverage_id", "string", `Coverage.id ("part-a-{bene}" ...).`, "id"), c("patient_id", "string", "Patient.id (BFD bene_id).", "beneficiary.getReferenceKey(Patient)")}, ver)},
			Sel{UnionAll: []Sel{detExt("extension"), detIdent("identifier"), detIdent("payor.identifier"),
				{ForEach: "class", Column: detailExpr{source: "class", variable: "type.coding.code.first()", system: "type.coding.system.first()", code: "value", display: "name"}.columns()}}})
	}},
}
