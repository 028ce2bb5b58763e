package synth

// R4 (Blue Button v2 / CARIN BB) ExplanationOfBenefit writer, modelled on
// BFD's v2 endpoint responses.

const (
	carinIdentType = `{"type":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType","code":"uc","display":"Unique Claim ID"}]},"system":"`
	carinNPIType   = `"type":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType","code":"npi","display":"National Provider Identifier"}]}`
	carinSIType    = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
	infoCat        = `{"system":"http://terminology.hl7.org/CodeSystem/claiminformationcategory","code":"info","display":"Information"}`
	bbInfo         = `{"system":"https://bluebutton.cms.gov/resources/codesystem/information","code":"https://bluebutton.cms.gov/resources/variables/`
)

func r4Profile(t ClaimType) string {
	switch t {
	case Inpatient, SNF, Hospice:
		return "C4BB-ExplanationOfBenefit-Inpatient-Institutional"
	case Outpatient:
		return "C4BB-ExplanationOfBenefit-Outpatient-Institutional"
	case PDE:
		return "C4BB-ExplanationOfBenefit-Pharmacy"
	}
	return "C4BB-ExplanationOfBenefit-Professional-NonClinician"
}

// siStart opens a supportingInfo entry; cat is the first coding (CARIN type
// or info), v the BFD variable of the second coding ("" for none).
func (w *jw) siStart(seq int, carinCode, carinDisp, v, vdisp string) {
	w.raw(`{"sequence":`)
	w.int(seq)
	w.raw(`,"category":{"coding":[`)
	if carinCode == "" {
		w.raw(infoCat)
	} else {
		w.coding(carinSIType, carinCode, carinDisp)
	}
	if v != "" {
		w.raw(`,` + bbInfo)
		w.raw(v)
		w.raw(`","display":"`)
		w.raw(vdisp)
		w.raw(`"}`)
	}
	w.raw(`]}`)
}

func (w *jw) siCode(seq int, carinCode, carinDisp, v, vdisp, sys, code, disp string) {
	w.siStart(seq, carinCode, carinDisp, v, vdisp)
	w.raw(`,"code":{"coding":[`)
	if sys == "" {
		w.coding2(bbVar, v, code, disp)
	} else {
		w.coding(sys, code, disp)
	}
	w.raw(`]}}`)
}

func (g *Generator) appendClaimR4(b []byte, p *Beneficiary, c *Claim, x *claimExtra) []byte {
	w := jw{b: b}
	prof := c.Type == Carrier || c.Type == DME
	inst := !prof && c.Type != PDE
	w.header(c, p, true)
	w.raw(`,"profile":["http://hl7.org/fhir/us/carin-bb/StructureDefinition/`)
	w.raw(r4Profile(c.Type))
	w.raw(`"]}`)
	if inst {
		w.raw(`,"contained":[{"resourceType":"Organization","id":"provider-org","meta":{"profile":["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Organization"]},"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PRN"}]},"value":"`)
		w.raw(c.CCN)
		w.raw(`"},{"type":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType","code":"npi"}]},"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"}],"active":true,"name":"`)
		w.raw(x.orgName)
		w.raw(`"}]`)
	}
	// header extensions
	if c.Type != PDE {
		nl, nld := nearLineCode(c.Type)
		w.raw(`,"extension":[`)
		w.extCoding("nch_near_line_rec_ident_cd", nl, nld)
		if prof {
			w.carrierHeaderExt(x)
			w.raw(`,`)
			w.extCoding("carr_clm_entry_cd", "1", "Original debit; void of original debit (If CLM_DISP_CD = 3, code 1 means voided original debit)")
		} else {
			for k := range x.hdrDefs {
				if r4HeaderExt(x.hdrDefs[k].name) {
					w.raw(`,`)
					w.extMoneyStr(x.hdrDefs[k].name, c.Amounts[k].Value, true)
				}
			}
			w.raw(`,`)
			w.extIdentifier("fi_doc_clm_cntl_num", c.ClaimID[4:])
			w.raw(`,{"url":"https://bluebutton.cms.gov/resources/variables/fi_clm_proc_dt","valueDate":"`)
			w.raw(c.ProcessedDate)
			w.raw(`"},`)
			w.extCoding("clm_mdcr_non_pmt_rsn_cd", "A", "Covered worker's compensation (Obsolete)")
			w.raw(`,`)
			w.extCoding("clm_srvc_clsfctn_type_cd", srvcClsfctn(c.Type), "")
			w.raw(`,`)
			w.extCoding("fi_num", x.fiNum, "")
			if c.Type == Hospice {
				w.raw(`,{"url":"https://bluebutton.cms.gov/resources/variables/bene_hospc_prd_cnt","valueQuantity":{"value":1}}`)
			}
		}
		w.raw(`]`)
	}
	w.raw(`,"identifier":[` + carinIdentType)
	if c.Type == PDE {
		w.raw(bbVar + `pde_id","value":"`)
	} else {
		w.raw(bbVar + `clm_id","value":"`)
	}
	w.raw(c.ClaimID)
	w.raw(`"},` + carinIdentType + `https://bluebutton.cms.gov/resources/identifier/claim-group","value":"`)
	w.raw(c.ClaimGroupID)
	w.raw(`"}],"status":"`)
	w.raw(c.Status)
	w.raw(`","type":{"coding":[`)
	w.claimTypeCodings(c, "http://terminology.hl7.org/CodeSystem/claim-type")
	w.raw(`]},"use":"claim","patient":{"reference":"Patient/`)
	w.raw(p.BeneID)
	w.raw(`"},"billablePeriod":{`)
	w.billablePeriod(c, inst)
	w.raw(`"},"created":"`)
	w.b = appendInstant(w.b, c.LastUpdated)
	w.raw(`","insurer":{"identifier":{"value":"CMS"}}`)
	switch {
	case inst:
		w.raw(`,"provider":{"reference":"#provider-org"},"facility":{"extension":[`)
		w.extCoding("clm_fac_type_cd", c.FacilityTypeCode, facTypeDisplay[c.FacilityTypeCode])
		w.raw(`]}`)
	case prof:
		w.raw(`,"provider":{"identifier":{"system":"https://bluebutton.cms.gov/resources/variables/carr_clm_blg_npi_num","value":"`)
		w.raw(x.groupNPI)
		w.raw(`"}}`)
	default:
		w.raw(`,"provider":{"identifier":{"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"}},"facility":{"extension":[`)
		w.extCoding("phrmcy_srvc_type_cd", "01", "Community/retail pharmacy")
		w.raw(`],"identifier":{"type":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType","code":"npi"}]},"value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"},"display":"`)
		w.raw(x.orgName)
		w.raw(`"}`)
	}
	w.raw(`,"outcome":"complete"`)
	if prof {
		w.raw(`,"disposition":"Debit accepted"`)
	}
	w.careTeam(c, x, true)
	g.supportingInfoR4(&w, c, x)
	// diagnoses
	if len(c.Diagnoses) > 0 {
		w.raw(`,"diagnosis":[`)
		poaN := 0
		for k := range c.Diagnoses {
			dg := &c.Diagnoses[k]
			if k > 0 {
				w.raw(`,`)
			}
			w.raw(`{`)
			if dg.POA != "" {
				v, n := "clm_poa_ind_sw", 1
				if dg.Type == "externalcauseofinjury" {
					v = "clm_e_poa_ind_sw"
				} else {
					poaN++
					n = poaN
				}
				w.raw(`"extension":[`)
				w.extCoding(v+itoa(n), dg.POA, poaDisplay[dg.POA])
				w.raw(`],`)
			}
			w.raw(`"sequence":`)
			w.int(dg.Sequence)
			w.raw(`,"diagnosisCodeableConcept":{"coding":[`)
			w.coding("http://hl7.org/fhir/sid/icd-10-cm", dg.Code, icdDisplay(dg.Code))
			w.raw(`,`)
			w.coding(sysICD10, dg.Code, icdDisplay(dg.Code))
			w.raw(`]},"type":[{"coding":[`)
			switch dg.Type {
			case "principal":
				w.coding("http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "principal", "Principal Diagnosis")
			case "admitting":
				w.coding("http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "admitting", "Admitting Diagnosis")
			case "secondary":
				w.coding("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimDiagnosisType", "secondary", "Secondary")
			case "externalcauseofinjury":
				w.coding("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimDiagnosisType", "externalcauseofinjury", "External Cause of Injury")
			default:
				w.coding("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimDiagnosisType", "other", "Other")
			}
			w.raw(`]}]}`)
		}
		w.raw(`]`)
	}
	w.procedures(c, true)
	w.raw(`,"insurance":[{"focal":true,"coverage":{`)
	w.coverageRef(c, p)
	w.raw(`"}}],"item":[`)
	g.items(&w, c, x, true)
	w.raw(`]`)
	if c.Type == PDE {
		tot, _ := c.Items[0].Amounts.Get("tot_rx_cst_amt")
		w.raw(`,"total":[{"category":{"coding":[{"system":"` + carinAdj + `","code":"drugcost","display":"Drug Cost"}]},"amount":{"value":`)
		w.raw(tot)
		w.raw(moneyR4 + `},{"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus","code":"other","display":"Other"}]},"amount":{"value":0.00` + moneyR4 + `}],"payment":{"date":"`)
		w.raw(c.PaymentDate)
		w.raw(`"}}`)
		return w.b
	}
	w.raw(`,"total":[{"category":{"coding":[{"system":"` + hl7Adj + `","code":"submitted","display":"Submitted Amount"},{"system":"https://bluebutton.cms.gov/resources/codesystem/adjudication","code":"https://bluebutton.cms.gov/resources/variables/clm_tot_chrg_amt","display":"Claim Total Charge Amount"}]},"amount":{"value":`)
	w.raw(c.TotalCharge)
	w.raw(moneyR4 + `}],"payment":{"amount":{"value":`)
	w.raw(c.PaymentAmount)
	w.raw(moneyR4 + `},"benefitBalance":[{"category":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ex-benefitcategory","code":"1","display":"Medical Care"}]},"financial":[`)
	first := true
	for k := range x.hdrDefs {
		a := &x.hdrDefs[k]
		if r4HeaderExt(a.name) {
			continue
		}
		if !first {
			w.raw(`,`)
		}
		first = false
		w.raw(`{"type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/benefit-balance","code":"` + bbVar)
		w.raw(a.name)
		w.raw(`","display":"`)
		w.raw(a.disp)
		w.raw(`"}]},"usedMoney":{"value":`)
		w.raw(c.Amounts[k].Value)
		w.raw(moneyR4 + `}`)
	}
	defs, vals := utilCounts(c, x, true)
	w.countEntries(defs, vals, !first)
	w.raw(`]}]}`)
	return w.b
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

func (g *Generator) supportingInfoR4(w *jw, c *Claim, x *claimExtra) {
	w.raw(`,"supportingInfo":[`)
	seq := 1
	next := func() int {
		if seq > 1 {
			w.raw(`,`)
		}
		seq++
		return seq - 1
	}
	if c.Type == PDE {
		f := c.PDE
		w.siStart(next(), "compoundcode", "Compound Code", "", "")
		w.raw(`,"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"RXDINV","display":"Rx dispense invoice"}]}}`)
		w.siStart(next(), "refillnum", "Refill Number", "", "")
		w.raw(`,"valueQuantity":{"value":`)
		w.raw(f.FillNumber)
		w.raw(`}}`)
		w.siStart(next(), "dayssupply", "Days Supply", "", "")
		w.raw(`,"valueQuantity":{"value":`)
		w.raw(f.DaysSupply)
		w.raw(`}}`)
		w.siCode(next(), "", "", infoDrugCvrg.v, infoDrugCvrg.vdisp, "", infoDrugCvrg.code, infoDrugCvrg.cdisp)
		w.siCode(next(), "", "", "daw_prod_slctn_cd", "Dispense as Written (DAW) Product Selection Code", "", f.DAWCode, lookup(dawCodes, f.DAWCode))
		for _, fx := range infoPDE {
			switch fx.v {
			case "rx_orgn_cd":
				w.siCode(next(), "rxorigincode", "Rx Origin Code", "", "", bbVar+fx.v, fx.code, fx.cdisp)
			case "brnd_gnrc_cd":
				w.siCode(next(), "brandgenericindicator", "Brand Generic Indicator", "", "", bbVar+fx.v, fx.code, fx.cdisp)
			default:
				w.siCode(next(), "", "", fx.v, fx.vdisp, "", fx.code, fx.cdisp)
			}
		}
		w.raw(`]`)
		return
	}
	w.siStart(next(), "clmrecvddate", "Claim Received Date", "nch_wkly_proc_dt", "NCH Weekly Claim Processing Date")
	w.raw(`,"timingDate":"`)
	w.raw(c.ProcessedDate)
	w.raw(`"}`)
	if c.Type == Carrier || c.Type == DME {
		w.raw(`]`)
		return
	}
	if c.AdmissionTypeCode != "" {
		w.siCode(next(), "admtype", "Information", "clm_ip_admsn_type_cd", "Claim Inpatient Admission Type Code", "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit", c.AdmissionTypeCode, lookup(admissionTypes, c.AdmissionTypeCode))
	}
	if c.AdmissionDate != "" {
		w.siStart(next(), "admissionperiod", "Admission Period", "", "")
		w.raw(`,"timingPeriod":{"start":"`)
		w.raw(c.AdmissionDate)
		if c.DischargeDate != "" {
			w.raw(`","end":"`)
			w.raw(c.DischargeDate)
		}
		w.raw(`"}}`)
	}
	if c.DRG != "" {
		w.siCode(next(), "", "", "clm_drg_cd", "Claim Diagnosis Related Group Code (or MS-DRG Code)", "", c.DRG, "")
	}
	w.siCode(next(), "typeofbill", "Type of Bill", "", "", bbVar+"clm_freq_cd", c.ClaimFrequencyCode, freqDisplay[c.ClaimFrequencyCode])
	w.siCode(next(), "discharge-status", "Discharge Status", "", "", bbVar+"ptnt_dschrg_stus_cd", c.DischargeStatus, lookup(dischargeStatus, c.DischargeStatus))
	w.siCode(next(), "", "", infoPrmryPyr.v, infoPrmryPyr.vdisp, "", infoPrmryPyr.code, infoPrmryPyr.cdisp)
	for _, f := range institutionalInfo(c.Type) {
		w.siCode(next(), "", "", f.v, f.vdisp, "", f.code, f.cdisp)
	}
	if c.Type == Inpatient || c.Type == SNF {
		w.siStart(next(), "", "", "nch_blood_pnts_frnshd_qty", "NCH Blood Pints Furnished Quantity")
		w.raw(`,"valueQuantity":{"value":0,"unit":"pint","system":"http://unitsofmeasure.org","code":"[pt_us]"}}`)
	}
	if c.Type == SNF {
		w.siStart(next(), "", "", "nch_qlfyd_stay_from_dt", "NCH Qualified Stay From Date")
		w.raw(`,"timingPeriod":{"start":"`)
		w.raw(x.qualStayFrom)
		w.raw(`","end":"`)
		w.raw(x.qualStayThru)
		w.raw(`"}}`)
	}
	if c.Type == SNF || c.Type == HHA {
		w.siCode(next(), "", "", "clm_pps_ind_cd", "Claim PPS Indicator Code", "", "2", "PPS bill; claim contains PPS indicator")
	}
	if c.Type == HHA {
		w.siStart(next(), "", "", "clm_hha_tot_visit_cnt", "Claim HHA Total Visit Count")
		w.raw(`,"valueQuantity":{"value":`)
		w.int(len(c.Items))
		w.raw(`}}`)
	}
	w.raw(`]`)
}

func (g *Generator) itemR4(w *jw, c *Claim, x *claimExtra, k int) {
	it := &c.Items[k]
	prof := c.Type == Carrier || c.Type == DME
	w.raw(`{`)
	switch {
	case prof:
		w.raw(`"extension":[`)
		if c.Type == DME {
			w.dmeLineExt(it, x)
			w.extCoding("dmerc_line_prcng_state_cd", x.prvdrState, "")
			w.raw(`,`)
			w.extCoding("dmerc_line_supplr_type_cd", "3", "Suppliers (other than sole proprietorship) for whom employer identification (EI) numbers are used in coding the ID field.")
			w.raw(`,`)
		} else {
			w.raw(`{"url":"https://bluebutton.cms.gov/resources/variables/carr_line_mtus_cnt","valueQuantity":{"value":`)
			w.raw(it.Quantity)
			w.raw(`}},`)
			w.extCoding("carr_line_mtus_cd", "3", "Services")
			w.raw(`,`)
		}
		w.extCoding("betos_cd", it.BETOS, betosDisplay[it.BETOS])
		w.raw(`,`)
		w.extCoding("line_prcsg_ind_cd", "A", "Allowed")
		w.raw(`,`)
		w.extCoding("line_service_deductible", "0", "Service Subject to Deductible")
		w.raw(`],`)
	case c.Type != PDE:
		w.raw(`"extension":[{"url":"https://bluebutton.cms.gov/resources/variables/rev_cntr_unit_cnt","valueQuantity":{"value":`)
		w.raw(it.Quantity)
		w.raw(`}}],`)
	}
	w.raw(`"sequence":`)
	w.int(it.Sequence)
	w.itemLinks(c, it, prof, `,"careTeamSequence":[`, `,"diagnosisSequence":[`)
	if c.Type == PDE {
		w.raw(`,"productOrService":{"coding":[`)
		w.coding(sysNDC, it.NDC, ndcDisplay(it.NDC))
		w.raw(`]},"servicedDate":"`)
		w.raw(it.ServiceStart)
		w.raw(`","quantity":{"value":`)
		w.raw(it.Quantity)
		w.raw(`}`)
	} else {
		w.itemCategory(c.Type)
		if it.RevenueCenter != "" {
			w.raw(`,"revenue":{"extension":[`)
			w.extCoding("rev_cntr_stus_ind_cd", "A", "Services not paid under OPPS; uses a different fee schedule (e.g., ambulance, PT, mammography)")
			w.raw(`],"coding":[`)
			w.coding2(bbVar, "rev_cntr", it.RevenueCenter, revDisplay[it.RevenueCenter])
			w.raw(`,`)
			w.coding("https://www.nubc.org/CodeSystem/RevenueCodes", "0", "")
			w.raw(`,`)
			w.coding2(bbVar, "rev_cntr_ddctbl_coinsrnc_cd", "0", "Charges are subject to deductible and coinsurance")
			w.raw(`]}`)
		}
		w.raw(`,"productOrService":{`)
		if it.NDC != "" {
			w.raw(`"extension":[{"url":"` + sysNDC + `","valueCoding":`)
			w.coding(sysNDC, it.NDC, ndcDisplay(it.NDC))
			w.raw(`}],`)
		}
		w.raw(`"coding":[`)
		w.coding(sysHCPCS, it.HCPCS, "")
		w.raw(`]}`)
		w.modifiers(it.Modifiers)
		if prof {
			w.servicedPeriodLocation(it, x)
			if c.Type == Carrier {
				w.raw(`,`)
				w.extCoding("carr_line_prcng_lclty_cd", "01", "LOCALITY 01")
			}
		}
		w.itemWhereQuantity(it, x, prof)
	}
	w.raw(`,"adjudication":[`)
	w.lineAdjudications(c.Type, it, x, true)
	w.raw(`]}`)
}
