package roster_test

import (
	"fmt"
	"strings"

	"github.com/dpcetl/dpcetl/extract/roster"
)

func ExampleParse() {
	csv := "practitioner_npi,patient_mbi,patient_given,patient_family,patient_birth_date,patient_gender\n" +
		"1234567893,1EG4TE5MK73,Ann,Lee,1950-03-04,female\n" +
		"1234567890,1EG4TE5MK7O,Bob,Lee,1950-02-30,male\n"
	_, err := roster.Parse(strings.NewReader(csv))
	fmt.Println(err)
	// Output:
	// roster: row 3, column practitioner_npi: NPI "1234567890": check digit is wrong (Luhn with prefix 80840)
	// row 3, column patient_mbi: MBI "1EG4TE5MK7O": character 11 ('O') is not allowed there
	// row 3, column patient_birth_date: date "1950-02-30": must be a calendar date written YYYY-MM-DD: invalid request
}
