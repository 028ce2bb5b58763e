package dpc

import (
	"errors"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

func TestValidateNPI(t *testing.T) {
	tests := []struct {
		npi string
		ok  bool
	}{
		{"1234567893", true}, // CMS's worked example
		{"1234329724", true}, // a practitioner from DPC's provider_bundle.json
		{"1234567890", false},
		{"123456789", false},
		{"12345678931", false},
		{"123456789a", false},
		{"", false},
	}
	for _, tt := range tests {
		err := ValidateNPI(tt.npi)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateNPI(%q) = %v, want ok=%v", tt.npi, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateNPI(%q) error %v does not wrap ErrInvalid", tt.npi, err)
		}
	}
}

func TestValidateMBI(t *testing.T) {
	tests := []struct {
		mbi string
		ok  bool
	}{
		{"1EG4TE5MK73", true},  // CMS's published example
		{"5S41C00AA00", false}, // guide example: S is excluded at position 2
		{"1SQ3F00AA00", false},
		{"0EG4TE5MK73", false}, // position 1 must be 1-9
		{"1EG4TE5MK7", false},
		{"1eg4te5mk73", false}, // lower case
		{"1EG4-TE5-MK73", false},
		{"1AA0AA0AA00", true},
		{"9A99A99AA99", true},
		{"1A00A00AA00", true},
		{"1B00A00AA00", false},
		{"1A00Z00AA00", false},
		{"1A00A00AL00", false},
		{"1A0AA00AA0A", false},
	}
	for _, tt := range tests {
		err := ValidateMBI(tt.mbi)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateMBI(%q) = %v, want ok=%v", tt.mbi, err, tt.ok)
		}
	}
}

func TestValidateDateAndGender(t *testing.T) {
	for _, d := range []string{"1956-02-08", "2000-02-29"} {
		if err := ValidateDate(d); err != nil {
			t.Errorf("ValidateDate(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"1956-2-8", "2001-02-29", "02/08/1956", ""} {
		if err := ValidateDate(d); err == nil {
			t.Errorf("ValidateDate(%q) accepted", d)
		}
	}
	if ValidateGender("female") != nil || ValidateGender("F") == nil {
		t.Error("ValidateGender")
	}
}

func TestRedactAndServerMessage(t *testing.T) {
	jwt := "eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
	mac := "W3sidiI6MiwibCI6Imh0dHA6Ly9sb2NhbGhvc3Q6MzAwMiJ9XQ=="
	got := serverMessage([]byte(`{"code":400,"message":"bad token ` + jwt + ` from ` + mac + `"}`))
	if got != "bad token [redacted] from [redacted]" {
		t.Errorf("serverMessage = %q", got)
	}
	got = serverMessage([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","details":{"text":"Must have X-Provenance header"}}]}`))
	if got != "Must have X-Provenance header" {
		t.Errorf("OperationOutcome message = %q", got)
	}
	got = serverMessage([]byte(`{"id":"x","errors":["a","b"]}`))
	if got != "a; b" {
		t.Errorf("errors message = %q", got)
	}
}

// The sandbox's generator and these validators must agree on what a valid identifier is.
func TestValidatorsAcceptSynthIdentifiers(t *testing.T) {
	g := synth.New(synth.Options{Seed: 7})
	for i := range 2000 {
		if err := ValidateNPI(g.NPI(i)); err != nil {
			t.Fatalf("synth NPI(%d): %v", i, err)
		}
		if err := ValidateMBI(g.MBI(i)); err != nil {
			t.Fatalf("synth MBI(%d): %v", i, err)
		}
	}
}
