package synth

import (
	"strconv"
	"strings"
	"time"
)

// claimExtra carries the values a claim's JSON needs beyond Record.Claim
// (codes the claims tables do not read). Deterministic like everything else.
type claimExtra struct {
	lineDefs, hdrDefs []amtDef
	hdrCents          []int64
	carrNum, ctrlNum  string
	fiNum             string
	orgName           string // organization / pharmacy display name
	groupNPI          string // carrier: performing group NPI; DME: supplier number
	qualStayFrom      string // SNF: qualifying hospital stay
	qualStayThru      string
	prvdrState        string
	utilDays          int
	pos               []string // per item place of service (carrier/DME)
	provZip           string
}

// claimTypeWeights: carrier claims dominate real Medicare data, then PDE.
var claimTypeWeights = []struct {
	t ClaimType
	w int
}{{Carrier, 38}, {PDE, 25}, {Outpatient, 12}, {DME, 6}, {Inpatient, 6}, {SNF, 5}, {HHA, 4}, {Hospice, 4}}

// claimCount is the deterministic number of claims of a beneficiary (2-12).
func (g *Generator) claimCount(mbi string) int {
	r := g.stream(mbi, tagClaimCount, 0)
	return r.between(2, 12)
}

// claimHead draws the type and first service date of claim i; they are
// the first values of the claim's stream, so lastUpdated can be derived
// without building the whole claim.
func (g *Generator) claimHead(p *Beneficiary, i int) (rng, ClaimType, time.Time) {
	r := g.stream(p.MBI, tagClaim, i)
	n := r.intn(100)
	t := Carrier
	for _, cw := range claimTypeWeights {
		if n < cw.w {
			t = cw.t
			break
		}
		n -= cw.w
	}
	// Services happen before Epoch (and before death): within 3 years.
	last := g.opts.Epoch.AddDate(0, 0, -14)
	if p.DeathDate != "" {
		if d, err := time.Parse(time.DateOnly, p.DeathDate); err == nil && d.Before(last) {
			last = d
		}
	}
	from := last.AddDate(0, 0, -r.between(0, 3*365-14))
	return r, t, from
}

// claimUpdated returns claim i's lastUpdated without building the claim:
// some time after the claim's first service date.
func (g *Generator) claimUpdated(p *Beneficiary, i int) time.Time {
	_, _, from := g.claimHead(p, i)
	return g.lastUpdated(p.MBI, 100+i, from.AddDate(0, 0, 10))
}

func idNum(p *Beneficiary, i int) string {
	return strconv.FormatUint(1_000_000_000_000_000+beneNum(p.MBI)*100+uint64(i), 10)
}

// facilityNPI derives an organization NPI from a random draw.
func orgNPI(r *rng) string { return npiFrom(uint64(100_000_000 + r.intn(100_000_000))) }

// practitionerNPI draws from a pool of 50,000 practitioners.
func (g *Generator) practitionerNPI(r *rng) string { return g.NPI(r.intn(50_000)) }

func ccn(r *rng, t ClaimType, state string) string {
	// CCN: 2-digit state code + 4-digit facility number in the type's range.
	lo, hi := 1, 879 // short-term hospitals
	switch t {
	case SNF:
		lo, hi = 5000, 6499
	case HHA:
		lo, hi = 7000, 8499
	case Hospice:
		lo, hi = 1500, 1799
	}
	st := 10 + int(state[0]+state[1])%50
	return strconv.Itoa(st) + pad4(r.between(lo, hi))
}

var fiNums = []string{"04111", "05901", "06014", "08201", "08299", "10111", "11501", "12001", "15101", "13201"}

func pad4(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

func cents(r *rng, lo, hi int) int64 { return int64(r.between(lo, hi)) }

// pct returns v*p/100 rounded down (integer cents).
func pct(v int64, p int) int64 { return v * int64(p) / 100 }

// claim fills c (and x) with claim i of the beneficiary.
func (g *Generator) claim(p *Beneficiary, covs *[4]Coverage, i int, c *Claim, x *claimExtra) {
	r, t, from := g.claimHead(p, i)
	*x = claimExtra{}
	id := idNum(p, i)
	*c = Claim{
		EOBID:        strings.ToLower(string(t)) + "-" + id,
		ClaimID:      id,
		ClaimGroupID: strconv.Itoa(r.between(100, 99999)),
		Type:         t,
		Status:       "active",
		LastUpdated:  g.claimUpdated(p, i),
	}
	x.prvdrState = p.State
	if r.chance(10) {
		x.prvdrState = pick(&r, stateZips).st
	}
	x.orgName = orgName(&r, t)
	x.groupNPI = orgNPI(&r)
	switch t {
	case Carrier, DME:
		g.professional(&r, p, c, x, from)
	case PDE:
		g.pharmacy(&r, p, covs, c, x, from)
	default:
		g.institutional(&r, p, c, x, from)
	}
	if t != PDE {
		c.ProcessedDate = dateString(from.AddDate(0, 0, 7+r.intn(30)))
	}
	// header amounts to strings
	if len(x.hdrDefs) > 0 {
		c.Amounts = make(Amounts, len(x.hdrDefs))
		for k, a := range x.hdrDefs {
			c.Amounts[k] = Amount{Name: a.name, Value: centsString(x.hdrCents[k])}
		}
	}
}

func (g *Generator) diagnoses(r *rng, c *Claim, n int, withTypes bool) {
	seq := 1
	if c.DRG != "" && g.opts.Version == STU3 {
		seq = 2 // STU3 writes the DRG as diagnosis 1 (packageCode only)
	}
	first := r.intn(len(icd10CM))
	inpatient := c.Type == Inpatient
	if inpatient {
		c.Diagnoses = append(c.Diagnoses, Diagnosis{Sequence: seq, Code: icd10CM[(first+7)%len(icd10CM)].code, Type: "admitting"})
		seq++
	}
	for k := range n {
		dg := Diagnosis{Sequence: seq, Code: icd10CM[(first+k*3)%len(icd10CM)].code}
		seq++
		if k == 0 {
			dg.Type = "principal"
		} else if withTypes {
			dg.Type = "other"
			if g.opts.Version == R4 && (c.Type == Carrier || c.Type == DME || c.Type == HHA) {
				dg.Type = "secondary"
			}
		} else if g.opts.Version == R4 {
			dg.Type = "secondary"
		}
		if inpatient {
			dg.POA = "Y"
			if k > 0 && r.chance(30) {
				dg.POA = "N"
			}
		}
		c.Diagnoses = append(c.Diagnoses, dg)
	}
	if withTypes && c.Type != HHA && r.chance(15) {
		e := pick(r, icd10External)
		dg := Diagnosis{Sequence: seq, Code: e.code, Type: "external-first"}
		if g.opts.Version == R4 {
			dg.Type = "externalcauseofinjury"
		}
		if inpatient {
			dg.POA = "N"
		}
		c.Diagnoses = append(c.Diagnoses, dg)
	}
}

func (g *Generator) professional(r *rng, p *Beneficiary, c *Claim, x *claimExtra, from time.Time) {
	dme := c.Type == DME
	c.FHIRClaimType = "professional"
	if dme {
		c.NCHClaimTypeCode = "82"
		x.lineDefs, x.hdrDefs = lineDME, hdrCarrier
	} else {
		c.NCHClaimTypeCode = "71"
		x.lineDefs, x.hdrDefs = lineCarrier, hdrCarrier
	}
	c.BillableStart, c.BillableEnd = dateString(from), dateString(from)
	x.carrNum = pick(r, carrierNums)
	x.ctrlNum = strconv.FormatUint(10_000_000_000_000+uint64(r.intn(90_000_000))*100_000+uint64(r.intn(100_000)), 10)
	x.provZip = p.Zip + pad4(r.intn(10000))
	g.diagnoses(r, c, r.between(1, 4), false)
	// performing providers (1-2); R4 role "performing", STU3 "primary"
	role := "primary"
	if g.opts.Version == R4 {
		role = "performing"
	}
	nct := 1 + r.intn(2)
	for k := range nct {
		c.CareTeam = append(c.CareTeam, CareTeamMember{Sequence: k + 1, NPI: g.practitionerNPI(r), Role: role, Specialty: pick(r, specialties).code})
	}
	nl := r.between(1, 6)
	var sb, al, pay, ded, prov, bene int64
	for k := range nl {
		it := Item{Sequence: k + 1}
		ct := c.CareTeam[r.intn(nct)]
		it.CareTeamSequence, it.RenderingNPI = ct.Sequence, ct.NPI
		var h codeDisp
		if dme {
			h = pick(r, hcpcsDME)
			x.pos = append(x.pos, "12")
			it.PlaceOfService = "12"
		} else {
			h = pick(r, hcpcsCarrier)
			it.PlaceOfService = pick(r, placeOfService).code
			x.pos = append(x.pos, it.PlaceOfService)
		}
		it.HCPCS, it.BETOS = h.code, h.disp
		if r.chance(30) {
			it.Modifiers = []string{pick(r, modifiers)}
		}
		if dme || r.chance(10) {
			it.NDC = pick(r, ndcs).code
		}
		it.ServiceStart, it.ServiceEnd = c.BillableStart, c.BillableEnd
		q := 1
		if dme || r.chance(20) {
			q = r.between(1, 90)
		}
		it.Quantity = strconv.Itoa(q)
		s := cents(r, 2500, 60000) * int64(min(q, 3))
		a := pct(s, r.between(40, 85))
		d := int64(0)
		if r.chance(15) {
			d = min(a, cents(r, 1000, 24000))
		}
		pm := pct(a-d, 80)
		co := a - d - pm
		amts := []int64{pm, 0, pm, d, 0, co, s, a}
		if dme {
			amts = append([]int64{a, s}, amts...)
		}
		it.Amounts = make(Amounts, len(amts))
		for j, v := range amts {
			it.Amounts[j] = Amount{Name: x.lineDefs[j].name, Value: centsString(v)}
		}
		sb, al, pay, ded, prov, bene = sb+s, al+a, pay+pm, ded+d, prov+pm, bene+0
		c.Items = append(c.Items, it)
	}
	x.hdrCents = []int64{0, ded, prov, bene, sb, al}
	c.PaymentAmount = centsString(pay)
	if g.opts.Version == R4 {
		c.TotalCharge = centsString(sb)
	}
}

func (g *Generator) institutional(r *rng, p *Beneficiary, c *Claim, x *claimExtra, from time.Time) {
	c.FHIRClaimType = "institutional"
	c.OrganizationNPI = orgNPI(r)
	c.CCN = ccn(r, c.Type, x.prvdrState)
	c.ClaimFrequencyCode = "1"
	x.fiNum = pick(r, fiNums)
	if r.chance(5) {
		c.ClaimFrequencyCode = "7"
	}
	days := 0
	var revs []string
	procs := 0
	switch c.Type {
	case Inpatient:
		c.NCHClaimTypeCode, c.FacilityTypeCode = "60", "1"
		days = r.between(2, 12)
		revs, x.lineDefs, x.hdrDefs = revInpatient, lineInst, hdrInpatient
		c.DRG = pick(r, drgCodes)
		c.AdmissionTypeCode = pick(r, admissionTypes).code
		procs = r.between(0, 4)
	case SNF:
		c.NCHClaimTypeCode, c.FacilityTypeCode = "20", "2"
		days = r.between(5, 40)
		revs, x.lineDefs, x.hdrDefs = revSNF, lineInst, hdrSNF
		c.DRG = pick(r, drgCodes)
		c.AdmissionTypeCode = pick(r, admissionTypes).code
		procs = r.between(0, 1)
	case Outpatient:
		c.NCHClaimTypeCode, c.FacilityTypeCode = "40", "1"
		revs, x.lineDefs, x.hdrDefs = revOutpatient, lineOutpt, hdrOutpatient
		procs = r.between(0, 1)
	case HHA:
		c.NCHClaimTypeCode, c.FacilityTypeCode = "10", "3"
		days = r.between(20, 59)
		revs, x.lineDefs, x.hdrDefs = revHHA, lineHHA, hdrPrpay
	case Hospice:
		c.NCHClaimTypeCode, c.FacilityTypeCode = "50", "8"
		days = r.between(10, 60)
		revs, x.lineDefs, x.hdrDefs = revHospice, lineHospc, hdrPrpay
	}
	to := from.AddDate(0, 0, days)
	if c.Type == SNF {
		x.qualStayFrom, x.qualStayThru = dateString(from.AddDate(0, 0, -r.between(4, 10))), dateString(from.AddDate(0, 0, -1))
	}
	c.BillableStart, c.BillableEnd = dateString(from), dateString(to)
	switch c.Type {
	case Inpatient, SNF, Hospice:
		c.AdmissionDate, c.DischargeDate = c.BillableStart, c.BillableEnd
	case HHA:
		c.AdmissionDate = c.BillableStart
	}
	ds := pick(r, dischargeStatus).code
	if c.Type == Outpatient {
		ds = "01"
	} else if c.Type == Hospice || c.Type == HHA {
		ds = "30"
		if r.chance(30) {
			ds = "01"
		}
	}
	if ds == "20" && p.DeathDate == "" {
		ds = "01" // only the deceased are discharged as expired
	}
	c.DischargeStatus = ds
	x.utilDays = days
	g.diagnoses(r, c, r.between(2, 6), true)
	for k := range procs {
		c.Procedures = append(c.Procedures, Procedure{Sequence: k + 1, Code: pick(r, icd10PCS).code, Date: dateString(from.AddDate(0, 0, r.intn(days+1)))})
	}
	// care team: attending, sometimes operating and other, rendering on lines
	att, op, oth, rend := "primary", "assist", "other", "primary"
	if g.opts.Version == R4 {
		att, op, oth, rend = "attending", "operating", "otheroperating", "performing"
	}
	c.CareTeam = append(c.CareTeam, CareTeamMember{Sequence: 1, NPI: g.practitionerNPI(r), Role: att})
	if c.Type == Inpatient || c.Type == Outpatient {
		if r.chance(50) {
			c.CareTeam = append(c.CareTeam, CareTeamMember{Sequence: len(c.CareTeam) + 1, NPI: g.practitionerNPI(r), Role: op})
		}
		if r.chance(20) {
			c.CareTeam = append(c.CareTeam, CareTeamMember{Sequence: len(c.CareTeam) + 1, NPI: g.practitionerNPI(r), Role: oth})
		}
	}
	rendSeq := len(c.CareTeam) + 1
	c.CareTeam = append(c.CareTeam, CareTeamMember{Sequence: rendSeq, NPI: g.practitionerNPI(r), Role: rend})
	nl := r.between(1, 8)
	var tot, ncv, pay, ded, coins, prov int64
	for k := range nl {
		it := Item{Sequence: k + 1, CareTeamSequence: rendSeq, RenderingNPI: c.CareTeam[rendSeq-1].NPI}
		it.RevenueCenter = pick(r, revs)
		it.HCPCS = pick(r, hcpcsInstitutional)
		if r.chance(25) {
			it.Modifiers = []string{pick(r, modifiers)}
		}
		if c.Type == Outpatient || c.Type == HHA || c.Type == Hospice {
			it.ServiceStart = dateString(from.AddDate(0, 0, r.intn(days+1)))
		}
		if c.Type == Outpatient && r.chance(15) {
			it.NDC = pick(r, ndcs).code
		}
		q := r.between(1, max(1, min(days, 30)))
		it.Quantity = strconv.Itoa(q)
		rate := cents(r, 1500, 250000)
		t := rate * int64(q)
		nc := int64(0)
		if r.chance(10) {
			nc = pct(t, r.between(5, 50))
		}
		pm := pct(t-nc, r.between(25, 60))
		var amts []int64
		switch c.Type {
		case Inpatient, SNF:
			amts = []int64{rate, t, nc}
		case HHA:
			amts = []int64{rate, t, nc, pm}
		case Hospice:
			amts = []int64{pm, 0, rate, t, nc, pm}
		case Outpatient:
			dd := int64(0)
			if r.chance(20) {
				dd = min(pct(t-nc, 10), 24000)
			}
			co := pct(t-nc-dd, 20)
			ded, coins = ded+dd, coins+co
			amts = []int64{0, dd, co, co, 0, 0, pm, 0, dd + co, pm, rate, t, nc}
		}
		it.Amounts = make(Amounts, len(amts))
		for j, v := range amts {
			it.Amounts[j] = Amount{Name: x.lineDefs[j].name, Value: centsString(v)}
		}
		tot, ncv, pay, prov = tot+t, ncv+nc, pay+pm, prov+pm
		c.Items = append(c.Items, it)
	}
	c.TotalCharge = centsString(tot)
	c.PaymentAmount = centsString(pay)
	switch c.Type {
	case Inpatient:
		ipd := int64(r.between(140000, 167600))
		x.hdrCents = []int64{pct(pay, 5), pct(pay, 3), 0, 0, pct(pay, 8), pct(pay, 2), ipd, 0, ncv, ipd, 0, 0, pct(pay, 7), pct(pay, 1), 0, 0, 0, 0, 0}
	case SNF:
		co := int64(0)
		if days > 20 {
			co = int64(days-20) * 20950
		}
		x.hdrCents = []int64{0, co, ncv, co, 0, 0, 0, 0, 0, 0, 0, 0}
	case Outpatient:
		x.hdrCents = []int64{0, ded, coins, prov, 0, 0, 0}
	default:
		x.hdrCents = []int64{0}
	}
}

func (g *Generator) pharmacy(r *rng, p *Beneficiary, covs *[4]Coverage, c *Claim, x *claimExtra, from time.Time) {
	c.FHIRClaimType = "pharmacy"
	x.lineDefs = linePDE
	c.OrganizationNPI = orgNPI(r)
	c.BillableStart, c.BillableEnd = dateString(from), dateString(from)
	c.PaymentDate = dateString(from.AddDate(0, 0, 14+r.intn(30)))
	n := pick(r, ndcs)
	days := pick(r, []int{30, 30, 30, 90, 90, 7, 14, 60})
	qty := days * r.between(1, 2)
	f := &PrescriptionFill{
		NDC: n.code, DaysSupply: strconv.Itoa(days), FillNumber: strconv.Itoa(r.between(0, 11)),
		Quantity: strconv.Itoa(qty), DAWCode: pick(r, dawCodes).code, PrescriberNPI: g.practitionerNPI(r),
		PharmacyNPI: c.OrganizationNPI, ServiceDate: c.BillableStart, DispensingStatus: "",
		PlanContract: covs[3].Months[0].PartDContract, PlanPBP: covs[3].Months[0].PartDPBP,
	}
	if f.PlanContract == "0" {
		f.PlanContract, f.PlanPBP = "S"+strconv.Itoa(1000+r.intn(9000)), pad3(1+r.intn(60))
	}
	c.PDE = f
	role := "primary"
	if g.opts.Version == R4 {
		role = "prescribing"
	}
	c.CareTeam = []CareTeamMember{{Sequence: 1, NPI: f.PrescriberNPI, Role: role}}
	total := cents(r, 400, 60000) * int64(max(1, days/30))
	copay := min(total, cents(r, 0, 4700))
	lics := int64(0)
	if r.chance(25) {
		lics = pct(copay, 80)
	}
	plan := total - copay
	amts := []int64{plan, total, 0, copay - lics, 0, lics, 0, total, 0}
	it := Item{Sequence: 1, CareTeamSequence: 1, RenderingNPI: f.PrescriberNPI, NDC: n.code, ServiceStart: c.BillableStart, Quantity: f.Quantity}
	it.Amounts = make(Amounts, len(amts))
	for j, v := range amts {
		it.Amounts[j] = Amount{Name: linePDE[j].name, Value: centsString(v)}
	}
	c.Items = []Item{it}
}

// orgName draws an upper-case provider name fitting the claim type.
func orgName(r *rng, t ClaimType) string {
	var kinds []string
	switch t {
	case Carrier:
		kinds = []string{"MEDICAL GROUP", "PHYSICIANS PC", "FAMILY PRACTICE", "CLINICAL LABORATORY"}
	case DME:
		kinds = []string{"MEDICAL SUPPLY", "HOME MEDICAL EQUIPMENT", "ORTHOTICS AND PROSTHETICS"}
	case PDE:
		kinds = []string{"PHARMACY", "DRUG STORE", "APOTHECARY"}
	case SNF:
		kinds = []string{"NURSING AND REHABILITATION CENTER", "CARE CENTER", "HEALTH CARE CENTER"}
	case HHA:
		kinds = []string{"HOME HEALTH SERVICES", "VISITING NURSE ASSOCIATION", "HOME CARE"}
	case Hospice:
		kinds = []string{"HOSPICE", "HOSPICE AND PALLIATIVE CARE"}
	default:
		kinds = []string{"GENERAL HOSPITAL", "MEDICAL CENTER", "COMMUNITY HOSPITAL", "REGIONAL MEDICAL CENTER"}
	}
	return strings.ToUpper(pick(r, families)) + " " + pick(r, kinds)
}
