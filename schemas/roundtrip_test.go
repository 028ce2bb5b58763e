package schemas

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// roundTripBenes is how many synthetic beneficiaries the round trip uses (thousands of claims).
const roundTripBenes = 300

// lineAmounts maps eob_line money columns to the BFD variables they are keyed on, in the
// order the view looks for them (the first present wins). It mirrors schemas/*/eob_line.json.
var lineAmounts = []struct {
	col  string
	vars []string
}{
	{"submitted_amount", []string{"line_sbmtd_chrg_amt", "rev_cntr_tot_chrg_amt", "tot_rx_cst_amt"}},
	{"allowed_amount", []string{"line_alowd_chrg_amt"}},
	{"paid_amount", []string{"line_nch_pmt_amt", "rev_cntr_pmt_amt_amt", "cvrd_d_plan_pd_amt"}},
	{"provider_paid_amount", []string{"line_prvdr_pmt_amt", "rev_cntr_prvdr_pmt_amt"}},
	{"beneficiary_paid_amount", []string{"line_bene_pmt_amt", "rev_cntr_bene_pmt_amt"}},
	{"deductible_amount", []string{"line_bene_ptb_ddctbl_amt", "rev_cntr_cash_ddctbl_amt"}},
	{"coinsurance_amount", []string{"line_coinsrnc_amt", "rev_cntr_coinsrnc_wge_adjstd_c"}},
	{"patient_pay_amount", []string{"rev_cntr_ptnt_rspnsblty_pmt", "ptnt_pay_amt"}},
	{"primary_payer_paid_amount", []string{"line_bene_prmry_pyr_pd_amt", "rev_cntr_1st_msp_pd_amt"}},
	{"noncovered_amount", []string{"rev_cntr_ncvrd_chrg_amt"}},
	{"rate_amount", []string{"rev_cntr_rate_amt"}},
}

// firstAmount is the value of the first amount (in emission order) named in vars.
func firstAmount(a synth.Amounts, vars []string) string {
	for _, x := range a {
		for _, v := range vars {
			if x.Name == v {
				return x.Value
			}
		}
	}
	return ""
}

// normNum strips trailing fractional zeros so "60.000000" and "60" compare equal.
func normNum(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func instantText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

// indexed gives rows of a table keyed by the values of some columns.
type indexed struct {
	tr  *tableRows
	idx map[string]row
}

func index(t *testing.T, tr *tableRows, cols ...string) indexed {
	t.Helper()
	ix := indexed{tr: tr, idx: map[string]row{}}
	for _, r := range tr.rows {
		var k []string
		for _, c := range cols {
			k = append(k, str(tr.get(t, r, c)))
		}
		key := strings.Join(k, "|")
		if _, dup := ix.idx[key]; dup {
			t.Fatalf("duplicate key %s", key)
		}
		ix.idx[key] = r
	}
	return ix
}

// cmp records mismatches; "" expected means null.
type cmp struct {
	t      *testing.T
	errs   int
	checks int
}

func (c *cmp) eq(what, col, want string, got *string) {
	c.checks++
	g := ""
	if got != nil {
		g = *got
	}
	if col == "quantity" || strings.HasSuffix(col, "_days_supply") || strings.HasSuffix(col, "_fill_number") {
		g, want = normNum(g), normNum(want)
	}
	if g != want || (got == nil) != (want == "") {
		c.errs++
		if c.errs <= 30 {
			c.t.Errorf("%s.%s = %s, generator recorded %q", what, col, str(got), want)
		}
	}
}

func (c *cmp) row(ix indexed, what, key string, want map[string]string) {
	r, ok := ix.idx[key]
	if !ok {
		c.errs++
		c.t.Errorf("%s: no row for %s", what, key)
		return
	}
	for col, w := range want {
		c.eq(what+"["+key+"]", col, w, ix.tr.get(c.t, r, col))
	}
}

func institutional(t synth.ClaimType) bool {
	switch t {
	case synth.HHA, synth.Hospice, synth.Inpatient, synth.Outpatient, synth.SNF:
		return true
	}
	return false
}

// TestRoundTripSynthetic runs the views over thousands of synthetic claims of every type and
// checks every row against the generator's own record of what it wrote.
func TestRoundTripSynthetic(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			v := synth.STU3
			if version == R4 {
				v = synth.R4
			}
			g := synth.New(synth.Options{Seed: 7, Version: v, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
			names := []string{"patient.ndjson", "coverage.ndjson", "eob.ndjson"}
			// Pre-sized: growing one large buffer line by line would dominate the test's time.
			data := map[string][]byte{names[0]: make([]byte, 0, 1<<20), names[1]: make([]byte, 0, 8<<20), names[2]: make([]byte, 0, 64<<20)}
			recs := make([]synth.Record, roundTripBenes)
			counted := map[string]int{}
			for i := range roundTripBenes {
				mbi := g.MBI(i)
				var n int
				data[names[0]], n = g.AppendNDJSON(data[names[0]], mbi, synth.ResourcePatient, time.Time{}, time.Time{})
				counted["Patient"] += n
				data[names[1]], n = g.AppendNDJSON(data[names[1]], mbi, synth.ResourceCoverage, time.Time{}, time.Time{})
				counted["Coverage"] += n
				data[names[2]], n = g.AppendNDJSON(data[names[2]], mbi, synth.ResourceEOB, time.Time{}, time.Time{})
				counted["EOB"] += n
				recs[i] = g.Record(mbi)
			}
			out, st := runEngine(t, version, names, data)
			if st.Quarantined != 0 {
				t.Fatalf("%d lines quarantined", st.Quarantined)
			}

			// Row counts per table equal the resources and their items.
			want := map[string]int{}
			types := map[synth.ClaimType]int{}
			for _, r := range recs {
				want[TablePatient]++
				want[TableCoverage] += len(r.Coverages)
				want[TableCoverageMonth] += 12 * len(r.Coverages)
				want[TableEOB] += len(r.Claims)
				for _, c := range r.Claims {
					types[c.Type]++
					want[TableEOBLine] += len(c.Items)
					want[TableEOBAmount] += len(c.Amounts) + len(totalAmounts(version, c))
					for _, it := range c.Items {
						want[TableEOBLineAmount] += len(it.Amounts)
					}
					want[TableEOBDiagnosis] += len(c.Diagnoses)
					want[TableEOBProcedure] += len(c.Procedures)
					want[TableEOBCareTeam] += len(c.CareTeam)
				}
			}
			if counted["EOB"] != want[TableEOB] || counted["Patient"] != want[TablePatient] || counted["Coverage"] != want[TableCoverage] {
				t.Fatalf("AppendNDJSON wrote %v, Record has %v", counted, want)
			}
			for table, n := range want {
				if got := len(out[table].rows); got != n {
					t.Errorf("%s: %d rows, want %d", table, got, n)
				}
			}
			if want[TableEOB] < 2000 {
				t.Errorf("only %d claims; the round trip must cover thousands", want[TableEOB])
			}
			for _, ct := range synth.ClaimTypes {
				if types[ct] < 20 {
					t.Errorf("only %d %s claims", types[ct], ct)
				}
			}
			t.Logf("%s: %d benes, %d claims %v, %d lines, %d diagnoses", version, roundTripBenes, want[TableEOB], types, want[TableEOBLine], want[TableEOBDiagnosis])

			c := &cmp{t: t}
			pat := index(t, out[TablePatient], "patient_id")
			cov := index(t, out[TableCoverage], "coverage_id")
			cm := index(t, out[TableCoverageMonth], "coverage_id", "month")
			eob := index(t, out[TableEOB], "eob_id")
			line := index(t, out[TableEOBLine], "eob_id", "line_number")
			dx := index(t, out[TableEOBDiagnosis], "eob_id", "sequence")
			px := index(t, out[TableEOBProcedure], "eob_id", "sequence")
			ctm := index(t, out[TableEOBCareTeam], "eob_id", "sequence")
			for _, r := range out[TableEOB].rows {
				if out[TableEOB].get(t, r, "claim_type") == nil {
					t.Fatalf("claim type null for %s", str(out[TableEOB].get(t, r, "eob_id")))
				}
			}
			checkAmounts(t, c, version, recs, out[TableEOBAmount], out[TableEOBLineAmount])
			for _, rec := range recs {
				p := rec.Patient
				c.row(pat, "patient", p.BeneID, map[string]string{
					"bene_id": p.BeneID, "mbi": p.MBI, "given_name": p.Given, "middle_name": p.Middle, "family_name": p.Family,
					"gender": p.Gender, "birth_date": p.BirthDate, "death_date": p.DeathDate, "state_code": p.State,
					"zip_code": p.Zip, "race_code": p.RaceCode, "last_updated": instantText(p.LastUpdated),
				})
				for _, cv := range rec.Coverages {
					w := map[string]string{
						"patient_id": p.BeneID, "part": cv.Part, "status": cv.Status, "period_start": cv.PeriodStart,
						"reference_year": cv.ReferenceYear, "medicare_status_code": cv.MSCode, "orec_code": cv.OREC,
						"crec_code": cv.CREC, "esrd_indicator": cv.ESRD, "last_updated": instantText(cv.LastUpdated),
						"part_a_termination_code": "", "part_b_termination_code": "",
					}
					switch cv.Part {
					case "A":
						w["part_a_termination_code"] = cv.TerminationCode
					case "B":
						w["part_b_termination_code"] = cv.TerminationCode
					}
					c.row(cov, "coverage", cv.ID, w)
					for m, mo := range cv.Months {
						c.row(cm, "coverage_month", fmt.Sprintf("%s|%d", cv.ID, m+1), map[string]string{
							"patient_id": p.BeneID, "part": cv.Part, "reference_year": cv.ReferenceYear,
							"dual_status_code": mo.Dual, "buy_in_code": mo.BuyIn, "part_c_contract_id": mo.PartCContract,
							"part_c_pbp_id": mo.PartCPBP, "part_c_plan_type_code": mo.PartCPlanType, "hmo_indicator": mo.HMOIndicator,
							"part_d_contract_id": mo.PartDContract, "part_d_pbp_id": mo.PartDPBP, "part_d_segment_id": mo.PartDSegment,
							"cost_share_code": mo.CostShare, "rds_indicator": mo.RDSIndicator,
						})
					}
				}
				for _, cl := range rec.Claims {
					checkClaim(c, version, p, cl, eob, line, dx, px, ctm)
				}
			}
			if c.errs > 0 {
				t.Errorf("%d mismatches out of %d checked values", c.errs, c.checks)
			}
			t.Logf("%s: %d values compared with the generator's record", version, c.checks)
		})
	}
}

func checkClaim(c *cmp, version string, p synth.Beneficiary, cl synth.Claim, eob, line, dx, px, ctm indexed) {
	linked := map[int]bool{}
	for _, it := range cl.Items {
		linked[it.CareTeamSequence] = true
	}
	attending, operating := "", ""
	for _, m := range cl.CareTeam {
		switch {
		case version == R4 && m.Role == "attending", version == STU3 && institutional(cl.Type) && m.Role == "primary" && !linked[m.Sequence]:
			if attending == "" {
				attending = m.NPI
			}
		case m.Role == "operating" || m.Role == "assist":
			if operating == "" {
				operating = m.NPI
			}
		}
	}
	w := map[string]string{
		"claim_id": cl.ClaimID, "claim_group_id": cl.ClaimGroupID, "claim_type": string(cl.Type), "claim_type_raw": string(cl.Type),
		"nch_claim_type_code": cl.NCHClaimTypeCode, "patient_id": p.BeneID, "status": cl.Status,
		"billable_period_start": cl.BillableStart, "billable_period_end": cl.BillableEnd,
		"attending_npi": attending, "operating_npi": operating,
		"provider_ccn": cl.CCN, "facility_type_code": cl.FacilityTypeCode, "claim_frequency_code": cl.ClaimFrequencyCode,
		"drg_code": cl.DRG, "discharge_status_code": cl.DischargeStatus, "admission_date": cl.AdmissionDate,
		"discharge_date": cl.DischargeDate, "admission_type_code": cl.AdmissionTypeCode,
		"total_charge_amount": cl.TotalCharge, "payment_amount": cl.PaymentAmount, "payment_date": cl.PaymentDate,
		"last_updated": instantText(cl.LastUpdated),
	}
	if cl.OrganizationNPI != "" {
		w["billing_npi"] = cl.OrganizationNPI
	}
	for _, d := range cl.Diagnoses {
		if d.Type == "principal" {
			w["principal_diagnosis_code"] = d.Code
		}
	}
	if cl.PDE != nil {
		w["pde_days_supply"], w["pde_fill_number"], w["pde_daw_code"] = cl.PDE.DaysSupply, cl.PDE.FillNumber, cl.PDE.DAWCode
	}
	c.row(eob, "eob", cl.EOBID, w)
	for _, it := range cl.Items {
		lw := map[string]string{
			"patient_id": p.BeneID, "claim_type": string(cl.Type), "hcpcs_code": it.HCPCS, "ndc": it.NDC,
			"revenue_center_code": it.RevenueCenter, "place_of_service_code": it.PlaceOfService, "betos_code": it.BETOS,
			"service_start": it.ServiceStart, "quantity": it.Quantity, "rendering_npi": it.RenderingNPI,
			"hcpcs_modifier_1": "", "hcpcs_modifier_2": "",
		}
		if it.ServiceEnd != "" {
			lw["service_end"] = it.ServiceEnd
		} else {
			lw["service_end"] = it.ServiceStart // servicedDate fills both
		}
		if it.CareTeamSequence > 0 {
			lw["care_team_sequence"] = strconv.Itoa(it.CareTeamSequence)
		} else {
			lw["care_team_sequence"] = ""
		}
		if len(it.Modifiers) > 0 {
			lw["hcpcs_modifier_1"] = it.Modifiers[0]
		}
		if len(it.Modifiers) > 1 {
			lw["hcpcs_modifier_2"] = it.Modifiers[1]
		}
		for _, a := range lineAmounts {
			lw[a.col] = firstAmount(it.Amounts, a.vars)
		}
		c.row(line, "eob_line", cl.EOBID+"|"+strconv.Itoa(it.Sequence), lw)
	}
	for _, d := range cl.Diagnoses {
		dw := map[string]string{"code": d.Code, "diagnosis_type": d.Type, "poa_indicator": d.POA, "icd_version": "10",
			"is_principal": strconv.FormatBool(d.Type == "principal")}
		if version == R4 {
			delete(dw, "diagnosis_type") // R4 writes CARIN diagnosis types, not the record's STU3 codes
		}
		c.row(dx, "eob_diagnosis", cl.EOBID+"|"+strconv.Itoa(d.Sequence), dw)
	}
	for _, pr := range cl.Procedures {
		c.row(px, "eob_procedure", cl.EOBID+"|"+strconv.Itoa(pr.Sequence), map[string]string{"code": pr.Code, "procedure_date": pr.Date, "icd_version": "10"})
	}
	for _, m := range cl.CareTeam {
		c.row(ctm, "eob_care_team", cl.EOBID+"|"+strconv.Itoa(m.Sequence), map[string]string{"npi": m.NPI, "role": m.Role, "specialty_code": m.Specialty})
	}
}

// checkAmounts proves every amount the generator recorded comes out: per line, eob_line_amount
// rows equal the line's amounts in emission order; per claim, eob_amount rows equal the header
// amounts as a multiset (R4 writes some as extensions and the rest in benefitBalance).
// totalAmounts are the header totals eob_amount carries besides the generator's recorded
// amounts: the total charge (STU3 totalCost, R4 total[]) and, in R4 Part D events, the
// drug-cost and CARIN payment-status totals.
func totalAmounts(version string, cl synth.Claim) []string {
	var out []string
	if cl.TotalCharge != "" {
		out = append(out, "clm_tot_chrg_amt="+cl.TotalCharge)
	}
	if version == R4 && cl.Type == synth.PDE {
		tot, _ := cl.Items[0].Amounts.Get("tot_rx_cst_amt")
		out = append(out, "tot_rx_cst_amt="+tot, "total:other=0.00")
	}
	return out
}

func checkAmounts(t *testing.T, c *cmp, version string, recs []synth.Record, hdr, lines *tableRows) {
	t.Helper()
	got := map[string][]string{}
	for _, r := range lines.rows {
		k := str(lines.get(t, r, "eob_id")) + "#" + str(lines.get(t, r, "line_number"))
		got[k] = append(got[k], str(lines.get(t, r, "variable"))+"="+str(lines.get(t, r, "amount")))
	}
	gotHdr := map[string]map[string]int{}
	for _, r := range hdr.rows {
		k := str(hdr.get(t, r, "eob_id"))
		if gotHdr[k] == nil {
			gotHdr[k] = map[string]int{}
		}
		gotHdr[k][str(hdr.get(t, r, "variable"))+"="+str(hdr.get(t, r, "amount"))]++
	}
	for _, rec := range recs {
		for _, cl := range rec.Claims {
			for _, it := range cl.Items {
				k := cl.EOBID + "#" + strconv.Itoa(it.Sequence)
				var want []string
				for _, a := range it.Amounts {
					want = append(want, a.Name+"="+a.Value)
				}
				c.checks += len(want)
				if strings.Join(got[k], " ") != strings.Join(want, " ") {
					c.errs++
					if c.errs <= 30 {
						t.Errorf("eob_line_amount %s: got %v, generator recorded %v", k, got[k], want)
					}
				}
			}
			want := map[string]int{}
			for _, a := range cl.Amounts {
				want[a.Name+"="+a.Value]++
			}
			for _, a := range totalAmounts(version, cl) {
				want[a]++
			}
			c.checks += len(cl.Amounts)
			if fmt.Sprint(want) != fmt.Sprint(gotHdr[cl.EOBID]) && (len(want) > 0 || len(gotHdr[cl.EOBID]) > 0) {
				c.errs++
				if c.errs <= 30 {
					t.Errorf("eob_amount %s: got %v, generator recorded %v", cl.EOBID, gotHdr[cl.EOBID], want)
				}
			}
		}
	}
}
