package schemas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Auto is the fhir_version setting that decides the version per file (DetectVersion).
const Auto = "auto"

// ErrMixedVersions is returned when one file holds both STU3- and R4-shaped resources.
var ErrMixedVersions = errors.New("schemas: file mixes STU3 and R4 resources")

// ParseVersion normalises a fhir_version setting: STU3, R4 or auto (any case; "" is STU3, what DPC serves).
func ParseVersion(s string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", STU3, "DSTU3", "3.0.2":
		return STU3, nil
	case R4, "4.0.1":
		return R4, nil
	case "AUTO":
		return Auto, nil
	}
	return "", fmt.Errorf("%w: %q (want STU3, R4 or auto)", ErrUnknownVersion, s)
}

// maxProbe bounds how many lines DetectVersion reads looking for a resource whose shape
// decides the version (most files decide on their first line).
const maxProbe = 1000

// DetectVersion reads NDJSON and decides its FHIR version from the resources' shape: R4-only
// elements (ExplanationOfBenefit supportingInfo/total/productOrService/careTeamSequence,
// Coverage class, CARIN or US Core profiles) against STU3-only ones (information, totalCost,
// service/careTeamLinkId, Coverage grouping). decided is false when no line in the first
// maxProbe is decisive (Patient-only or error files may be either). Lines that are not JSON
// are skipped: the transform quarantines them. A file with both shapes is ErrMixedVersions.
func DetectVersion(r io.Reader) (version string, decided bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var stu3, r4 int
	first := 0
	for n := 1; n <= maxProbe && sc.Scan(); n++ {
		switch lineVersion(sc.Bytes()) {
		case STU3:
			stu3++
			if first == 0 {
				first = n
			}
		case R4:
			r4++
			if first == 0 {
				first = n
			}
		}
		if stu3 > 0 && r4 > 0 {
			return "", false, fmt.Errorf("%w (line %d is the other version than line %d)", ErrMixedVersions, n, first)
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("schemas: detect FHIR version: %w", err)
	}
	switch {
	case r4 > 0:
		return R4, true, nil
	case stu3 > 0:
		return STU3, true, nil
	}
	return STU3, false, nil
}

// lineVersion is the version one NDJSON line's shape shows, or "" when it shows neither.
func lineVersion(line []byte) string {
	var res map[string]json.RawMessage
	if json.Unmarshal(line, &res) != nil {
		return ""
	}
	if m, ok := res["meta"]; ok && (bytes.Contains(m, []byte("/carin-bb/")) || bytes.Contains(m, []byte("/us/core/"))) {
		return R4
	}
	var rt string
	_ = json.Unmarshal(res["resourceType"], &rt)
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := res[k]; ok {
				return true
			}
		}
		return false
	}
	switch rt {
	case "ExplanationOfBenefit":
		switch {
		case has("supportingInfo", "total", "use", "insurer") || bytes.Contains(res["item"], []byte(`"productOrService"`)) || bytes.Contains(res["item"], []byte(`"careTeamSequence"`)):
			return R4
		case has("information", "totalCost", "organization", "hospitalization") || bytes.Contains(res["item"], []byte(`"careTeamLinkId"`)) || bytes.Contains(res["item"], []byte(`"service"`)):
			return STU3
		}
	case "Coverage":
		switch {
		case has("class"):
			return R4
		case has("grouping"):
			return STU3
		}
	}
	return ""
}
