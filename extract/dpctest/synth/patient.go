package synth

const identCurrency = `"extension":[{"url":"https://bluebutton.cms.gov/resources/codesystem/identifier-currency","valueCoding":{"system":"https://bluebutton.cms.gov/resources/codesystem/identifier-currency","code":"current","display":"Current"}}]`

func (g *Generator) appendPatient(b []byte, p *Beneficiary, cov *Coverage) []byte {
	r4 := g.opts.Version == R4
	w := jw{b: b}
	w.raw(`{"resourceType":"Patient","id":"`)
	w.raw(p.BeneID)
	w.raw(`","meta":{"lastUpdated":"`)
	w.b = appendInstant(w.b, p.LastUpdated)
	if r4 {
		w.raw(`","profile":["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient"]},"extension":[`)
	} else {
		w.raw(`"},"extension":[`)
	}
	w.raw(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex","valueCode":"`)
	switch p.Gender {
	case "male":
		w.raw(`248153007`)
	case "female":
		w.raw(`248152002`)
	default:
		w.raw(`UNK`)
	}
	w.raw(`"},{"url":"https://bluebutton.cms.gov/resources/variables/race","valueCoding":`)
	w.coding2(bbVar, "race", p.RaceCode, raceDisplay(p.RaceCode))
	w.raw(`}`)
	if r4 {
		w.raw(`,{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":`)
		om, od := ombRace(p.RaceCode)
		w.coding(ombSystem(om), om, od)
		w.raw(`},{"url":"text","valueString":"`)
		w.raw(od)
		w.raw(`"}]}`)
	}
	w.raw(`,{"url":"https://bluebutton.cms.gov/resources/variables/rfrnc_yr","valueDate":"`)
	w.raw(cov.ReferenceYear)
	w.raw(`"}`)
	for m := range 12 {
		w.raw(`,`)
		w.extCoding("dual_"+twoDigit[m], cov.Months[m].Dual, dualDisplay(cov.Months[m].Dual))
	}
	w.raw(`],"identifier":[`)
	if r4 {
		w.raw(`{"type":{"coding":[{` + identCurrency + `,"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MC","display":"Patient's Medicare number"}]},"system":"` + sysMBI + `","value":"`)
		w.raw(p.MBI)
		w.raw(`"},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MB","display":"Member Number"}]},"system":"https://bluebutton.cms.gov/resources/variables/bene_id","value":"`)
	} else {
		w.raw(`{` + identCurrency + `,"system":"` + sysMBI + `","value":"`)
		w.raw(p.MBI)
		w.raw(`"},{"system":"https://bluebutton.cms.gov/resources/variables/bene_id","value":"`)
	}
	w.raw(p.BeneID)
	w.raw(`"}],"name":[{"use":"usual","family":"`)
	w.raw(p.Family)
	w.raw(`","given":["`)
	w.raw(p.Given)
	if p.Middle != "" {
		w.raw(`","`)
		w.raw(p.Middle)
	}
	w.raw(`"]}],"gender":"`)
	w.raw(p.Gender)
	w.raw(`","birthDate":"`)
	w.raw(p.BirthDate)
	if p.DeathDate != "" {
		w.raw(`","deceasedDateTime":"`)
		w.raw(p.DeathDate)
	}
	w.raw(`","address":[{"state":"`)
	w.raw(p.State)
	w.raw(`","postalCode":"`)
	w.raw(p.Zip)
	w.raw(`"}]}`)
	return w.b
}

// ombRace maps the BFD race code to the US Core OMB category.
func ombRace(code string) (string, string) {
	switch code {
	case "1":
		return "2106-3", "White"
	case "2":
		return "2054-5", "Black or African American"
	case "4":
		return "2028-9", "Asian"
	case "6":
		return "1002-5", "American Indian or Alaska Native"
	}
	return "UNK", "Unknown"
}

func ombSystem(code string) string {
	if code == "UNK" {
		return "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
	}
	return "urn:oid:2.16.840.1.113883.6.238"
}
