package synth

import (
	"strconv"
	"time"
)

type codeDisp struct{ code, disp string }

var (
	dualCodes = []codeDisp{
		{"00", "Not enrolled in Medicare for the month"}, {"NA", "Non-Medicaid"}, {"NA", "Non-Medicaid"}, {"NA", "Non-Medicaid"},
		{"02", "Qualified Medicare Beneficiary (QMB) and full Medicaid coverage, including prescription drugs"},
		{"08", "Other dual eligibles (not QMB, SLMB, QWDI, or QI) with full Medicaid coverage, including prescription Drugs"},
		{"**", "Enrolled in Medicare A and/or B, but no Part D enrollment data for the beneficiary. (This status was indicated as 'XX' for 2006-2009)"},
	}
	buyinCodes  = []codeDisp{{"3", "Part A and Part B"}, {"3", "Part A and Part B"}, {"3", "Part A and Part B"}, {"1", "Part A only"}, {"C", "Part A and Part B state buy-in"}}
	msCodes     = []codeDisp{{"10", "Aged without end-stage renal disease (ESRD)"}, {"10", "Aged without end-stage renal disease (ESRD)"}, {"10", "Aged without end-stage renal disease (ESRD)"}, {"11", "Aged with ESRD"}, {"20", "Disabled without ESRD"}, {"21", "Disabled with ESRD"}, {"31", "ESRD only"}}
	orecCodes   = []codeDisp{{"0", "Old age and survivor's insurance (OASI)"}, {"1", "Disability insurance benefits (DIB)"}, {"2", "End-stage renal disease (ESRD)"}, {"3", "Both DIB and ESRD"}}
	trmCodes    = []codeDisp{{"0", "Not Terminated"}, {"1", "Dead"}, {"2", "Non-payment of premium"}, {"3", "Voluntary withdrawal"}, {"9", "Other Termination"}}
	cstshrCodes = []codeDisp{{"09", "Beneficiary enrolled in Parts A and/or B, and Part D; no premium or cost sharing subsidy"}, {"09", "Beneficiary enrolled in Parts A and/or B, and Part D; no premium or cost sharing subsidy"},
		{"01", "Beneficiary enrolled in Parts A and/or B, and Part D; deemed eligible for LIS with 100% premium subsidy and no copayment"},
		{"05", "Beneficiary enrolled in Parts A and/or B, and Part D; enrolled in LIS with 100% premium subsidy and 15% copayment"}}
	hmoCodes = []codeDisp{{"0", "Not a member of an HMO"}, {"C", "Lock-in GHO to process all provider claims"}, {"1", "Non-lock-in, CMS to process provider claims"}}
	rdsCodes = []codeDisp{{"N", "No employer subsidization for the retired beneficiary"}, {"N", "No employer subsidization for the retired beneficiary"}, {"Y", "Employer subsidized for the retired beneficiary"}}
)

func lookup(tab []codeDisp, code string) string {
	for _, c := range tab {
		if c.code == code {
			return c.disp
		}
	}
	return ""
}

func dualDisplay(code string) string { return lookup(dualCodes, code) }

var twoDigit = [12]string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}

// coverages builds the four Medicare parts of a beneficiary.
func (g *Generator) coverages(p *Beneficiary) [4]Coverage {
	r := g.stream(p.MBI, tagCoverage, 0)
	refYear := strconv.Itoa(g.opts.Epoch.Year() - 1)
	birth, _ := time.Parse(time.DateOnly, p.BirthDate)
	entitled := birth.AddDate(65, 0, 0)
	if entitled.After(g.opts.Epoch) {
		entitled = g.opts.Epoch.AddDate(-r.between(1, 10), -r.intn(12), 0)
	}
	entitled = time.Date(entitled.Year(), entitled.Month(), 1, 0, 0, 0, 0, time.UTC)
	ms := pick(&r, msCodes)
	orec := pick(&r, orecCodes)
	esrd := "N"
	if ms.code == "11" || ms.code == "21" || ms.code == "31" {
		esrd = "Y"
	}
	dual := pick(&r, dualCodes).code
	buyin := pick(&r, buyinCodes).code
	inMA := r.chance(40)
	maContract := "H" + strconv.Itoa(1000+r.intn(9000))
	maPBP := pad3(1 + r.intn(120))
	hasD := r.chance(75)
	dContract := "S" + strconv.Itoa(1000+r.intn(9000))
	if inMA {
		dContract = maContract
	}
	dPBP := pad3(1 + r.intn(60))
	cst := pick(&r, cstshrCodes).code
	rds := pick(&r, rdsCodes).code
	status, trm := "active", "0"
	if p.DeathDate != "" {
		status, trm = "cancelled", "1"
	} else if r.chance(3) {
		status, trm = "cancelled", pick(&r, trmCodes[2:]).code
	}
	var out [4]Coverage
	for i, part := range [4]string{"A", "B", "C", "D"} {
		c := Coverage{
			ID:            "part-" + string(rune('a'+i)) + "-" + p.BeneID,
			Part:          part,
			Status:        status,
			ReferenceYear: refYear,
			LastUpdated:   g.lastUpdated(p.MBI, 1+i, time.Time{}),
		}
		switch part {
		case "A":
			c.PeriodStart = dateString(entitled)
			c.MSCode, c.OREC, c.CREC, c.ESRD, c.TerminationCode = ms.code, orec.code, orec.code, esrd, trm
		case "B":
			c.PeriodStart = dateString(entitled)
			c.MSCode, c.TerminationCode = ms.code, trm
			if buyin == "1" {
				c.Status = "cancelled"
			}
		case "C":
			if !inMA {
				c.Status = "cancelled"
			}
		case "D":
			c.MSCode = ms.code
			if hasD {
				c.PeriodStart = dateString(time.Date(max(entitled.Year(), 2006), 1, 1, 0, 0, 0, 0, time.UTC))
			} else {
				c.Status = "cancelled"
			}
		}
		for m := range 12 {
			cm := &c.Months[m]
			cm.Dual = dual
			switch part {
			case "A", "B":
				cm.BuyIn = buyin
			case "C":
				if inMA {
					cm.PartCContract, cm.PartCPBP, cm.PartCPlanType, cm.HMOIndicator = maContract, maPBP, "00", "C"
				} else {
					cm.PartCContract, cm.PartCPBP, cm.PartCPlanType, cm.HMOIndicator = "0", "000", "00", "0"
				}
			case "D":
				if hasD {
					cm.PartDContract, cm.PartDPBP, cm.PartDSegment, cm.CostShare, cm.RDSIndicator = dContract, dPBP, "000", cst, rds
				} else {
					cm.PartDContract, cm.PartDPBP, cm.PartDSegment, cm.CostShare, cm.RDSIndicator = "0", "000", "000", "00", "N"
				}
			}
		}
		out[i] = c
	}
	return out
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

var (
	cstshrAll = append(append([]codeDisp{}, cstshrCodes...), codeDisp{"00", "Not Medicare enrolled for the month"})
	partDNone = []codeDisp{{"0", "Not Medicare enrolled for the month"}}
)

func (g *Generator) appendCoverage(b []byte, p *Beneficiary, c *Coverage) []byte {
	r4 := g.opts.Version == R4
	w := jw{b: b}
	w.raw(`{"resourceType":"Coverage","id":"`)
	w.raw(c.ID)
	w.raw(`","meta":{"lastUpdated":"`)
	w.b = appendInstant(w.b, c.LastUpdated)
	if r4 {
		w.raw(`","profile":["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Coverage"]},"extension":[`)
	} else {
		w.raw(`"},"extension":[`)
	}
	if c.MSCode != "" {
		w.extCoding("ms_cd", c.MSCode, lookup(msCodes, c.MSCode))
		w.raw(",")
	}
	if c.Part == "A" {
		w.extCoding("orec", c.OREC, lookup(orecCodes, c.OREC))
		w.raw(",")
		w.extCoding("crec", c.CREC, lookup(orecCodes, c.CREC))
		w.raw(",")
		w.extCoding("esrd_ind", c.ESRD, "")
		w.raw(",")
		w.extCoding("a_trm_cd", c.TerminationCode, lookup(trmCodes, c.TerminationCode))
		w.raw(",")
	}
	if c.Part == "B" {
		w.extCoding("b_trm_cd", c.TerminationCode, lookup(trmCodes, c.TerminationCode))
		w.raw(",")
	}
	monthly := func(prefix string, get func(*CoverageMonth) string, tab []codeDisp) {
		for m := range 12 {
			w.extCoding(prefix+twoDigit[m], get(&c.Months[m]), lookup(tab, get(&c.Months[m])))
			w.raw(",")
		}
	}
	switch c.Part {
	case "C":
		monthly("ptc_cntrct_id_", func(m *CoverageMonth) string { return m.PartCContract }, nil)
		monthly("ptc_pbp_id_", func(m *CoverageMonth) string { return m.PartCPBP }, nil)
		monthly("ptc_plan_type_cd_", func(m *CoverageMonth) string { return m.PartCPlanType }, nil)
		monthly("hmo_ind_", func(m *CoverageMonth) string { return m.HMOIndicator }, hmoCodes)
	case "D":
		monthly("ptdcntrct", func(m *CoverageMonth) string { return m.PartDContract }, partDNone)
		monthly("ptdpbpid", func(m *CoverageMonth) string { return m.PartDPBP }, nil)
		monthly("sgmtid", func(m *CoverageMonth) string { return m.PartDSegment }, nil)
		monthly("cstshr", func(m *CoverageMonth) string { return m.CostShare }, cstshrAll)
		monthly("rdsind", func(m *CoverageMonth) string { return m.RDSIndicator }, rdsCodes)
	}
	w.raw(`{"url":"https://bluebutton.cms.gov/resources/variables/rfrnc_yr","valueDate":"`)
	w.raw(c.ReferenceYear)
	w.raw(`"}`)
	for m := range 12 {
		w.raw(",")
		w.extCoding("dual_"+twoDigit[m], c.Months[m].Dual, dualDisplay(c.Months[m].Dual))
	}
	if c.Part == "A" || c.Part == "B" {
		for m := range 12 {
			w.raw(",")
			w.extCoding("buyin"+twoDigit[m], c.Months[m].BuyIn, lookup(buyinCodes, c.Months[m].BuyIn))
		}
	}
	w.raw(`],"status":"`)
	w.raw(c.Status)
	if r4 {
		w.raw(`","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUBSIDIZ"}]},"subscriberId":"`)
		w.raw(p.MBI)
		w.raw(`","beneficiary":{"reference":"Patient/`)
		w.raw(p.BeneID)
		w.raw(`"},"relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/subscriber-relationship","code":"self","display":"Self"}]}`)
		if c.PeriodStart != "" {
			w.raw(`,"period":{"start":"`)
			w.raw(c.PeriodStart)
			w.raw(`"}`)
		}
		w.raw(`,"payor":[{"identifier":{"value":"Centers for Medicare and Medicaid Services"}}],"class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"group","display":"Group"}]},"value":"Medicare"},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan","display":"Plan"}]},"value":"Part `)
		w.raw(c.Part)
		w.raw(`"}]}`)
		return w.b
	}
	w.raw(`","type":{"coding":[{"system":"Medicare","code":"Part `)
	w.raw(c.Part)
	w.raw(`"}]},"beneficiary":{"reference":"Patient/`)
	w.raw(p.BeneID)
	w.raw(`"}`)
	if c.PeriodStart != "" {
		w.raw(`,"period":{"start":"`)
		w.raw(c.PeriodStart)
		w.raw(`"}`)
	}
	w.raw(`,"grouping":{"subGroup":"Medicare","subPlan":"Part `)
	w.raw(c.Part)
	w.raw(`"}}`)
	return w.b
}
