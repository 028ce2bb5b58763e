package synth

import "strconv"

const infoCS = `"category":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/information","code":"https://bluebutton.cms.gov/resources/variables/`

// infoStart opens an STU3 information entry: sequence and BFD variable category.
func (w *jw) infoStart(seq int, v, vdisp string) {
	w.raw(`{"sequence":`)
	w.int(seq)
	w.raw(`,` + infoCS)
	w.raw(v)
	w.raw(`","display":"`)
	w.raw(vdisp)
	w.raw(`"}]}`)
}

// infoCode writes an STU3 information entry with a coded value.
func (w *jw) infoCode(seq int, v, vdisp, sys, code, disp string) {
	w.infoStart(seq, v, vdisp)
	w.raw(`,"code":{"coding":[`)
	if sys == "" {
		w.coding2(bbVar, v, code, disp)
	} else {
		w.coding(sys, code, disp)
	}
	w.raw(`]}}`)
}

func (w *jw) infoDate(seq int, v, vdisp, date string) {
	w.infoStart(seq, v, vdisp)
	w.raw(`,"timingDate":"`)
	w.raw(date)
	w.raw(`"}`)
}

// adjAmount writes one adjudication keyed on a BFD variable.
func (w *jw) adjAmount(a *amtDef, val string, r4 bool) {
	w.raw(`{`)
	w.b = w.adjAmountBody(w.b, a, val, r4)
}

// adjReason writes an adjudication that carries a coded reason, not money.
func (w *jw) adjReason(v, vdisp, code string, r4 bool) { w.adjReasonDisp(v, vdisp, code, "", r4) }

func (w *jw) adjReasonDisp(v, vdisp, code, cdisp string, r4 bool) {
	w.raw(`{"category":{"coding":[`)
	if r4 {
		w.raw(`{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator","code":"denialreason","display":"Denial Reason"}`)
	} else {
		w.raw(`{"system":"https://bluebutton.cms.gov/resources/codesystem/adjudication","code":"` + bbVar)
		w.raw(v)
		w.raw(`","display":"`)
		w.raw(vdisp)
		w.raw(`"}`)
	}
	w.raw(`]},"reason":{"coding":[`)
	w.coding2(bbVar, v, code, cdisp)
	w.raw(`]}}`)
}

// adjAmountBodyReason is the PDE plan-paid adjudication: amount plus the
// drug coverage status as reason (STU3).
func (w *jw) adjAmountBodyReason(b []byte, a *amtDef, val string) []byte {
	w.b = b
	w.raw(`"category":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/adjudication","code":"` + bbVar)
	w.raw(a.name)
	w.raw(`","display":"`)
	w.raw(a.disp)
	w.raw(`"}]},"reason":{"coding":[`)
	w.coding2(bbVar, "drug_cvrg_stus_cd", "C", "Covered")
	w.raw(`]},"amount":{"value":`)
	w.raw(val)
	w.raw(moneySTU3 + `}`)
	return w.b
}

// adjAmountBody writes the adjudication members after '{'.
func (w *jw) adjAmountBody(b []byte, a *amtDef, val string, r4 bool) []byte {
	w.b = b
	w.raw(`"category":{"coding":[`)
	if r4 && a.r4sys != "" {
		w.coding(a.r4sys, a.r4code, a.r4disp)
		w.raw(`,`)
	}
	w.raw(`{"system":"https://bluebutton.cms.gov/resources/codesystem/adjudication","code":"` + bbVar)
	w.raw(a.name)
	w.raw(`","display":"`)
	w.raw(a.disp)
	w.raw(`"}]},"amount":{"value":`)
	w.raw(val)
	w.moneyEnd(r4)
	w.raw(`}`)
	return w.b
}

func (w *jw) header(c *Claim, p *Beneficiary, r4 bool) {
	w.raw(`{"resourceType":"ExplanationOfBenefit","id":"`)
	w.raw(c.EOBID)
	w.raw(`","meta":{"lastUpdated":"`)
	w.b = appendInstant(w.b, c.LastUpdated)
	w.raw(`"`)
}

func (g *Generator) appendClaimSTU3(b []byte, p *Beneficiary, c *Claim, x *claimExtra) []byte {
	w := jw{b: b}
	w.header(c, p, false)
	w.raw(`}`)
	prof := c.Type == Carrier || c.Type == DME
	inst := !prof && c.Type != PDE
	// header extensions
	if c.Type != PDE {
		w.raw(`,"extension":[`)
		if prof {
			w.extMoney("prpayamt", 0, false)
			w.carrierHeaderExt(x)
			for k := 1; k < len(x.hdrDefs); k++ { // prpayamt (k=0) written first, as BFD does
				w.raw(`,`)
				w.extMoneyStr(x.hdrDefs[k].name, c.Amounts[k].Value, false)
			}
		} else {
			for k := range x.hdrDefs {
				w.extMoneyStr(x.hdrDefs[k].name, c.Amounts[k].Value, false)
				w.raw(`,`)
			}
			w.extCoding("clm_mdcr_non_pmt_rsn_cd", "A", "Covered worker's compensation (Obsolete)")
			w.raw(`,`)
			w.extIdentifier("fi_num", x.fiNum)
			w.raw(`,`)
			w.extIdentifier("fi_doc_clm_cntl_num", c.ClaimID[4:])
			w.raw(`,`)
			w.extIdentifier("fi_orig_clm_cntl_num", c.ClaimID[3:])
		}
		w.raw(`]`)
	}
	// identifiers
	if c.Type == PDE {
		w.raw(`,"identifier":[{"system":"https://bluebutton.cms.gov/resources/variables/pde_id","value":"`)
	} else {
		w.raw(`,"identifier":[{"system":"https://bluebutton.cms.gov/resources/variables/clm_id","value":"`)
	}
	w.raw(c.ClaimID)
	w.raw(`"},{"system":"https://bluebutton.cms.gov/resources/identifier/claim-group","value":"`)
	w.raw(c.ClaimGroupID)
	w.raw(`"}],"status":"`)
	w.raw(c.Status)
	w.raw(`","type":{"coding":[`)
	w.claimTypeCodings(c, "http://hl7.org/fhir/ex-claimtype")
	if c.Type != PDE {
		nl, nld := nearLineCode(c.Type)
		w.raw(`,`)
		w.coding2(bbVar, "nch_near_line_rec_ident_cd", nl, nld)
	}
	if inst {
		w.raw(`,`)
		w.coding2(bbVar, "clm_srvc_clsfctn_type_cd", srvcClsfctn(c.Type), "")
	}
	w.raw(`]},"patient":{"reference":"Patient/`)
	w.raw(p.BeneID)
	w.raw(`"},"billablePeriod":{`)
	w.billablePeriod(c, inst)
	w.raw(`"}`)
	if inst {
		w.raw(`,"provider":{"identifier":{"system":"https://bluebutton.cms.gov/resources/variables/prvdr_num","value":"`)
		w.raw(c.CCN)
		w.raw(`"}},"organization":{"identifier":{"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"},"display":"`)
		w.raw(x.orgName)
		w.raw(`"},"facility":{"extension":[`)
		w.extCoding("clm_fac_type_cd", c.FacilityTypeCode, facTypeDisplay[c.FacilityTypeCode])
		w.raw(`],"identifier":{"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"},"display":"`)
		w.raw(x.orgName)
		w.raw(`"}`)
	}
	if c.Type == PDE {
		w.raw(`,"organization":{"identifier":{"type":{"coding":[{"system":"` + sysNPI + `","code":"NPI","display":"National Provider Identifier"}]},"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"},"display":"`)
		w.raw(x.orgName)
		w.raw(`"},"facility":{"extension":[`)
		w.extCoding("phrmcy_srvc_type_cd", "01", "Community/retail pharmacy")
		w.raw(`],"identifier":{"type":{"coding":[{"system":"` + sysNPI + `","code":"NPI","display":"National Provider Identifier"}]},"system":"` + sysNPI + `","value":"`)
		w.raw(c.OrganizationNPI)
		w.raw(`"},"display":"`)
		w.raw(x.orgName)
		w.raw(`"}`)
	}
	if prof {
		w.raw(`,"disposition":"Debit accepted"`)
	}
	// information
	w.raw(`,"information":[`)
	seq := 1
	if c.Type != PDE {
		w.infoDate(seq, "nch_wkly_proc_dt", "NCH Weekly Claim Processing Date", c.ProcessedDate)
		seq++
	}
	if c.AdmissionTypeCode != "" {
		w.raw(`,`)
		w.infoCode(seq, "clm_ip_admsn_type_cd", "Claim Inpatient Admission Type Code", "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit", c.AdmissionTypeCode, lookup(admissionTypes, c.AdmissionTypeCode))
		seq++
	}
	if inst {
		w.raw(`,`)
		w.infoCode(seq, "clm_freq_cd", "Claim Frequency Code", "", c.ClaimFrequencyCode, freqDisplay[c.ClaimFrequencyCode])
		seq++
		w.raw(`,`)
		w.infoCode(seq, "ptnt_dschrg_stus_cd", "Patient Discharge Status Code", "", c.DischargeStatus, lookup(dischargeStatus, c.DischargeStatus))
		seq++
		w.raw(`,`)
		w.infoCode(seq, infoPrmryPyr.v, infoPrmryPyr.vdisp, "", infoPrmryPyr.code, infoPrmryPyr.cdisp)
		seq++
		for _, f := range institutionalInfo(c.Type) {
			w.raw(`,`)
			w.infoCode(seq, f.v, f.vdisp, "", f.code, f.cdisp)
			seq++
		}
		if c.Type == Inpatient || c.Type == SNF {
			w.raw(`,`)
			w.infoStart(seq, "nch_blood_pnts_frnshd_qty", "NCH Blood Pints Furnished Quantity")
			w.raw(`,"valueQuantity":{"value":0,"unit":"pint","system":"http://unitsofmeasure.org","code":"[pt_us]"}}`)
			seq++
		}
		if c.Type == SNF {
			w.raw(`,`)
			w.infoStart(seq, "nch_qlfyd_stay_from_dt", "NCH Qualified Stay From Date")
			w.raw(`,"timingPeriod":{"start":"`)
			w.raw(x.qualStayFrom)
			w.raw(`","end":"`)
			w.raw(x.qualStayThru)
			w.raw(`"}}`)
			seq++
		}
	}
	if c.Type == PDE {
		w.infoCode(seq, "daw_prod_slctn_cd", "Dispense as Written (DAW) Product Selection Code", "", c.PDE.DAWCode, lookup(dawCodes, c.PDE.DAWCode))
		seq++
		w.raw(`,`)
		w.infoCode(seq, "drug_cvrg_stus_cd", "Drug Coverage Status Code", "", "C", "Covered")
		seq++
		w.raw(`,`)
		w.infoCode(seq, "phrmcy_srvc_type_cd", "Pharmacy service type code", "", "01", "Community/retail pharmacy")
		seq++
		for _, f := range infoPDE {
			w.raw(`,`)
			w.infoCode(seq, f.v, f.vdisp, "", f.code, f.cdisp)
			seq++
		}
	}
	w.raw(`]`)
	w.careTeam(c, x, false)
	// diagnoses (DRG first, as a packageCode-only entry)
	if c.Type != PDE {
		w.raw(`,"diagnosis":[`)
		first := true
		if c.DRG != "" {
			w.raw(`{"sequence":1,"packageCode":{"coding":[`)
			w.coding2(bbVar, "clm_drg_cd", c.DRG, "")
			w.raw(`]}}`)
			first = false
		}
		poaN := 0
		for k := range c.Diagnoses {
			dg := &c.Diagnoses[k]
			if !first {
				w.raw(`,`)
			}
			first = false
			w.raw(`{`)
			if dg.POA != "" {
				v := "clm_poa_ind_sw"
				if dg.Type == "external-first" {
					v = "clm_e_poa_ind_sw"
				} else {
					poaN++
				}
				n := poaN
				if dg.Type == "external-first" {
					n = 1
				}
				w.raw(`"extension":[`)
				w.extCoding(v+strconv.Itoa(n), dg.POA, poaDisplay[dg.POA])
				w.raw(`],`)
			}
			w.raw(`"sequence":`)
			w.int(dg.Sequence)
			w.raw(`,"diagnosisCodeableConcept":{"coding":[`)
			w.coding(sysICD10, dg.Code, icdDisplay(dg.Code))
			w.raw(`]}`)
			if dg.Type != "" {
				w.raw(`,"type":[{"coding":[`)
				w.coding(bbCS+"diagnosis-type", dg.Type, diagTypeDisplay[dg.Type])
				w.raw(`]}]`)
			}
			w.raw(`}`)
		}
		w.raw(`]`)
	}
	w.procedures(c, false)
	w.raw(`,"insurance":{"coverage":{`)
	w.coverageRef(c, p)
	w.raw(`"}}`)
	if c.AdmissionDate != "" {
		w.raw(`,"hospitalization":{`)
		if c.Type == Hospice {
			w.raw(`"extension":[{"url":"https://bluebutton.cms.gov/resources/variables/bene_hospc_prd_cnt","valueQuantity":{"value":1}}],`)
		}
		w.raw(`"start":"`)
		w.raw(c.AdmissionDate)
		if c.DischargeDate != "" {
			w.raw(`","end":"`)
			w.raw(c.DischargeDate)
		}
		w.raw(`"}`)
	}
	// items
	w.raw(`,"item":[`)
	g.items(&w, c, x, false)
	w.raw(`]`)
	if c.TotalCharge != "" {
		w.raw(`,"totalCost":{"value":`)
		w.raw(c.TotalCharge)
		w.raw(moneySTU3)
	}
	if c.Type == PDE {
		w.raw(`,"payment":{"date":"`)
		w.raw(c.PaymentDate)
		w.raw(`"}`)
	} else {
		w.raw(`,"payment":{"amount":{"value":`)
		w.raw(c.PaymentAmount)
		w.raw(moneySTU3 + `}`)
	}
	if defs, vals := utilCounts(c, x, false); len(defs) > 0 {
		w.raw(`,"benefitBalance":[{"category":{"coding":[{"system":"http://hl7.org/fhir/benefit-category","code":"medical","display":"Medical Health Coverage"}]},"financial":[`)
		w.countEntries(defs, vals, false)
		w.raw(`]}]`)
	}
	w.raw(`}`)
	return w.b
}

func (g *Generator) itemSTU3(w *jw, c *Claim, x *claimExtra, k int) {
	it := &c.Items[k]
	prof := c.Type == Carrier || c.Type == DME
	w.raw(`{`)
	switch {
	case prof:
		w.raw(`"extension":[`)
		if c.Type == DME {
			w.dmeLineExt(it, x)
		} else {
			w.extCoding("carr_line_mtus_cd", "3", "Services")
			w.raw(`,{"url":"https://bluebutton.cms.gov/resources/variables/carr_line_mtus_cnt","valueQuantity":{"value":`)
			w.raw(it.Quantity)
			w.raw(`}},`)
		}
		w.extCoding("betos_cd", it.BETOS, betosDisplay[it.BETOS])
		w.raw(`,`)
		w.extCoding("line_service_deductible", "0", "Service Subject to Deductible")
		if it.NDC != "" {
			w.raw(`,{"url":"` + sysNDC + `","valueCoding":`)
			w.coding(sysNDC, it.NDC, ndcDisplay(it.NDC))
			w.raw(`}`)
		}
		w.raw(`],`)
	case c.Type != PDE:
		w.raw(`"extension":[{"url":"https://bluebutton.cms.gov/resources/variables/rev_cntr_ndc_qty","valueQuantity":{"value":`)
		w.raw(it.Quantity)
		w.raw(`,"unit":"Unit","system":"http://unitsofmeasure.org","code":"UN"}}],`)
	}
	w.raw(`"sequence":`)
	w.int(it.Sequence)
	w.itemLinks(c, it, prof, `,"careTeamLinkId":[`, `,"diagnosisLinkId":[`)
	if it.RevenueCenter != "" {
		w.raw(`,"revenue":{"extension":[`)
		w.extCoding("rev_cntr_stus_ind_cd", "A", "Services not paid under OPPS; uses a different fee schedule (e.g., ambulance, PT, mammography)")
		w.raw(`,`)
		w.extCoding("rev_cntr_ddctbl_coinsrnc_cd", "0", "Charges are subject to deductible and coinsurance")
		w.raw(`],"coding":[`)
		w.coding2(bbVar, "rev_cntr", it.RevenueCenter, revDisplay[it.RevenueCenter])
		w.raw(`]}`)
	}
	if c.Type == PDE {
		w.raw(`,"service":{"coding":[`)
		w.coding(sysNDC, it.NDC, ndcDisplay(it.NDC))
		w.raw(`]},"servicedDate":"`)
		w.raw(it.ServiceStart)
		w.raw(`","quantity":{"extension":[{"url":"https://bluebutton.cms.gov/resources/variables/fill_num","valueQuantity":{"value":`)
		w.raw(c.PDE.FillNumber)
		w.raw(`}},{"url":"https://bluebutton.cms.gov/resources/variables/days_suply_num","valueQuantity":{"value":`)
		w.raw(c.PDE.DaysSupply)
		w.raw(`}}],"value":`)
		w.raw(it.Quantity)
		w.raw(`}`)
	} else {
		w.itemCategory(c.Type)
		w.raw(`,"service":{`)
		if it.NDC != "" && !prof {
			w.raw(`"extension":[`)
			w.extCoding("rev_cntr_ide_ndc_upc_num", it.NDC, "")
			w.raw(`],`)
		}
		w.raw(`"coding":[`)
		if prof {
			w.raw(`{"system":"` + sysHCPCS + `","version":"5","code":"`)
			w.raw(it.HCPCS)
			w.raw(`"}`)
		} else {
			w.coding(sysHCPCS, it.HCPCS, "")
		}
		w.raw(`]}`)
		w.modifiers(it.Modifiers)
		if prof {
			w.servicedPeriodLocation(it, x)
			if c.Type == DME {
				w.raw(`,`)
				w.extCoding("dmerc_line_prcng_state_cd", x.prvdrState, "")
				w.raw(`,`)
				w.extCoding("dmerc_line_supplr_type_cd", "3", "Suppliers (other than sole proprietorship) for whom employer identification (EI) numbers are used in coding the ID field.")
			} else {
				w.raw(`,`)
				w.extCoding("carr_line_prcng_lclty_cd", "01", "LOCALITY 01")
			}
		}
		w.itemWhereQuantity(it, x, prof)
	}
	w.raw(`,"adjudication":[`)
	w.lineAdjudications(c.Type, it, x, false)
	if c.Type == Carrier || c.Type == DME {
		w.raw(`,`)
		w.adjReasonDisp("line_prcsg_ind_cd", "Line Processing Indicator Code", "A", "Allowed", false)
	}
	if c.Type == PDE {
		w.raw(`],"detail":[{"type":{"coding":[{"system":"http://hl7.org/fhir/v3/ActCode","code":"RXDINV","display":"Rx dispense invoice"}]}}]}`)
		return
	}
	w.raw(`]}`)
}

// extMoneyStr is extMoney with a pre-formatted decimal.
func (w *jw) extMoneyStr(v, val string, r4 bool) {
	w.raw(`{"url":"` + bbVar)
	w.raw(v)
	w.raw(`","valueMoney":{"value":`)
	w.raw(val)
	w.moneyEnd(r4)
	w.raw(`}`)
}
