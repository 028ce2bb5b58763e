package synth

import (
	"strconv"
	"time"
)

// Append helpers. All strings written by the generator come from its own
// tables (no quotes, backslashes or control characters), so they are copied
// without escaping; a test checks every emitted line parses as JSON.

const (
	bbVar     = "https://bluebutton.cms.gov/resources/variables/"
	bbCS      = "https://bluebutton.cms.gov/resources/codesystem/"
	sysNPI    = "http://hl7.org/fhir/sid/us-npi"
	sysMBI    = "http://hl7.org/fhir/sid/us-mbi"
	sysICD10  = "http://hl7.org/fhir/sid/icd-10"
	sysNDC    = "http://hl7.org/fhir/sid/ndc"
	sysHCPCS  = bbCS + "hcpcs"
	moneySTU3 = `,"system":"urn:iso:std:iso:4217","code":"USD"}`
	moneyR4   = `,"currency":"USD"}`
)

// appendCents writes an integer number of cents as a JSON number with
// exactly two decimals (12345 -> 123.45). Exact: no float arithmetic.
func appendCents(b []byte, c int64) []byte {
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	r := c % 100
	return append(b, '.', byte('0'+r/10), byte('0'+r%10))
}

// centsString is appendCents as a string (for Record).
func centsString(c int64) string { return string(appendCents(make([]byte, 0, 12), c)) }

// appendDate writes YYYY-MM-DD.
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-')
	return append(b, byte('0'+d/10), byte('0'+d%10))
}

func dateString(t time.Time) string { return string(appendDate(make([]byte, 0, 10), t)) }

// appendInstant writes an instant as BFD does: 2024-05-06T12:34:56.789+00:00.
func appendInstant(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = appendDate(b, t)
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	b = append(b, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, "+00:00"...)
}

// jw is a tiny JSON writer that tracks whether a comma is needed.
type jw struct {
	b []byte
}

func (w *jw) raw(s string) { w.b = append(w.b, s...) }

func (w *jw) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

// coding writes {"system":sys,"code":code[,"display":disp]}.
func (w *jw) coding(sys, code, disp string) {
	w.raw(`{"system":"`)
	w.raw(sys)
	w.raw(`","code":"`)
	w.raw(code)
	if disp != "" {
		w.raw(`","display":"`)
		w.raw(disp)
	}
	w.raw(`"}`)
}

// extCoding writes a BFD coded-variable extension:
// {"url":bbVar+v,"valueCoding":{"system":bbVar+v,"code":code[,"display":d]}}.
func (w *jw) extCoding(v, code, disp string) {
	w.raw(`{"url":"` + bbVar)
	w.raw(v)
	w.raw(`","valueCoding":`)
	w.coding2(bbVar, v, code, disp)
	w.raw(`}`)
}

// coding2 is coding with the system given as prefix+name (avoids concatenation).
func (w *jw) coding2(prefix, name, code, disp string) {
	w.raw(`{"system":"`)
	w.raw(prefix)
	w.raw(name)
	w.raw(`","code":"`)
	w.raw(code)
	if disp != "" {
		w.raw(`","display":"`)
		w.raw(disp)
	}
	w.raw(`"}`)
}

// extIdentifier writes {"url":bbVar+v,"valueIdentifier":{"system":bbVar+v,"value":val}}.
func (w *jw) extIdentifier(v, val string) {
	w.raw(`{"url":"` + bbVar)
	w.raw(v)
	w.raw(`","valueIdentifier":{"system":"` + bbVar)
	w.raw(v)
	w.raw(`","value":"`)
	w.raw(val)
	w.raw(`"}}`)
}

// money writes {"value":123.45,<currency>}.
func (w *jw) money(c int64, r4 bool) {
	w.raw(`{"value":`)
	w.b = appendCents(w.b, c)
	w.moneyEnd(r4)
}

// moneyEnd writes the currency members that follow a money value.
func (w *jw) moneyEnd(r4 bool) {
	if r4 {
		w.raw(moneyR4)
	} else {
		w.raw(moneySTU3)
	}
}

// extMoney writes {"url":bbVar+v,"valueMoney":{...}}.
func (w *jw) extMoney(v string, c int64, r4 bool) {
	w.raw(`{"url":"` + bbVar)
	w.raw(v)
	w.raw(`","valueMoney":`)
	w.money(c, r4)
	w.raw(`}`)
}
