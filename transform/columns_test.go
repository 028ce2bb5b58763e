package transform

import (
	"strings"
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in        string
		p, s      int32
		want, err string
	}{
		{"12.5", 15, 2, "12.50", ""},
		{"0.00", 15, 2, "0.00", ""},
		{"-7", 15, 2, "-7.00", ""},
		{"1.2300", 15, 2, "1.23", ""}, // trailing zeros are not precision loss
		{"1.255", 15, 2, "", "more than 2 decimal places"},
		{"1e2", 15, 2, "100.00", ""},
		{"1.5E-1", 15, 2, "0.15", ""},
		{"1.5E-3", 15, 2, "", "more than 2 decimal places"},
		{"9999999999999.99", 15, 2, "9999999999999.99", ""},
		{"99999999999999.99", 15, 2, "", "does not fit decimal(15,2)"},
		{"123456789012345678901234567890.123456", 38, 6, "123456789012345678901234567890.123456", ""},
		{"abc", 15, 2, "", "not a decimal"},
		{"0.000", 15, 2, "0.00", ""},
		{"-0.10", 15, 2, "-0.10", ""},
		{"000123.4", 15, 2, "123.40", ""},
		{"1e-2", 15, 2, "0.01", ""},
		{"12345678901234567.5", 38, 1, "12345678901234567.5", ""},
		{"9999999999999999999", 38, 0, "9999999999999999999", ""},
		{"99999999999999999999", 38, 0, "99999999999999999999", ""},
		{"5e40", 38, 0, "", "does not fit"},
		{"", 15, 2, "", "not a decimal"},
	}
	for _, c := range cases {
		n, _, err := parseDecimal(c.in, c.p, c.s, false)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseDecimal(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || n.ToString(c.s) != c.want {
			t.Errorf("parseDecimal(%q) = %s, %v; want %s", c.in, n.ToString(c.s), err, c.want)
		}
	}
}

func TestRoundDecimalHalfEven(t *testing.T) {
	for _, c := range []struct {
		in, want string
		p, s     int32
		rounded  bool
	}{
		{"112.41600000000001", "112.42", 15, 2, true},
		{"112.415", "112.42", 15, 2, true}, // a tie goes to the even neighbour: 112.42
		{"112.425", "112.42", 15, 2, true},
		{"112.4250001", "112.43", 15, 2, true},
		{"-112.425", "-112.42", 15, 2, true},
		{"-0.005", "0.00", 15, 2, true},
		{"0.015", "0.02", 15, 2, true},
		{"0.0049", "0.00", 15, 2, true},
		{"0.006", "0.01", 15, 2, true},
		{"4e-9", "0.00", 15, 2, true},
		{"99.995", "100.00", 15, 2, true},
		{"12.50", "12.50", 15, 2, false},
		{"12.5000", "12.50", 15, 2, false},
		{"1.25E-1", "0.12", 15, 2, true},
	} {
		n, rounded, err := parseDecimal(c.in, c.p, c.s, true)
		if err != nil || n.ToString(c.s) != c.want || rounded != c.rounded {
			t.Errorf("parseDecimal(%q) = %s %v %v; want %s %v", c.in, n.ToString(c.s), rounded, err, c.want, c.rounded)
		}
	}
	// Rounding never excuses a value that is not a number or does not fit.
	for in, want := range map[string]string{"12,50": "not a decimal", "abc": "not a decimal", "9999999999999.995": "once rounded", "99999999999999.9": "does not fit"} {
		if _, _, err := parseDecimal(in, 15, 2, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDecimal(%q) err = %v, want %q", in, err, want)
		}
	}
}

func TestParseMoneyPolicy(t *testing.T) {
	for in, want := range map[string]MoneyPolicy{"": MoneyStrict, "strict": MoneyStrict, "Exact": MoneyExact, " round_half_even ": MoneyRoundHalfEven} {
		if got, err := ParseMoneyPolicy(in); err != nil || got != want {
			t.Errorf("ParseMoneyPolicy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMoneyPolicy("round"); err == nil {
		t.Error("ParseMoneyPolicy(round) accepted")
	}
}

func TestParseDates(t *testing.T) {
	day := func(s string) int64 {
		tm, _ := time.Parse("2006-01-02", s)
		return tm.Unix() / 86400
	}
	for in, want := range map[string]int64{"2020-03-05": day("2020-03-05"), "2020-03": day("2020-03-01"), "2020": day("2020-01-01"),
		"1899-12-31": day("1899-12-31"), "2024-02-29": day("2024-02-29")} {
		if got, err := parseDate(in); err != nil || got != want {
			t.Errorf("parseDate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// A dateTime keeps its date as written, in its own offset (not the UTC date).
	for in, want := range map[string]string{"2021-03-05T10:00:00-05:00": "2021-03-05", "2021-03-05T23:30:00-05:00": "2021-03-05",
		"2021-03-06T00:30:00+01:00": "2021-03-06", "2021-03-05T10:00:00Z": "2021-03-05", "2021-03-05T10:00:00.123456789Z": "2021-03-05"} {
		if got, err := parseDate(in); err != nil || got != day(want) {
			t.Errorf("parseDate(%q) = %d, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"2023-02-29", "2020-13-01", "20-01-01", "2020-1-1", "2020-03-05T25:00:00Z", "2020-03-05T10:00:00+5", "2020-03-05Tnoon", "2020-02-30T10:00:00Z"} {
		if _, err := parseDate(bad); err == nil {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
	us := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	for in, want := range map[string]int64{
		"2026-04-16T00:05:05.355+00:00": us("2026-04-16T00:05:05.355Z"),
		"2020-03-04T10:00:00-05:00":     us("2020-03-04T15:00:00Z"),
		"2020-03-04T10:00:00.123456Z":   us("2020-03-04T10:00:00.123456Z"),
		"2020-03-04T10:00:00.1234560Z":  us("2020-03-04T10:00:00.123456Z"),
		"2020-03-04":                    us("2020-03-04T00:00:00Z"),
		"2020-03":                       us("2020-03-01T00:00:00Z"),
		"2020":                          us("2020-01-01T00:00:00Z"),
		"2020-03-04T10:00:00":           us("2020-03-04T10:00:00Z"),
	} {
		if got, err := parseDateTime(in); err != nil || got != want {
			t.Errorf("parseDateTime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"2020-03-04T25:00:00Z", "2020-03-04T10:00:00.1234567Z", "2020-03-04T10:00:00+5", "2020-03-04 10:00"} {
		if _, err := parseDateTime(bad); err == nil {
			t.Errorf("parseDateTime(%q) accepted", bad)
		}
	}
	if got, err := parseTime("12:34:56.5"); err != nil || got != (12*3600+34*60+56)*1e6+500000 {
		t.Errorf("parseTime = %d, %v", got, err)
	}
}
