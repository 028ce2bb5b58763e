package fhirpath

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// boundary implements lowBoundary()/highBoundary() for decimals, dates, dateTimes and times.
func (c *Ctx) boundary(it *Item, high bool) (Item, bool) {
	k, s, f, _ := c.prim(it)
	switch k {
	case KInteger, KDecimal:
		sc := scaleOf(s)
		d := 0.5 * math.Pow10(-sc)
		if high {
			f += d
		} else {
			f -= d
		}
		txt := strconv.FormatFloat(f, 'f', sc+1, 64)
		v, _ := strconv.ParseFloat(txt, 64)
		return Item{N: -1, K: KDecimal, F: v, S: txt}, true
	case KString, KDate, KDateTime, KTime:
	default:
		return Item{}, false
	}
	t := strings.ToLower(it.T)
	switch {
	case k == KDate || t == "date":
		return dateBoundary(s, high)
	case k == KDateTime || t == "datetime" || t == "instant":
		return dateTimeBoundary(s, high)
	case k == KTime || t == "time":
		return timeBoundary(s, high)
	case strings.Contains(s, "T"):
		return dateTimeBoundary(s, high)
	case strings.Contains(s, ":"):
		return timeBoundary(s, high)
	}
	return dateBoundary(s, high)
}

func datePart(s string, high bool) (string, bool) {
	var y, m, d int
	var err error
	switch len(s) {
	case 4:
		y, err = strconv.Atoi(s)
		m, d = 1, 1
		if high {
			m, d = 12, 31
		}
	case 7:
		y, err = strconv.Atoi(s[:4])
		if err == nil {
			m, err = strconv.Atoi(s[5:7])
		}
		d = 1
		if high && err == nil {
			d = time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		}
	case 10:
		if _, e := time.Parse("2006-01-02", s); e != nil {
			return "", false
		}
		return s, true
	default:
		return "", false
	}
	if err != nil || m < 1 || m > 12 {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), true
}

func dateBoundary(s string, high bool) (Item, bool) {
	d, ok := datePart(s, high)
	if !ok {
		return Item{}, false
	}
	return Item{N: -1, K: KDate, S: d}, true
}

func timeFill(t string, high bool) (string, bool) {
	// t: HH[:MM[:SS[.fff]]]
	parts := strings.SplitN(t, ":", 3)
	fillMin, fillSec, fillMs := "00", "00", "000"
	if high {
		fillMin, fillSec, fillMs = "59", "59", "999"
	}
	hh := parts[0]
	if len(hh) != 2 {
		return "", false
	}
	mm, ss, ms := fillMin, fillSec, fillMs
	if len(parts) > 1 {
		mm = parts[1]
	}
	if len(parts) > 2 {
		ss = parts[2]
		if i := strings.IndexByte(ss, '.'); i >= 0 {
			ms = ss[i+1:]
			ss = ss[:i]
			for len(ms) < 3 {
				if high {
					ms += "9"
				} else {
					ms += "0"
				}
			}
		}
	}
	return hh + ":" + mm + ":" + ss + "." + ms, true
}

func timeBoundary(s string, high bool) (Item, bool) {
	t, ok := timeFill(strings.TrimPrefix(s, "T"), high)
	if !ok {
		return Item{}, false
	}
	return Item{N: -1, K: KTime, S: t}, true
}

func dateTimeBoundary(s string, high bool) (Item, bool) {
	date, rest, hasT := strings.Cut(s, "T")
	d, ok := datePart(date, high)
	if !ok {
		return Item{}, false
	}
	tz := ""
	tm := ""
	if hasT {
		tm = rest
		if i := strings.IndexAny(rest, "Z+-"); i >= 0 {
			tm, tz = rest[:i], rest[i:]
		}
	}
	if tz == "" {
		tz = "+14:00"
		if high {
			tz = "-12:00"
		}
	}
	if tm == "" {
		tm = "00"
		if high {
			tm = "23"
		}
	}
	t, ok := timeFill(tm, high)
	if !ok {
		return Item{}, false
	}
	return Item{N: -1, K: KDateTime, S: d + "T" + t + tz}, true
}
