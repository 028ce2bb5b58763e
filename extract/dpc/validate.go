package dpc

import (
	"fmt"
	"time"
)

// invalidError is an input problem: it says what is wrong without the generic suffix, and
// matches ErrInvalid for callers that decide by kind.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, a ...any) error { return &invalidError{msg: fmt.Sprintf(format, a...)} }

// ValidateNPI checks a National Provider Identifier: 10 digits whose last is the Luhn check
// digit computed over the 80840 prefix and the first nine.
func ValidateNPI(npi string) error {
	if len(npi) != 10 {
		return invalidf("NPI %q: must be 10 digits", npi)
	}
	for i := 0; i < 10; i++ {
		if npi[i] < '0' || npi[i] > '9' {
			return invalidf("NPI %q: must be 10 digits", npi)
		}
	}
	if NPICheckDigit(npi[:9]) != npi[9] {
		return invalidf("NPI %q: check digit is wrong (Luhn with prefix 80840)", npi)
	}
	return nil
}

// NPICheckDigit returns the check digit for the first nine digits of an NPI.
func NPICheckDigit(nine string) byte {
	digits := "80840" + nine
	sum := 0
	// Luhn: double every second digit from the right of the full number (check digit excluded,
	// so the rightmost of these is doubled).
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// MBI positions per the CMS MBI format: C A AN N A AN N A A N N, where C is 1-9, N is 0-9,
// A is a letter other than S L O I B Z, and AN is either.
const mbiPattern = "CAXNAXNAANN"

func mbiLetter(c byte) bool {
	if c < 'A' || c > 'Z' {
		return false
	}
	switch c {
	case 'S', 'L', 'O', 'I', 'B', 'Z':
		return false
	}
	return true
}

// ValidateMBI checks the format of a Medicare Beneficiary Identifier (11 characters, upper case,
// no dashes).
func ValidateMBI(mbi string) error {
	if len(mbi) != 11 {
		return invalidf("MBI %q: must be 11 characters", mbi)
	}
	if i := mbiBadChar(mbi, mbiLetter); i >= 0 {
		return invalidf("MBI %q: character %d (%q) is not allowed there", mbi, i+1, mbi[i])
	}
	return nil
}

// mbiBadChar returns the index of the first character of the 11-character mbi that does not
// fit mbiPattern, with letter deciding what counts as an A, or -1 when all fit.
func mbiBadChar(mbi string, letter func(byte) bool) int {
	for i := 0; i < 11; i++ {
		c := mbi[i]
		ok := false
		switch mbiPattern[i] {
		case 'C':
			ok = c >= '1' && c <= '9'
		case 'N':
			ok = c >= '0' && c <= '9'
		case 'A':
			ok = letter(c)
		case 'X':
			ok = (c >= '0' && c <= '9') || letter(c)
		}
		if !ok {
			return i
		}
	}
	return -1
}

// SyntheticMBI reports whether mbi has the shape of the synthetic MBIs the DPC sandbox and
// Blue Button serve data for (e.g. 1S00E00AA02, 1SQ3F00AA00): 'S' in position 2, which the MBI
// specification excludes so that no real MBI ever looks like one, and any letter where the
// specification narrows the alphabet.
func SyntheticMBI(mbi string) bool {
	if len(mbi) != 11 || mbi[1] != 'S' {
		return false
	}
	letter := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	return mbiBadChar(mbi, letter) < 0
}

// ValidateMBIOrSynthetic accepts a valid MBI or a SyntheticMBI (sandbox data).
func ValidateMBIOrSynthetic(mbi string) error {
	if SyntheticMBI(mbi) {
		return nil
	}
	return ValidateMBI(mbi)
}

// ValidateDate checks a FHIR date (YYYY-MM-DD) that is a real calendar day.
func ValidateDate(s string) error {
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return invalidf("date %q: must be a calendar date written YYYY-MM-DD", s)
	}
	return nil
}

// ValidateGender checks a FHIR administrative gender code.
func ValidateGender(s string) error {
	switch s {
	case "male", "female", "other", "unknown":
		return nil
	}
	return invalidf("gender %q: must be male, female, other or unknown", s)
}
