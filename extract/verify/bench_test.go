package verify_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/dpcetl/dpcetl/extract/verify"
)

// BenchmarkVerify compares the structure check a file without a checksum gets
// with the sha256 every file gets, on claims-like NDJSON (the repository's
// sample EOBs when present, else synthetic lines).
func BenchmarkVerify(b *testing.B) {
	data := sampleNDJSON(b)
	for _, tc := range []struct {
		name string
		exp  verify.Expect
	}{
		{"sha256-only", verify.Expect{Checksum: sum(data)}},
		{"sha256+json", verify.Expect{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				v, _ := verify.New(tc.exp)
				if _, err := v.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := v.Check(-1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sampleNDJSON(b *testing.B) []byte {
	var buf bytes.Buffer
	for i := 0; buf.Len() < 32<<20; i++ {
		fmt.Fprintf(&buf, `{"resourceType":"ExplanationOfBenefit","id":"carrier-%d","status":"active","type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},"patient":{"reference":"Patient/-%d"},"billablePeriod":{"start":"2019-01-0%dT00:00:00-05:00","end":"2019-01-09"},"item":[{"sequence":1,"adjudication":[{"category":{"coding":[{"code":"payment"}]},"amount":{"value":%d.41600000000001,"currency":"USD"}}],"quantity":{"value":1.0e0}}],"total":[{"amount":{"value":-12.5,"currency":"USD"}}],"extension":[{"url":"https://bluebutton.cms.gov/x","valueBoolean":true,"valueString":"a\"b\\c\u00e9"}]}`+"\n", i, i, i%9+1, i%1000)
	}
	return buf.Bytes()
}

// BenchmarkJSONValid is the alternative measured: encoding/json.Valid on each line.
func BenchmarkJSONValid(b *testing.B) {
	data := sampleNDJSON(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for l := range bytes.Lines(data) {
			if !json.Valid(l) {
				b.Fatal("invalid")
			}
		}
	}
}
