package schemas

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// TestDetectVersionOnRealSamples decides every real sample's version from its shape alone.
func TestDetectVersionOnRealSamples(t *testing.T) {
	for _, tc := range []struct {
		dir, want string
		files     []string
	}{
		{"stu3", STU3, append(append([]string(nil), eobSamples...), "coverageSearchByPatientId.json", "eobByPatientIdAll.json")},
		{"r4", R4, append(append([]string(nil), eobSamples...), "coverageSearchByPatientId.json", "patientRead.json")},
	} {
		for _, f := range tc.files {
			got, decided, err := DetectVersion(bytes.NewReader(ndjsonLines(t, filepath.Join(bfdDir, tc.dir, f))))
			if err != nil || !decided || got != tc.want {
				t.Errorf("%s/%s: %s decided=%v err=%v, want %s", tc.dir, f, got, decided, err, tc.want)
			}
		}
	}
	// A DPC Patient file has nothing R4- or STU3-only: undecided, STU3 by default.
	got, decided, err := DetectVersion(bytes.NewReader(ndjsonLines(t, filepath.Join(bfdDir, "dpc", "f1e518f5-4977-47c6-971b-7eeaf1b433e8-0.patient.ndjson"))))
	if err != nil || decided || got != STU3 {
		t.Errorf("DPC patients: %s decided=%v err=%v", got, decided, err)
	}
	// Both shapes in one file is an error, never a silent pick.
	mixed := append(ndjsonLines(t, filepath.Join(bfdDir, "stu3", "eobReadPde.json")), ndjsonLines(t, filepath.Join(bfdDir, "r4", "eobReadPde.json"))...)
	if _, _, err := DetectVersion(bytes.NewReader(mixed)); !errors.Is(err, ErrMixedVersions) {
		t.Errorf("mixed file: %v, want ErrMixedVersions", err)
	}
	// Garbage lines are skipped (the transform quarantines them).
	bad := append([]byte("{not json\n"), ndjsonLines(t, filepath.Join(bfdDir, "r4", "eobReadCarrier.json"))...)
	if got, decided, err := DetectVersion(bytes.NewReader(bad)); err != nil || !decided || got != R4 {
		t.Errorf("garbage first line: %s %v %v", got, decided, err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{"": STU3, "stu3": STU3, "R4": R4, "r4": R4, "Auto": Auto} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("%q: %s %v", in, got, err)
		}
	}
	if _, err := ParseVersion("R5"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("R5: %v", err)
	}
}
