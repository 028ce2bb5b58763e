package synth_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// Element paths of the real BFD samples that the generator deliberately
// does not model (none of them is read by the claims tables): contained
// resources and references to them, referral, lab results, CLIA numbers,
// second external-cause POA switches, SNF verified non-covered stay and
// benefits-exhausted dates, R4 subType, fi_clm_actn_cd, practitioner
// display names, line primary payer codes, and a few BFD sample quirks
// (DME R4 rev_cntr_prvdr_pmt_amt on a DME line, carr_line_mtus_cnt as a
// coding, unit-of-measure modifiers, provider.type).
var ignored = []string{
	".contained", ".referral", "line_hct_hgb_rslt_num", "carr_line_clia_lab_num",
	"clm_e_poa_ind_sw2", "nch_vrfd_ncvrd_stay_from_dt", "nch_bene_mdcr_bnfts_exhtd_dt_i",
	".subType", "fi_clm_actn_cd", ".careTeam[].provider.display", "line_bene_prmry_pyr_cd",
	".item[].informationSequence", "rev_cntr_prvdr_pmt_amt]", "carr_line_mtus_cnt].valueCoding",
	".item[].modifier[].coding[].display", ".provider.type", ".provider.display",
	// DME R4 sample carries a unit-of-measure "modifier"; ours are HCPCS modifiers (.code present).
}

// keyed arrays: elements are identified by their url (extensions) or by
// the BFD variable of their category (adjudication, information, ...), so
// a path names a specific extension/adjudication, not "any element".
func elemKey(parent string, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return "[]"
	}
	if u, ok := m["url"].(string); ok {
		return "[url=" + u[strings.LastIndexAny(u, "/")+1:] + "]"
	}
	switch parent {
	case "adjudication", "information", "supportingInfo", "total", "financial":
		key := "category"
		if parent == "financial" {
			key = "type"
		}
		if cat, ok := m[key].(map[string]any); ok {
			if cs, ok := cat["coding"].([]any); ok && len(cs) > 0 {
				last := cs[len(cs)-1].(map[string]any)["code"].(string)
				return "[cat=" + last[strings.LastIndex(last, "/")+1:] + "]"
			}
		}
	}
	return "[]"
}

type leaf struct {
	kind string // "string", "number", "bool"
	raw  string // string value or number text
}

func walk(v any, path, parent string, out map[string][]leaf) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walk(c, path+"."+k, k, out)
		}
	case []any:
		for _, c := range x {
			walk(c, path+elemKey(parent, c), parent, out)
		}
	case string:
		out[path] = append(out[path], leaf{"string", x})
	case json.Number:
		out[path] = append(out[path], leaf{"number", x.String()})
	case bool:
		out[path] = append(out[path], leaf{"bool", ""})
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	return m
}

func pathsOf(t *testing.T, b []byte) map[string][]leaf {
	out := map[string][]leaf{}
	walk(decode(t, b), "", "", out)
	return out
}

func isIgnored(p string) bool {
	for _, s := range ignored {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

var (
	reYear  = regexp.MustCompile(`^(19|20)\d{2}$`)
	reDate  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	reDT    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+00:00$`)
	reMoney = regexp.MustCompile(`^-?\d+(\.\d{1,2})?$`)
)

func hasSuffix(p string, sfx ...string) bool {
	for _, s := range sfx {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// checkLeaf asserts a generated value is well-typed for its path.
func checkLeaf(t *testing.T, id, p string, l leaf) {
	t.Helper()
	if hasSuffix(p, ".amount.value", "valueMoney.value", "usedMoney.value", "totalCost.value") {
		if l.kind != "number" || !reMoney.MatchString(l.raw) {
			t.Errorf("%s %s: money %q (%s) is not a number with <= 2 decimals", id, p, l.raw, l.kind)
		}
		return
	}
	if hasSuffix(p, ".start", ".end", "Date", "date") && l.kind == "string" {
		if reYear.MatchString(l.raw) { // FHIR date with year precision (BFD rfrnc_yr)
			return
		}
		ok := reDate.MatchString(l.raw) || reDT.MatchString(l.raw)
		if ok {
			_, err1 := time.Parse(time.DateOnly, l.raw)
			_, err2 := time.Parse("2006-01-02T15:04:05Z07:00", l.raw)
			ok = err1 == nil || err2 == nil
		}
		if !ok {
			t.Errorf("%s %s: %q is not a date", id, p, l.raw)
		}
	}
}

// generatedByType returns n EOB lines of every claim type, from the first
// beneficiaries of a seed.
func generatedByType(t *testing.T, v synth.FHIRVersion, n int) map[synth.ClaimType][][]byte {
	t.Helper()
	g := synth.New(synth.Options{Seed: 7, Version: v})
	out := map[synth.ClaimType][][]byte{}
	full := 0
	for i := 0; i < 3000 && full < len(synth.ClaimTypes); i++ {
		b, _ := g.AppendNDJSON(nil, g.MBI(i), "ExplanationOfBenefit", time.Time{}, time.Time{})
		for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			for _, ct := range synth.ClaimTypes {
				if bytes.Contains(line[:80], []byte(`"id":"`+strings.ToLower(string(ct))+`-`)) && len(out[ct]) < n {
					out[ct] = append(out[ct], line)
					if len(out[ct]) == n {
						full++
					}
				}
			}
		}
	}
	for _, ct := range synth.ClaimTypes {
		if len(out[ct]) < n {
			t.Fatalf("only %d %s EOBs in 3000 beneficiaries", len(out[ct]), ct)
		}
	}
	return out
}

var sampleFile = map[synth.ClaimType]string{
	synth.Carrier: "Carrier", synth.DME: "Dme", synth.HHA: "Hha", synth.Hospice: "Hospice",
	synth.Inpatient: "Inpatient", synth.Outpatient: "Outpatient", synth.PDE: "Pde", synth.SNF: "Snf",
}

// optional marks sample paths a single generated EOB may legitimately
// lack (present on some claims only); they must still appear across the
// generated set.
func optional(p string) bool {
	for _, s := range []string{".modifier", ".procedure", "ndc", "rev_cntr_ide_ndc_upc_num", "clm_e_poa_ind_sw", "external", ".diagnosis[].type", "clm_poa_ind_sw"} {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

func TestFieldLevelSTU3(t *testing.T) { fieldLevel(t, synth.STU3, "stu3") }
func TestFieldLevelR4(t *testing.T)   { fieldLevel(t, synth.R4, "r4") }

func fieldLevel(t *testing.T, v synth.FHIRVersion, dir string) {
	all := generatedByType(t, v, 25)
	for _, ct := range synth.ClaimTypes {
		t.Run(string(ct), func(t *testing.T) {
			sb, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "synth", dir, "eobRead"+sampleFile[ct]+".json"))
			if err != nil {
				t.Fatal(err)
			}
			sample := pathsOf(t, sb)
			gens := all[ct]
			union := map[string]bool{}
			for _, gb := range gens {
				gp := pathsOf(t, gb)
				id := gp[".id"][0].raw
				for p, ls := range gp {
					union[p] = true
					for _, l := range ls {
						checkLeaf(t, id, p, l)
					}
				}
				var missing []string
				for p, sl := range sample {
					if isIgnored(p) {
						continue
					}
					gl, ok := gp[p]
					if !ok {
						if !optional(p) {
							missing = append(missing, p)
						}
						continue
					}
					if gl[0].kind != sl[0].kind {
						t.Errorf("%s %s: kind %s, sample has %s", id, p, gl[0].kind, sl[0].kind)
					}
				}
				sort.Strings(missing)
				for _, p := range missing {
					t.Errorf("%s lacks sample path %s", id, p)
				}
			}
			for p := range sample {
				if !isIgnored(p) && !union[p] {
					t.Errorf("no generated %s EOB has sample path %s", ct, p)
				}
			}
		})
	}
}
