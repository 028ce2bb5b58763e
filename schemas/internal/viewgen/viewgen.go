package viewgen

import (
	"fmt"
	"strings"
)

// SchemaVersion is the claims table schema version every generated view carries (schemas.Version).
//
// 2.0.0 (from 1.0.0): NPI columns (billing_npi, attending_npi, operating_npi, rendering_npi,
// eob_care_team.npi) take only Luhn-valid NPI-system identifiers, R4 eob.total_charge_amount no
// longer takes the carrier/DME prior-payer total and R4 institutional eob_line.quantity no longer
// takes the NDC quantity: values of existing columns change meaning, hence a major version.
// Added in the same version: analyst-core columns (appended after the 1.0.0 columns, which keep
// their positions) and the tables eob_line_care_team, patient_identifier, eob_detail,
// eob_line_detail, patient_detail and coverage_detail.
//
// 2.1.0 (minor: additions; no non-null value 2.0.0 wrote changes): eob.billable_period_start_ts,
// billable_period_end_ts (the instant when the source sent a time) and claim_type_system appended;
// claim_type and claim_type_raw fall back to the CARIN / HL7 claim-type coding when the Blue
// Button eob-type coding is absent (they were null there); the table deleted_resource.
const SchemaVersion = "2.1.0"

// FHIR versions, as the directory names the views are written to.
const (
	STU3 = "stu3"
	R4   = "r4"
)

// Tables is the built-in table order (documentation and DDL order).
var Tables = []string{
	"patient", "coverage", "coverage_month", "eob", "eob_amount", "eob_line",
	"eob_line_amount", "eob_diagnosis", "eob_procedure", "eob_care_team", "export_error",
	"eob_line_care_team", "patient_identifier", "eob_detail", "eob_line_detail", "patient_detail", "coverage_detail",
	"deleted_resource",
}

const (
	bb      = "https://bluebutton.cms.gov/resources/"
	v       = bb + "variables/"
	eobType = bb + "codesystem/eob-type"
	npiSys  = "http://hl7.org/fhir/sid/us-npi"
	mbiSys  = "http://hl7.org/fhir/sid/us-mbi"
	curSys  = bb + "codesystem/identifier-currency"
	hcpcs   = bb + "codesystem/hcpcs"
	ndcSys  = "http://hl7.org/fhir/sid/ndc"
	icd9    = "http://hl7.org/fhir/sid/icd-9-cm"
	adjSys  = bb + "codesystem/adjudication"
	// claimTypeSys is the HL7 claim-type system CARIN BB (and any R4 payer) types an EOB with;
	// carinSubType refines institutional into inpatient/outpatient (C4BB profiles).
	claimTypeSys = "http://terminology.hl7.org/CodeSystem/claim-type"
	carinSubType = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBInstitutionalClaimSubType"
)

var claimTypes = []string{"CARRIER", "DME", "HHA", "HOSPICE", "INPATIENT", "OUTPATIENT", "PDE", "SNF"}

var icd10 = []string{"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "http://www.cms.gov/Medicare/Coding/ICD10"}

// kinds maps a column kind to its FHIR type and ansi/type tag.
var kinds = map[string][2]string{
	"string":   {"string", ""},
	"code":     {"string", ""},
	"money":    {"decimal", "DECIMAL(15,2)"},
	"quantity": {"decimal", "DECIMAL(18,6)"},
	"date":     {"date", "DATE"},
	"instant":  {"instant", "TIMESTAMP"},
	"dateTime": {"dateTime", "TIMESTAMP"},
	"integer":  {"integer", "INTEGER"},
	"boolean":  {"boolean", "BOOLEAN"},
}

// col is one column of a table in both versions: path in STU3 and R4 (same when r4 is empty),
// and the CCLF field it corresponds to (documentation only).
type col struct {
	name, kind, desc, stu3, r4, cclf string
}

func c(name, kind, desc, stu3 string, r4 ...string) col {
	cl := col{name: name, kind: kind, desc: desc, stu3: stu3, r4: stu3}
	if len(r4) > 0 {
		cl.r4 = r4[0]
	}
	return cl
}

// cc is c with the CCLF field.
func cc(cclf, name, kind, desc, stu3 string, r4 ...string) col {
	cl := c(name, kind, desc, stu3, r4...)
	cl.cclf = cclf
	return cl
}

func (cl col) render(version string) ColDoc {
	k, ok := kinds[cl.kind]
	if !ok {
		panic("viewgen: unknown kind " + cl.kind)
	}
	p := cl.stu3
	if version == R4 {
		p = cl.r4
	}
	out := ColDoc{Name: cl.name, Path: p, Type: k[0], Description: cl.desc}
	if k[1] != "" {
		out.Tag = append(out.Tag, Tag{Name: "ansi/type", Value: k[1]})
	}
	if cl.cclf != "" {
		out.Tag = append(out.Tag, Tag{Name: "cclf", Value: cl.cclf})
	}
	return out
}

func cols(cs []col, version string) []ColDoc {
	out := make([]ColDoc, len(cs))
	for i, cl := range cs {
		out[i] = cl.render(version)
	}
	return out
}

func ext(name string) string { return fmt.Sprintf("extension('%s%s')", v, name) }

func orCodes(field string, names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s = '%s%s'", field, v, n))
	}
	return strings.Join(parts, " or ")
}

func adj(names ...string) string {
	return fmt.Sprintf("adjudication.where(category.coding.where(%s).exists()).amount.value.first()", orCodes("code", names...))
}

func info(field, varname string) string {
	return fmt.Sprintf("%s.code.coding.where(system = '%s%s').code.first()", field, v, varname)
}

func infocat(field, varname string) string {
	return fmt.Sprintf("%s.where(category.coding.where(code = '%s%s').exists())", field, v, varname)
}

const patientRef = "patient.getReferenceKey(Patient)"

func view(name, resource, desc, version string, sel ...Sel) Doc {
	fv := []string{"3.0.2"}
	if version == R4 {
		fv = []string{"4.0.1"}
	}
	return Doc{ResourceType: "ViewDefinition", URL: "https://github.com/dpcetl/dpcetl/schemas/" + version + "/" + name, Name: name, Version: SchemaVersion, Status: "active",
		Resource: resource, Meta: Meta{Tag: []Coding{Generated}}, Description: desc, FHIRVersion: fv, Select: sel}
}

// carinTypes maps the HL7 claim-type codes (CARIN BB EOB.type) to the closest BFD claim type, or
// to a generic value where BFD has none; institutional goes by the C4BB subType.
var carinTypes = [][2]string{{"professional", "CARRIER"}, {"pharmacy", "PDE"}, {"oral", "ORAL"}, {"vision", "VISION"}}

// claimTypeExpr is the BFD eob-type code when it is one of the eight; when no eob-type coding is
// sent at all (non-Blue-Button R4 sources), the mapped claim-type coding (carinTypes).
func claimTypeExpr() string {
	var parts []string
	for _, t := range claimTypes {
		parts = append(parts, fmt.Sprintf("code = '%s'", t))
	}
	has := func(sys, code string) string {
		return fmt.Sprintf("coding.where(system = '%s' and code = '%s').exists()", sys, code)
	}
	carin := "{}"
	for i := len(carinTypes) - 1; i >= 0; i-- {
		carin = fmt.Sprintf("iif(type.%s, '%s', %s)", has(claimTypeSys, carinTypes[i][0]), carinTypes[i][1], carin)
	}
	carin = fmt.Sprintf("iif(type.%s, iif(subType.%s, 'INPATIENT', iif(subType.%s, 'OUTPATIENT', 'INSTITUTIONAL')), %s)",
		has(claimTypeSys, "institutional"), has(carinSubType, "inpatient"), has(carinSubType, "outpatient"), carin)
	return fmt.Sprintf("iif(type.coding.where(system = '%s').exists(), type.coding.where(system = '%s' and (%s)).code.first(), %s)",
		eobType, eobType, strings.Join(parts, " or "), carin)
}

// claimTypeCoding is the coding claim_type_raw and claim_type_system come from: eob-type, else
// the HL7 claim-type coding, else the first one sent.
const claimTypeCoding = "iif(type.coding.where(system = '" + eobType + "').exists(), type.coding.where(system = '" + eobType +
	"'), iif(type.coding.where(system = '" + claimTypeSys + "').exists(), type.coding.where(system = '" + claimTypeSys + "'), type.coding)).first()"

// Build returns every built-in view of a version ("stu3" or "r4") keyed by table name.
func Build(version string) (map[string]Doc, error) {
	if version != STU3 && version != R4 {
		return nil, fmt.Errorf("viewgen: unknown version %q", version)
	}
	out := map[string]Doc{}
	for _, t := range append(append([]tableBuilder(nil), tableBuilders...), moreBuilders...) {
		d := t.build(version)
		if d.Name != t.name {
			return nil, fmt.Errorf("viewgen: builder %s made view %s", t.name, d.Name)
		}
		out[t.name] = d
	}
	for _, t := range Tables {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("viewgen: no builder for table %s", t)
		}
	}
	if len(out) != len(Tables) {
		return nil, fmt.Errorf("viewgen: %d views for %d tables", len(out), len(Tables))
	}
	return out, nil
}

// Files returns every generated file (path relative to schemas/, e.g. "stu3/eob.json") and its bytes.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, ver := range []string{STU3, R4} {
		docs, err := Build(ver)
		if err != nil {
			return nil, err
		}
		for name, d := range docs {
			b, err := Marshal(d)
			if err != nil {
				return nil, err
			}
			out[ver+"/"+name+".json"] = b
		}
	}
	return out, nil
}

type tableBuilder struct {
	name  string
	build func(version string) Doc
}
