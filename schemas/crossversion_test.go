package schemas

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// legitDiff lists, per table and column, the claim types ("*" = all) whose STU3 and R4 samples
// legitimately differ, and why. Every other column must be equal.
var legitDiff = map[string]map[string]struct {
	types []string
	why   string
}{
	TableEOB: {
		"billing_npi":                   {[]string{"CARRIER", "DME"}, "STU3 carrier/DME EOBs carry no billing provider; R4 sends carr_clm_blg_npi_num (carrier) and the supplier Practitioner (DME) in provider"},
		"coverage_reference":            {[]string{"DME"}, "the BFD R4 DME fixture points at Coverage/part-a, the STU3 one at part-b"},
		"billing_provider_id":           {[]string{"CARRIER", "DME"}, "as billing_npi: STU3 carrier/DME EOBs carry no billing provider"},
		"original_claim_control_number": {[]string{"HHA", "HOSPICE", "INPATIENT", "OUTPATIENT", "SNF"}, "BFD v1 sends fi_orig_clm_cntl_num; BFD v2 (R4) does not map it"},
		"fi_claim_action_code":          {[]string{"INPATIENT", "SNF"}, "only the R4 samples send fi_clm_actn_cd"},
		"lifetime_reserve_days_used":    {[]string{"INPATIENT"}, "only the R4 inpatient sample sends bene_lrd_used_cnt"},
		"claim_query_code":              {[]string{"HHA", "HOSPICE"}, "only the R4 HHA/hospice samples send claim_query_cd on billablePeriod"},
	},
	TablePatient: {
		"hicn":           {[]string{"*"}, "BFD v2 (R4) sends no us-medicare (HICN) identifiers; the STU3 includeIdentifiers read does"},
		"address_line_1": {[]string{"*"}, "the R4 patient sample's address has only state and postal code"},
		"address_line_2": {[]string{"*"}, "as address_line_1"},
		"address_lines":  {[]string{"*"}, "as address_line_1"},
		"city":           {[]string{"*"}, "as address_line_1"},
	},
	TableEOBLine: {
		"care_team_sequence":    {[]string{"*"}, "R4 renumbers the care team (adds referring/attending members), so the link sequence differs; rendering_npi is the comparable value"},
		"quantity":              {[]string{"HOSPICE", "INPATIENT"}, "STU3 sends the unit count (0) in item.quantity; BFD R4 puts the NDC quantity there instead (now ndc_quantity) and these samples send no rev_cntr_unit_cnt, so R4 quantity is null"},
		"rendering_provider_id": {[]string{"HOSPICE"}, "the R4 hospice line links two performing members; the first has the placeholder UPIN \"0\" (rendering_npi, Luhn-valid only, is equal)"},
		"ndc_quantity_unit":     {[]string{"HHA", "HOSPICE", "INPATIENT", "OUTPATIENT", "SNF"}, "STU3 sends rev_cntr_ndc_qty with its unit code; R4 puts the bare NDC quantity in item.quantity, without a unit"},
	},
	TableEOBDiagnosis: {
		"sequence":       {[]string{"INPATIENT", "SNF"}, "in STU3 the DRG-only diagnosis entry (excluded) takes sequence 1, so later sequences are one higher than in R4"},
		"diagnosis_type": {[]string{"*"}, "STU3 diagnosis-type codes (external-first, reason-for-visit, none) vs R4 ex-diagnosistype/C4BBClaimDiagnosisType codes (externalcauseofinjury, patientreasonforvisit, secondary)"},
	},
	TableEOBLineAmount: {
		"category_code": {[]string{"*"}, "STU3 adjudications carry only the BFD coding; R4 adds a CARIN category"},
	},
	TableCoverage: {
		"period_start": {[]string{"*"}, "the BFD v1 and v2 coverage fixtures were written from different test data (1963-10-03 vs 2020/2021 periods)"},
		"period_end":   {[]string{"*"}, "as period_start"},
	},
}

func isLegit(table, col, claimType string) bool {
	d, ok := legitDiff[table][col]
	if !ok {
		return false
	}
	for _, t := range d.types {
		if t == "*" || t == claimType {
			return true
		}
	}
	return false
}

// TestSTU3AndR4Agree proves that the STU3 and R4 samples of every claim type (and of Coverage,
// Patient and the error file) give the same value in every column, except the documented
// legitimate differences in legitDiff.
func TestSTU3AndR4Agree(t *testing.T) {
	stu3 := goldenRun(t, STU3)
	r4 := goldenRun(t, R4)
	compared := map[string]int{}
	for _, table := range Tables() {
		a, b := stu3[table], r4[table]
		if strings.Join(a.cols, ",") != strings.Join(b.cols, ",") {
			t.Fatalf("%s: columns differ:\n%v\n%v", table, a.cols, b.cols)
		}
		switch table {
		case TableEOBCareTeam, TableEOBAmount, TableEOBLineAmount, TableEOBLineCareTeam, TablePatientIdentifier,
			TableEOBDetail, TableEOBLineDetail, TablePatientDetail, TableCoverageDetail:
			continue // compared below: R4 adds members and uses other role codes; amounts as multisets
		case TablePatient:
			// STU3 patientReadWithIncludeIdentifiers.json is the same beneficiary as R4 patientRead.json
			// (the plain STU3 read omits the MBI identifiers).
			a = &tableRows{cols: a.cols, rows: filterRows(a.rows, "patientReadWithIncludeIdentifiers.json")}
			b = &tableRows{cols: b.cols, rows: filterRows(b.rows, "patientRead.json")}
		}
		ga, gb := groupRows(t, a), groupRows(t, b)
		keys := map[string]bool{}
		for k := range ga {
			keys[k] = true
		}
		for k := range gb {
			keys[k] = true
		}
		for k := range keys {
			ra, rb := ga[k], gb[k]
			if len(ra) != len(rb) {
				t.Errorf("%s %s: %d STU3 rows, %d R4 rows", table, k, len(ra), len(rb))
				continue
			}
			for i := range ra {
				ct := str(a.get(t, ra[i], claimTypeCol(a)))
				for c, col := range a.cols {
					va, vb := str(ra[i].vals[c]), str(rb[i].vals[c])
					if va == vb {
						compared[table]++
						continue
					}
					if !isLegit(table, col, ct) {
						t.Errorf("%s %s row %d: %s STU3 %q != R4 %q", table, k, i, col, va, vb)
					}
				}
			}
		}
	}
	// Care team: every STU3 member (identifier as sent, its NPI and specialty) is in the R4
	// care team of the same claim (R4 adds members and uses CARIN roles).
	ctA, ctB := groupRows(t, stu3[TableEOBCareTeam]), groupRows(t, r4[TableEOBCareTeam])
	member := func(tr *tableRows, r row) string {
		return str(tr.get(t, r, "provider_identifier")) + "/" + str(tr.get(t, r, "npi")) + "/" + str(tr.get(t, r, "specialty_code")) +
			"/" + str(tr.get(t, r, "provider_type_code")) + "/" + str(tr.get(t, r, "participating_code"))
	}
	for k, rows := range ctA {
		inR4 := map[string]bool{}
		for _, r := range ctB[k] {
			inR4[member(r4[TableEOBCareTeam], r)] = true
		}
		for _, r := range rows {
			if m := member(stu3[TableEOBCareTeam], r); !inR4[m] {
				t.Errorf("eob_care_team %s: STU3 member %s missing from R4", k, m)
			}
			compared[TableEOBCareTeam]++
		}
	}
	// Line → care team links: every STU3 link's member (as sent, and its NPI) is linked from the
	// same R4 line (R4 adds referring/supplier links and renumbers the care team).
	lcA, lcB := stu3[TableEOBLineCareTeam], r4[TableEOBLineCareTeam]
	linksOf := func(tr *tableRows) map[string]map[string]bool {
		out := map[string]map[string]bool{}
		for _, r := range tr.rows {
			k := str(tr.get(t, r, "eob_id")) + "#" + str(tr.get(t, r, "line_number"))
			if out[k] == nil {
				out[k] = map[string]bool{}
			}
			out[k][str(tr.get(t, r, "provider_identifier"))+"/"+str(tr.get(t, r, "npi"))] = true
		}
		return out
	}
	la, lb := linksOf(lcA), linksOf(lcB)
	for k, ids := range la {
		for id := range ids {
			if !lb[k][id] {
				t.Errorf("eob_line_care_team %s: STU3 link %s not linked in R4", k, id)
			}
			compared[TableEOBLineCareTeam]++
		}
	}
	// Patient identifiers: every R4 identifier is in the STU3 includeIdentifiers read; STU3 alone
	// sends HICNs and the hashes.
	idsOf := func(tr *tableRows, source string) map[string]bool {
		out := map[string]bool{}
		for _, r := range filterRows(tr.rows, source) {
			out[str(tr.get(t, r, "kind"))+"|"+str(tr.get(t, r, "value"))+"|"+str(tr.get(t, r, "currency"))] = true // R4 adds a period start to the current MBI
		}
		return out
	}
	ia, ib := idsOf(stu3[TablePatientIdentifier], "patientReadWithIncludeIdentifiers.json"), idsOf(r4[TablePatientIdentifier], "patientRead.json")
	for id := range ib {
		if !ia[id] {
			t.Errorf("patient_identifier: R4 %s not in STU3", id)
		}
		compared[TablePatientIdentifier]++
	}
	for id := range ia {
		if kind := strings.SplitN(id, "|", 2)[0]; !ib[id] && kind != "hicn" && kind != "hicn_hash" && kind != "mbi_hash" {
			t.Errorf("patient_identifier: STU3 %s not in R4", id)
		}
	}
	compareDetail(t, stu3, r4, compared)
	// Amounts: per claim (and line) the multisets of (variable, amount) agree except for the
	// listed BFD differences.
	for _, table := range []string{TableEOBAmount, TableEOBLineAmount} {
		a, b := stu3[table], r4[table]
		ms := func(tr *tableRows) map[string]map[string]int {
			out := map[string]map[string]int{}
			for _, r := range tr.rows {
				k := str(tr.get(t, r, "eob_id"))
				if table == TableEOBLineAmount {
					k += "#" + str(tr.get(t, r, "line_number"))
				}
				if out[k] == nil {
					out[k] = map[string]int{}
				}
				out[k][str(tr.get(t, r, "variable"))+"="+str(tr.get(t, r, "amount"))]++
			}
			return out
		}
		ma, mb := ms(a), ms(b)
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			for v, n := range ma[k] {
				for i := mb[k][v]; i < n; i++ {
					if !amountDiffOK(k, v, "STU3") {
						t.Errorf("%s %s: %s only in STU3", table, k, v)
					}
				}
				compared[table] += min(n, mb[k][v])
			}
			for v, n := range mb[k] {
				for i := ma[k][v]; i < n; i++ {
					if !amountDiffOK(k, v, "R4") {
						t.Errorf("%s %s: %s only in R4", table, k, v)
					}
				}
			}
		}
	}
	for _, table := range Tables() {
		if compared[table] == 0 {
			t.Errorf("%s: nothing compared", table)
		}
	}
	// Every claim type was compared in eob, eob_line and eob_diagnosis.
	for _, table := range []string{TableEOB, TableEOBLine, TableEOBDiagnosis} {
		seen := map[string]bool{}
		for _, r := range stu3[table].rows {
			seen[str(stu3[table].get(t, r, "claim_type"))] = true
		}
		for _, ct := range ClaimTypes() {
			if !seen[ct] && !(ct == "PDE" && table == TableEOBDiagnosis) { // Part D events have no diagnoses
				t.Errorf("%s: no %s sample compared", table, ct)
			}
		}
	}
}

// amountDiffs are the amounts one version of the BFD samples has and the other lacks.
var amountDiffs = map[string]string{
	"R4 pde-89 tot_rx_cst_amt=550.00":                         "BFD v2 also writes the Part D total drug cost as a header total (STU3: only the line adjudication)",
	"R4 pde-89 total:other=0.00":                              "BFD v2 writes a CARIN payment-status total with no BFD variable",
	"STU3 inpatient-333333222222 ime_op_clm_val_amt=66125.51": "the STU3 sample repeats the IME extension; R4 has it once",
	"R4 dme-2188888888#1 rev_cntr_prvdr_pmt_amt=120.00":       "the R4 DME line also writes the provider payment under the institutional variable",
	"R4 dme-2188888888#1 line_dme_prchs_price_amt=82.29":      "the R4 DME line repeats the purchase price",
	"R4 dme-2188888888#1 line_bene_pmt_amt=82.29":             "the R4 DME line repeats line_bene_pmt_amt with the purchase price under paidtoprovider (eob_line takes the first, 11.00)",
}

func amountDiffOK(key, v, version string) bool {
	_, ok := amountDiffs[version+" "+key+" "+v]
	return ok
}

func filterRows(rows []row, source string) []row {
	var out []row
	for _, r := range rows {
		if r.source == source {
			out = append(out, r)
		}
	}
	return out
}

func claimTypeCol(tr *tableRows) string {
	for _, c := range tr.cols {
		if c == "claim_type" {
			return c
		}
	}
	return tr.cols[0]
}

// groupRows keys rows by their resource id (eob_id, coverage_id, patient_id, or the source
// line for export_error); rows of one key keep their output order.
func groupRows(t *testing.T, tr *tableRows) map[string][]row {
	t.Helper()
	key := ""
	for _, c := range []string{"eob_id", "coverage_id", "patient_id"} {
		for _, have := range tr.cols {
			if have == c && key == "" {
				key = c
			}
		}
	}
	out := map[string][]row{}
	for i, r := range tr.rows {
		k := fmt.Sprint(i)
		if key != "" {
			k = str(tr.get(t, r, key))
		}
		out[k] = append(out[k], r)
	}
	return out
}

// TestLegitDiffDocumented keeps the list of legitimate differences honest: every entry must
// name a real column and give a reason.
func TestLegitDiffDocumented(t *testing.T) {
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]bool{}
	for _, tb := range defs {
		for _, c := range tb.Columns {
			cols[tb.Name+"."+c.Name] = true
		}
	}
	var names []string
	for table, m := range legitDiff {
		for col, d := range m {
			names = append(names, table+"."+col)
			if !cols[table+"."+col] || d.why == "" || len(d.types) == 0 {
				t.Errorf("legitDiff %s.%s: unknown column or no reason", table, col)
			}
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("empty")
	}
}

// detailDiffs are the (table, claim, variable) whose values differ between the STU3 and R4
// samples although both send the variable, and why.
var detailDiffs = map[string]string{
	"eob_line_detail carrier-9991831999#6 carr_line_mtus_cnt": "BFD v2 also writes the MTUS code (3) as a valueCoding under the carr_line_mtus_cnt URL; the count (1) is the same",
	"eob_line_detail dme-2188888888#1 line_bene_pmt_amt":      "the R4 DME line repeats line_bene_pmt_amt with 82.29 under paidtoprovider (see amountDiffs)",
}

// compareDetail checks the long-tail tables: for every claim (line, patient, coverage) and every
// BFD variable both versions send, the sets of values agree. Where a variable sits (source) and
// which other codings ride along legitimately differ by version and are not compared.
func compareDetail(t *testing.T, stu3, r4 map[string]*tableRows, compared map[string]int) {
	t.Helper()
	for _, table := range []string{TableEOBDetail, TableEOBLineDetail, TablePatientDetail, TableCoverageDetail} {
		vals := func(tr *tableRows, filter string) map[string]map[string]bool {
			out := map[string]map[string]bool{}
			for _, r := range tr.rows {
				if filter != "" && r.source != filter && table == TablePatientDetail {
					continue
				}
				k := ""
				for _, c := range []string{"eob_id", "coverage_id", "patient_id"} {
					for _, have := range tr.cols {
						if have == c && k == "" {
							k = str(tr.get(t, r, c))
						}
					}
				}
				if table == TableEOBLineDetail {
					k += "#" + str(tr.get(t, r, "line_number"))
				}
				variable := str(tr.get(t, r, "variable"))
				if strings.Contains(variable, "/") || strings.HasPrefix(variable, "total:") {
					continue // not a BFD variable (CARIN/HL7 systems, extension URLs of other IGs)
				}
				v := "<null>"
				for _, c := range []string{"amount", "quantity", "date", "value", "code"} {
					if x := tr.get(t, r, c); x != nil {
						v = *x
						break
					}
				}
				key := k + " " + variable
				if out[key] == nil {
					out[key] = map[string]bool{}
				}
				out[key][v] = true
			}
			return out
		}
		fa, fb := "", ""
		if table == TablePatientDetail {
			fa, fb = "patientReadWithIncludeIdentifiers.json", "patientRead.json"
		}
		a, b := vals(stu3[table], fa), vals(r4[table], fb)
		for key, va := range a {
			vb, ok := b[key]
			if !ok {
				continue
			}
			same := len(va) == len(vb)
			for x := range va {
				same = same && vb[x]
			}
			if same {
				compared[table]++
				continue
			}
			if _, ok := detailDiffs[table+" "+key]; !ok {
				t.Errorf("%s %s: STU3 %v != R4 %v", table, key, keys(va), keys(vb))
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
