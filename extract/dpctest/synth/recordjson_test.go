package synth_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// Helpers to navigate decoded JSON (numbers kept as json.Number text).

func obj(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func arr(v any, path ...string) []any {
	a, _ := obj(v, path...).([]any)
	return a
}

func str(v any, path ...string) string {
	switch x := obj(v, path...).(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// codeOf returns the code of the first coding of a CodeableConcept whose
// system ends with sfx.
func codeOf(cc any, sfx string) string {
	for _, c := range arr(cc, "coding") {
		if strings.HasSuffix(str(c, "system"), sfx) {
			return str(c, "code")
		}
	}
	return ""
}

func lastSeg(s string) string { return s[strings.LastIndex(s, "/")+1:] }

// extByName indexes an extension array by the last segment of url.
func extByName(v any) map[string]any {
	out := map[string]any{}
	for _, e := range arr(v, "extension") {
		out[lastSeg(str(e, "url"))] = e
	}
	return out
}

// infoByVar indexes information (STU3) / supportingInfo (R4) entries by the
// BFD variable or, failing that, the CARIN category code.
func infoByVar(eob map[string]any) map[string]any {
	out := map[string]any{}
	for _, key := range []string{"information", "supportingInfo"} {
		for _, e := range arr(eob, key) {
			cs := arr(e, "category", "coding")
			for _, c := range cs {
				out[lastSeg(str(c, "code"))] = e
			}
		}
	}
	return out
}

func amountsOf(adjs []any) map[string]string {
	out := map[string]string{}
	for _, a := range adjs {
		if obj(a, "amount") == nil {
			continue
		}
		cs := arr(a, "category", "coding")
		name := lastSeg(str(cs[len(cs)-1], "code"))
		out[name] = str(a, "amount", "value")
	}
	return out
}

func amountsMap(a synth.Amounts) map[string]string {
	out := map[string]string{}
	for _, x := range a {
		out[x.Name] = x.Value
	}
	return out
}

func TestRecordMatchesJSON(t *testing.T) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		g := gen(v, 21)
		seen := map[synth.ClaimType]bool{}
		for i := range 50 {
			m := g.MBI(i)
			rec := g.Record(m)
			checkPatient(t, v, g, rec)
			checkCoverages(t, g, rec)
			b, n := g.AppendNDJSON(nil, m, "ExplanationOfBenefit", time.Time{}, time.Time{})
			if n != len(rec.Claims) {
				t.Fatalf("%d EOBs, Record has %d claims", n, len(rec.Claims))
			}
			for k, l := range lines(b) {
				seen[rec.Claims[k].Type] = true
				checkClaim(t, v, decode(t, l), &rec.Claims[k], &rec.Patient)
			}
		}
		if len(seen) != len(synth.ClaimTypes) {
			t.Errorf("%v: only claim types %v seen", v, seen)
		}
	}
}

func checkPatient(t *testing.T, v synth.FHIRVersion, g *synth.Generator, rec synth.Record) {
	t.Helper()
	b, _ := g.AppendNDJSON(nil, rec.Patient.MBI, "Patient", time.Time{}, time.Time{})
	p := decode(t, b)
	r := rec.Patient
	got := map[string]string{
		"id": str(p, "id"), "family": str(arr(p, "name")[0], "family"), "gender": str(p, "gender"),
		"birthDate": str(p, "birthDate"), "deceased": str(p, "deceasedDateTime"),
		"state": str(arr(p, "address")[0], "state"), "zip": str(arr(p, "address")[0], "postalCode"),
		"race": str(extByName(p)["race"], "valueCoding", "code"),
	}
	want := map[string]string{"id": r.BeneID, "family": r.Family, "gender": r.Gender, "birthDate": r.BirthDate,
		"deceased": r.DeathDate, "state": r.State, "zip": r.Zip, "race": r.RaceCode}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("patient %s: JSON %v, Record %v", r.MBI, got, want)
	}
	given := arr(arr(p, "name")[0], "given")
	if str(given[0]) != r.Given || (r.Middle != "" && str(given[1]) != r.Middle) {
		t.Errorf("given names %v vs %q %q", given, r.Given, r.Middle)
	}
	mbiOK := false
	for _, id := range arr(p, "identifier") {
		if str(id, "system") == "http://hl7.org/fhir/sid/us-mbi" && str(id, "value") == r.MBI {
			cur := extByName(id)["identifier-currency"]
			if cur == nil && v == synth.R4 {
				cur = extByName(arr(id, "type", "coding")[0])["identifier-currency"]
			}
			mbiOK = str(cur, "valueCoding", "code") == "current"
		}
	}
	if !mbiOK {
		t.Errorf("patient %s: no current us-mbi identifier", r.MBI)
	}
}

func checkCoverages(t *testing.T, g *synth.Generator, rec synth.Record) {
	t.Helper()
	b, _ := g.AppendNDJSON(nil, rec.Patient.MBI, "Coverage", time.Time{}, time.Time{})
	for k, l := range lines(b) {
		c := decode(t, l)
		r := rec.Coverages[k]
		if str(c, "id") != r.ID || str(c, "status") != r.Status || str(c, "period", "start") != r.PeriodStart {
			t.Errorf("coverage %s: JSON id/status/period %s/%s/%s", r.ID, str(c, "id"), str(c, "status"), str(c, "period", "start"))
		}
		ext := extByName(c)
		code := func(name string) string { return str(ext[name], "valueCoding", "code") }
		if str(ext["rfrnc_yr"], "valueDate") != r.ReferenceYear || code("ms_cd") != r.MSCode || code("orec") != r.OREC ||
			code("crec") != r.CREC || code("esrd_ind") != r.ESRD || code("a_trm_cd")+code("b_trm_cd") != r.TerminationCode {
			t.Errorf("coverage %s: header extensions differ from Record %+v", r.ID, r)
		}
		for mo := range 12 {
			mm := fmt.Sprintf("%02d", mo+1)
			rm := r.Months[mo]
			got := []string{code("dual_" + mm), code("buyin" + mm), code("ptc_cntrct_id_" + mm), code("ptc_pbp_id_" + mm),
				code("ptc_plan_type_cd_" + mm), code("hmo_ind_" + mm), code("ptdcntrct" + mm), code("ptdpbpid" + mm),
				code("sgmtid" + mm), code("cstshr" + mm), code("rdsind" + mm)}
			want := []string{rm.Dual, rm.BuyIn, rm.PartCContract, rm.PartCPBP, rm.PartCPlanType, rm.HMOIndicator,
				rm.PartDContract, rm.PartDPBP, rm.PartDSegment, rm.CostShare, rm.RDSIndicator}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("coverage %s month %s: JSON %v, Record %v", r.ID, mm, got, want)
			}
		}
	}
}

func checkClaim(t *testing.T, v synth.FHIRVersion, e map[string]any, c *synth.Claim, p *synth.Beneficiary) {
	t.Helper()
	r4 := v == synth.R4
	fail := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v %s %s: JSON %v, Record %v", v, c.EOBID, what, got, want)
		}
	}
	fail("id", str(e, "id"), c.EOBID)
	idents := map[string]string{}
	for _, id := range arr(e, "identifier") {
		idents[lastSeg(str(id, "system"))] = str(id, "value")
	}
	fail("claim id", idents["clm_id"]+idents["pde_id"], c.ClaimID)
	fail("claim group", idents["claim-group"], c.ClaimGroupID)
	fail("status", str(e, "status"), c.Status)
	fail("eob-type", codeOf(obj(e, "type"), "eob-type"), string(c.Type))
	fail("nch_clm_type_cd", codeOf(obj(e, "type"), "nch_clm_type_cd"), c.NCHClaimTypeCode)
	fail("fhir claim type", codeOf(obj(e, "type"), "claimtype")+codeOf(obj(e, "type"), "claim-type"), c.FHIRClaimType)
	fail("patient", str(e, "patient", "reference"), "Patient/"+p.BeneID)
	fail("billable", str(e, "billablePeriod", "start")+"/"+str(e, "billablePeriod", "end"), c.BillableStart+"/"+c.BillableEnd)
	fail("lastUpdated", str(e, "meta", "lastUpdated"), c.LastUpdated.UTC().Format("2006-01-02T15:04:05.000+00:00"))
	fail("payment", str(e, "payment", "amount", "value"), c.PaymentAmount)
	fail("payment date", str(e, "payment", "date"), c.PaymentDate)
	info := infoByVar(e)
	fail("processed date", str(info["nch_wkly_proc_dt"], "timingDate"), c.ProcessedDate)
	fail("admission type", codeOf(obj(info["clm_ip_admsn_type_cd"], "code"), "PriorityTypeOfAdmitOrVisit"), c.AdmissionTypeCode)
	fail("claim frequency", codeOf(obj(info["clm_freq_cd"], "code"), "clm_freq_cd")+codeOf(obj(info["typeofbill"], "code"), "clm_freq_cd"), c.ClaimFrequencyCode)
	fail("discharge status", codeOf(obj(info["ptnt_dschrg_stus_cd"], "code"), "ptnt_dschrg_stus_cd")+codeOf(obj(info["discharge-status"], "code"), "ptnt_dschrg_stus_cd"), c.DischargeStatus)
	var total, drg, adm, dis, orgNPI, ccn, fac string
	if r4 {
		if ts := arr(e, "total"); len(ts) > 0 && c.Type != synth.PDE {
			total = str(ts[0], "amount", "value")
		}
		drg = codeOf(obj(info["clm_drg_cd"], "code"), "clm_drg_cd")
		adm, dis = str(info["admissionperiod"], "timingPeriod", "start"), str(info["admissionperiod"], "timingPeriod", "end")
		for _, ct := range arr(e, "contained") {
			for _, id := range arr(ct, "identifier") {
				if str(id, "system") == "http://hl7.org/fhir/sid/us-npi" {
					orgNPI = str(id, "value")
				} else {
					ccn = str(id, "value")
				}
			}
		}
		if c.Type == synth.PDE {
			orgNPI = str(e, "provider", "identifier", "value")
		}
	} else {
		total = str(e, "totalCost", "value")
		for _, d := range arr(e, "diagnosis") {
			if obj(d, "packageCode") != nil {
				drg = codeOf(obj(d, "packageCode"), "clm_drg_cd")
			}
		}
		adm, dis = str(e, "hospitalization", "start"), str(e, "hospitalization", "end")
		orgNPI, ccn = str(e, "organization", "identifier", "value"), str(e, "provider", "identifier", "value")
	}
	fac = str(extByName(obj(e, "facility"))["clm_fac_type_cd"], "valueCoding", "code")
	fail("total charge", total, c.TotalCharge)
	fail("drg", drg, c.DRG)
	fail("admission/discharge", adm+"/"+dis, c.AdmissionDate+"/"+c.DischargeDate)
	fail("organization npi", orgNPI, c.OrganizationNPI)
	if c.OrganizationNPI != "" && !synth.ValidNPI(c.OrganizationNPI) {
		t.Errorf("%s: organization NPI %s fails Luhn", c.EOBID, c.OrganizationNPI)
	}
	if c.CCN != "" && len(c.CCN) != 6 {
		t.Errorf("%s: CCN %q is not 6 characters", c.EOBID, c.CCN)
	}
	fail("ccn", ccn, c.CCN)
	fail("facility type", fac, c.FacilityTypeCode)

	// header amounts: STU3 extensions; R4 benefitBalance usedMoney + extensions
	hdr := map[string]string{}
	for name, x := range extByName(e) {
		if obj(x, "valueMoney") != nil {
			hdr[name] = str(x, "valueMoney", "value")
		}
	}
	for _, bb := range arr(e, "benefitBalance") {
		for _, f := range arr(bb, "financial") {
			if obj(f, "usedMoney") != nil {
				hdr[lastSeg(codeOf(obj(f, "type"), "benefit-balance"))] = str(f, "usedMoney", "value")
			}
		}
	}
	fail("header amounts", hdr, amountsMap(c.Amounts))

	// diagnoses (excluding the STU3 DRG packageCode entry)
	var diags []string
	for _, d := range arr(e, "diagnosis") {
		if obj(d, "packageCode") != nil {
			continue
		}
		poa := ""
		for name, x := range extByName(d) {
			if strings.Contains(name, "poa_ind_sw") {
				poa = str(x, "valueCoding", "code")
			}
		}
		var typ string
		if ts := arr(d, "type"); len(ts) > 0 {
			typ = str(arr(ts[0], "coding")[0], "code")
		}
		diags = append(diags, fmt.Sprintf("%s/%s/%s/%s", str(d, "sequence"), codeOf(obj(d, "diagnosisCodeableConcept"), "sid/icd-10"), typ, poa))
	}
	var wantDiags []string
	for _, d := range c.Diagnoses {
		if !strings.Contains(d.Code, ".") && d.Code != "" {
			wantDiags = append(wantDiags, fmt.Sprintf("%d/%s/%s/%s", d.Sequence, d.Code, d.Type, d.POA))
		}
	}
	fail("diagnoses", diags, wantDiags)

	var procs, wantProcs []string
	for _, pr := range arr(e, "procedure") {
		procs = append(procs, str(pr, "sequence")+"/"+codeOf(obj(pr, "procedureCodeableConcept"), "sid/icd-10")+"/"+str(pr, "date")[:10])
	}
	for _, pr := range c.Procedures {
		wantProcs = append(wantProcs, fmt.Sprintf("%d/%s/%s", pr.Sequence, pr.Code, pr.Date))
	}
	fail("procedures", procs, wantProcs)

	var team, wantTeam []string
	for _, ct := range arr(e, "careTeam") {
		team = append(team, str(ct, "sequence")+"/"+str(ct, "provider", "identifier", "value")+"/"+str(arr(ct, "role", "coding")[0], "code")+"/"+codeOf(obj(ct, "qualification"), "prvdr_spclty"))
	}
	for _, ct := range c.CareTeam {
		if !synth.ValidNPI(ct.NPI) {
			t.Errorf("%s: care team NPI %s fails Luhn", c.EOBID, ct.NPI)
		}
		wantTeam = append(wantTeam, fmt.Sprintf("%d/%s/%s/%s", ct.Sequence, ct.NPI, ct.Role, ct.Specialty))
	}
	fail("care team", team, wantTeam)

	items := arr(e, "item")
	if len(items) != len(c.Items) {
		t.Fatalf("%s: %d items, Record %d", c.EOBID, len(items), len(c.Items))
	}
	npiBySeq := map[int]string{}
	for _, ct := range c.CareTeam {
		npiBySeq[ct.Sequence] = ct.NPI
	}
	for k, it := range items {
		ri := &c.Items[k]
		link := arr(it, "careTeamLinkId")
		if r4 {
			link = arr(it, "careTeamSequence")
		}
		prod := obj(it, "service")
		if r4 {
			prod = obj(it, "productOrService")
		}
		var mods []string
		for _, md := range arr(it, "modifier") {
			mods = append(mods, codeOf(md, "hcpcs"))
		}
		ndc := codeOf(prod, "ndc") + str(extByName(it)["ndc"], "valueCoding", "code") + str(extByName(prod)["ndc"], "valueCoding", "code") +
			str(extByName(prod)["rev_cntr_ide_ndc_upc_num"], "valueCoding", "code")
		start := str(it, "servicedPeriod", "start") + str(it, "servicedDate")
		got := []string{str(it, "sequence"), str(link[0]), codeOf(prod, "hcpcs"), strings.Join(mods, ","), ndc,
			codeOf(obj(it, "revenue"), "rev_cntr"), codeOf(obj(it, "locationCodeableConcept"), "line_place_of_srvc_cd"),
			str(extByName(it)["betos_cd"], "valueCoding", "code"), start, str(it, "servicedPeriod", "end"), str(it, "quantity", "value")}
		want := []string{fmt.Sprint(ri.Sequence), fmt.Sprint(ri.CareTeamSequence), ri.HCPCS, strings.Join(ri.Modifiers, ","), ri.NDC,
			ri.RevenueCenter, ri.PlaceOfService, ri.BETOS, ri.ServiceStart, ri.ServiceEnd, ri.Quantity}
		fail(fmt.Sprintf("item %d", k+1), got, want)
		fail(fmt.Sprintf("item %d rendering npi", k+1), npiBySeq[ri.CareTeamSequence], ri.RenderingNPI)
		fail(fmt.Sprintf("item %d amounts", k+1), amountsOf(arr(it, "adjudication")), amountsMap(ri.Amounts))
		if len(ri.Amounts) != len(amountsOf(arr(it, "adjudication"))) {
			t.Errorf("%s item %d: duplicate amount names", c.EOBID, k+1)
		}
	}
	if c.Type == synth.PDE {
		f := c.PDE
		var days, fill string
		if r4 {
			days, fill = str(info["dayssupply"], "valueQuantity", "value"), str(info["refillnum"], "valueQuantity", "value")
		} else {
			q := extByName(obj(items[0], "quantity"))
			days, fill = str(q["days_suply_num"], "valueQuantity", "value"), str(q["fill_num"], "valueQuantity", "value")
		}
		ins := arr(e, "insurance")
		var cov any = obj(e, "insurance", "coverage")
		if len(ins) > 0 {
			cov = obj(ins[0], "coverage")
		}
		fail("pde", []string{days, fill, codeOf(obj(info["daw_prod_slctn_cd"], "code"), "daw_prod_slctn_cd"),
			str(extByName(cov)["plan_cntrct_rec_id"], "valueIdentifier", "value"), str(extByName(cov)["plan_pbp_rec_num"], "valueIdentifier", "value"), str(items[0], "servicedDate"), c.CareTeam[0].NPI},
			[]string{f.DaysSupply, f.FillNumber, f.DAWCode, f.PlanContract, f.PlanPBP, f.ServiceDate, f.PrescriberNPI})
		if len(f.NDC) != 11 {
			t.Errorf("NDC %q is not 11 digits", f.NDC)
		}
	}
}

// TestAmountsConsistent checks header totals are the sums of line amounts,
// as in real claims (so warehouse reconciliation queries behave).
func TestAmountsConsistent(t *testing.T) {
	g := gen(synth.STU3, 33)
	cents := func(s string) int64 {
		var w, f int64
		if _, err := fmt.Sscanf(s, "%d.%02d", &w, &f); err != nil || len(s) < 4 || s[len(s)-3] != '.' {
			t.Fatalf("amount %q is not d.dd", s)
		}
		return w*100 + f
	}
	for i := range 200 {
		for _, c := range g.Record(g.MBI(i)).Claims {
			sum := map[string]int64{}
			for _, it := range c.Items {
				for _, a := range it.Amounts {
					sum[a.Name] += cents(a.Value)
				}
			}
			switch c.Type {
			case synth.Carrier, synth.DME:
				sb, _ := c.Amounts.Get("nch_carr_clm_sbmtd_chrg_amt")
				if cents(sb) != sum["line_sbmtd_chrg_amt"] || cents(c.PaymentAmount) != sum["line_nch_pmt_amt"] {
					t.Fatalf("%s: header %s/%s vs line sums %v", c.EOBID, sb, c.PaymentAmount, sum)
				}
			case synth.PDE:
			default:
				if cents(c.TotalCharge) != sum["rev_cntr_tot_chrg_amt"] {
					t.Fatalf("%s: totalCost %s vs line sum %d", c.EOBID, c.TotalCharge, sum["rev_cntr_tot_chrg_amt"])
				}
			}
			keys := make([]string, 0, len(sum))
			for k := range sum {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(keys) == 0 {
				t.Fatalf("%s has no line amounts", c.EOBID)
			}
		}
	}
}
