package dpc_test

import (
	"fmt"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
)

func ExampleValidateNPI() {
	fmt.Println(dpc.ValidateNPI("1234567893"))
	fmt.Println(dpc.ValidateNPI("1234567890"))
	// Output:
	// <nil>
	// NPI "1234567890": check digit is wrong (Luhn with prefix 80840)
}

func ExampleProvenance_Header() {
	p := dpc.Provenance{OrganizationID: "org-1", PractitionerID: "pr-1", Recorded: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	fmt.Println(p.Header())
	// Output:
	// {"agent":[{"onBehalfOfReference":{"reference":"Practitioner/pr-1"},"role":[{"coding":[{"system":"http://hl7.org/fhir/v3/RoleClass","code":"AGNT"}]}],"whoReference":{"reference":"Organization/org-1"}}],"meta":{"profile":["https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"]},"reason":[{"system":"http://hl7.org/fhir/v3/ActReason","code":"TREAT"}],"recorded":"2026-03-01T12:00:00.000Z","resourceType":"Provenance"}
}
