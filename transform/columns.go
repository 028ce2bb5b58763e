package transform

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/view"
)

// Tag names understood by the engine (see the package documentation).
const (
	TagANSIType   = "ansi/type"
	TagDictionary = "arrow/dictionary"
)

// DefaultDecimalPrecision and DefaultDecimalScale apply to decimal columns without an ansi/type tag.
const (
	DefaultDecimalPrecision = 38
	DefaultDecimalScale     = 18
)

type colKind uint8

const (
	ckString colKind = iota
	ckDict
	ckBool
	ckInt32
	ckInt64
	ckDecimal
	ckDate
	ckTimestamp
	ckTime
)

// colSpec is the compiled output description of one column.
type colSpec struct {
	col        *view.Column
	kind       colKind
	prec, sc   int32
	typ        arrow.DataType // element type
	collection bool
	typeName   string // for error messages, e.g. decimal(15,2)
	maxLen     int    // ansi/type VARCHAR(n): at most n characters (0: no limit)
	fracUnit   int64  // ansi/type TIMESTAMP(p)/TIME(p): microseconds must be a multiple (0: any)
	round      string // decimals beyond the scale rounded, sub-microsecond times truncated, counted under this "table.column" ("": refused)
}

// MoneyPolicy decides what becomes of a decimal with more fractional digits than its
// column's ansi/type scale allows (money, DECIMAL(15,2), is where real sources do it:
// 112.41600000000001 from a server that computed amounts in floating point).
type MoneyPolicy string

const (
	// MoneyStrict (the default) quarantines the resource: nothing is ever rounded.
	MoneyStrict MoneyPolicy = ""
	// MoneyExact widens every decimal column to DECIMAL(38,18) whatever its ansi/type says,
	// so that values are kept exactly (the tables' decimal types then differ from the docs').
	// Under it and MoneyRoundHalfEven, a dateTime, instant or time with more than six
	// fractional digits (FHIR allows nine; Java servers send them) is truncated to the
	// microsecond, Parquet's and every engine's common unit, and counted in Stats.Rounded.
	MoneyExact MoneyPolicy = "exact"
	// MoneyRoundHalfEven keeps the declared types and rounds half to even; every rounded value
	// is counted in Stats.Rounded.
	MoneyRoundHalfEven MoneyPolicy = "round_half_even"
)

// ParseMoneyPolicy reads a money policy setting: "strict" (or ""), "exact" or "round_half_even".
func ParseMoneyPolicy(s string) (MoneyPolicy, error) {
	switch p := MoneyPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case MoneyStrict, MoneyExact, MoneyRoundHalfEven:
		return p, nil
	case "strict":
		return MoneyStrict, nil
	}
	return "", fmt.Errorf("transform: money policy %q (want strict, exact or round_half_even)", s)
}

// WithMoneyPolicy sets the MoneyPolicy (default MoneyStrict).
func WithMoneyPolicy(p MoneyPolicy) Option { return func(o *options) { o.money = p } }

// countRounded notes one value rounded into column key ("table.column").
func (s *Stats) countRounded(key string) {
	if s.Rounded == nil {
		s.Rounded = map[string]int64{}
	}
	s.Rounded[key]++
}

// addCounts adds the counts of src to dst (allocated when needed) and returns it.
func addCounts(dst, src map[string]int64) map[string]int64 {
	for k, n := range src {
		if dst == nil {
			dst = map[string]int64{}
		}
		dst[k] += n
	}
	return dst
}

var (
	ansiDecimal = regexp.MustCompile(`^(?i)(DECIMAL|NUMERIC|DEC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$`)
	// character types, with an optional maximum length in characters: VARCHAR(64)
	ansiChar = regexp.MustCompile(`^(?i)(CHARACTER\s+VARYING|CHAR\s+VARYING|VARCHAR|CHARACTER|CHAR|NVARCHAR|NCHAR|STRING|TEXT)\s*(?:\(\s*(\d+)\s*\))?$`)
	// TIMESTAMP(p) [WITH TIME ZONE], TIMESTAMPTZ(p), TIME(p): p fractional second digits (0..6)
	ansiTime = regexp.MustCompile(`^(?i)(TIMESTAMP|TIMESTAMPTZ|TIME)\s*(?:\(\s*(\d+)\s*\))?(\s+WITH\s+TIME\s+ZONE)?$`)
)

// ansi types without parameters, and the kinds they are compatible with.
var ansiKinds = map[string][]colKind{
	"BOOLEAN": {ckBool}, "INTEGER": {ckInt32}, "INT": {ckInt32}, "BIGINT": {ckInt64}, "DATE": {ckDate},
}

// ansiType applies an ansi/type tag to cs. The spec leaves the tag's values to the runner
// ("Behavior is undefined and left to the runner if the type hint tag contains a value that
// is unknown or incompatible"); this one accepts ISO/IEC 9075 names that agree with the
// column's FHIR type and refuses the rest. Parameters are limits the data must respect,
// never a licence to truncate: a string longer than VARCHAR(n), a decimal with more digits
// than DECIMAL(p,s) or a time with more fractional digits than TIMESTAMP(p) is quarantined.
func (cs *colSpec) ansiType(a, fhirType string) error {
	mismatch := func() error {
		return fmt.Errorf("tag %s %q does not match column type %q", TagANSIType, a, fhirType)
	}
	if m := ansiDecimal.FindStringSubmatch(a); m != nil {
		if cs.kind != ckDecimal {
			return fmt.Errorf("tag %s %q needs a decimal column, not %q", TagANSIType, a, fhirType)
		}
		p, _ := strconv.Atoi(m[2])
		s := 0
		if m[3] != "" {
			s, _ = strconv.Atoi(m[3])
		}
		if p < 1 || p > 38 || s > p {
			return fmt.Errorf("tag %s %q: precision must be 1..38 and scale <= precision", TagANSIType, a)
		}
		cs.prec, cs.sc = int32(p), int32(s)
		return nil
	}
	if m := ansiChar.FindStringSubmatch(a); m != nil {
		if cs.kind != ckString && cs.kind != ckDict {
			return mismatch()
		}
		if m[2] != "" {
			n, err := strconv.Atoi(m[2])
			if err != nil || n < 1 || n > 1<<30 {
				return fmt.Errorf("tag %s %q: the length must be 1..%d", TagANSIType, a, 1<<30)
			}
			cs.maxLen = n
		}
		return nil
	}
	if m := ansiTime.FindStringSubmatch(a); m != nil {
		isTime := strings.EqualFold(m[1], "TIME")
		if isTime && (cs.kind != ckTime || m[3] != "") || !isTime && cs.kind != ckTimestamp {
			return mismatch()
		}
		if m[2] != "" {
			p, err := strconv.Atoi(m[2])
			if err != nil || p > 6 {
				return fmt.Errorf("tag %s %q: fractional second precision must be 0..6 (microseconds)", TagANSIType, a)
			}
			cs.fracUnit = int64(pow10u64[6-p])
		}
		return nil
	}
	kinds, ok := ansiKinds[strings.ToUpper(a)]
	if !ok {
		return fmt.Errorf("tag %s: unsupported value %q", TagANSIType, a)
	}
	if !slices.Contains(kinds, cs.kind) {
		return mismatch()
	}
	return nil
}

func newColSpec(v *view.View, c *view.Column, money MoneyPolicy) (colSpec, error) {
	cs := colSpec{col: c, collection: c.Collection}
	fail := func(format string, a ...any) (colSpec, error) {
		return colSpec{}, &view.Error{File: v.File, Path: c.JSONPath, Err: fmt.Errorf("%w: %s", view.ErrInvalid, fmt.Sprintf(format, a...))}
	}
	switch c.Type {
	case "", "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary", "xhtml":
		cs.kind, cs.typ, cs.typeName = ckString, arrow.BinaryTypes.String, "string"
	case "boolean":
		cs.kind, cs.typ, cs.typeName = ckBool, arrow.FixedWidthTypes.Boolean, "boolean"
	case "integer", "positiveInt", "unsignedInt":
		cs.kind, cs.typ, cs.typeName = ckInt32, arrow.PrimitiveTypes.Int32, "int32"
	case "integer64":
		cs.kind, cs.typ, cs.typeName = ckInt64, arrow.PrimitiveTypes.Int64, "int64"
	case "decimal":
		cs.kind, cs.prec, cs.sc = ckDecimal, DefaultDecimalPrecision, DefaultDecimalScale
	case "date":
		cs.kind, cs.typ, cs.typeName = ckDate, arrow.FixedWidthTypes.Date32, "date"
	case "dateTime", "instant":
		cs.kind, cs.typ, cs.typeName = ckTimestamp, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "timestamp(us, UTC)"
	case "time":
		cs.kind, cs.typ, cs.typeName = ckTime, arrow.FixedWidthTypes.Time64us, "time64(us)"
	default:
		return fail("unsupported column type %q", c.Type)
	}
	if a, ok := c.Tag(TagANSIType); ok {
		if err := cs.ansiType(strings.TrimSpace(a), c.Type); err != nil {
			return fail("%v", err)
		}
	}
	if cs.kind == ckDecimal {
		switch money {
		case MoneyExact:
			cs.prec, cs.sc = DefaultDecimalPrecision, DefaultDecimalScale
		case MoneyRoundHalfEven:
			cs.round = v.Name + "." + c.Name
		}
		cs.typ = &arrow.Decimal128Type{Precision: cs.prec, Scale: cs.sc}
		cs.typeName = fmt.Sprintf("decimal(%d,%d)", cs.prec, cs.sc)
	}
	if (cs.kind == ckTimestamp || cs.kind == ckTime) && (money == MoneyExact || money == MoneyRoundHalfEven) {
		cs.round = v.Name + "." + c.Name
	}
	if d, ok := c.Tag(TagDictionary); ok {
		switch d {
		case "true":
			if cs.kind != ckString {
				return fail("tag %s needs a string-like column", TagDictionary)
			}
			cs.kind = ckDict
			cs.typ = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		case "false":
		default:
			return fail("tag %s must be \"true\" or \"false\"", TagDictionary)
		}
	}
	return cs, nil
}

func (cs *colSpec) field() arrow.Field {
	t := cs.typ
	if cs.collection {
		t = arrow.ListOf(t)
	}
	md := map[string]string{"fhir_type": cs.col.Type}
	if cs.col.Description != "" {
		md["description"] = cs.col.Description
	}
	return arrow.Field{Name: cs.col.Name, Type: t, Nullable: true, Metadata: arrow.MetadataFrom(md)}
}

// cval is a converted value ready to append. s may alias the input line. A decimal's i is 1
// when the value was rounded (MoneyRoundHalfEven); a timestamp's or time's s is non-empty
// when sub-microsecond digits were truncated (the field is otherwise unused for them).
type cval struct {
	i int64
	d decimal128.Num
	s string
}

// convert turns a FHIRPath item into a cval for the column, or explains why it does not fit.
func (cs *colSpec) convert(c *fhirpath.Ctx, it *fhirpath.Item) (cval, error) {
	k, s, iv := c.PrimText(it)
	if k == fhirpath.KNode {
		return cval{}, &ValueError{What: "is not a primitive", Value: string(c.Doc.Raw(it.N))}
	}
	switch cs.kind {
	case ckString, ckDict:
		if cs.maxLen > 0 && len(s) > cs.maxLen && utf8.RuneCountInString(s) > cs.maxLen {
			return cval{}, &ValueError{What: fmt.Sprintf("is longer than %d characters (would be truncated)", cs.maxLen), Value: s}
		}
		return cval{s: s}, nil
	case ckBool:
		if k != fhirpath.KBool {
			return cval{}, &ValueError{What: "is not a boolean", Value: s}
		}
		return cval{i: iv}, nil
	case ckInt32, ckInt64:
		if k != fhirpath.KInteger {
			return cval{}, &ValueError{What: "is not an integer", Value: s}
		}
		if cs.kind == ckInt32 && (iv < -1<<31 || iv > 1<<31-1) {
			return cval{}, &ValueError{What: "does not fit int32", Value: s}
		}
		return cval{i: iv}, nil
	case ckDecimal:
		if k != fhirpath.KInteger && k != fhirpath.KDecimal {
			return cval{}, &ValueError{What: "is not a number", Value: s}
		}
		if s == "" {
			s = strconv.FormatInt(iv, 10)
		}
		d, rounded, err := parseDecimal(s, cs.prec, cs.sc, cs.round != "")
		if err != nil {
			return cval{}, err
		}
		if rounded {
			return cval{d: d, i: 1}, nil
		}
		return cval{d: d}, nil
	case ckDate:
		if k != fhirpath.KString && k != fhirpath.KDate && k != fhirpath.KDateTime {
			return cval{}, &ValueError{What: "is not a date", Value: s}
		}
		d, err := parseDate(s)
		if err != nil {
			return cval{}, err
		}
		return cval{i: d}, nil
	case ckTimestamp:
		if k != fhirpath.KString && k != fhirpath.KDateTime && k != fhirpath.KDate {
			return cval{}, &ValueError{What: "is not a dateTime", Value: s}
		}
		us, err := parseDateTime(s)
		dropped := cs.truncates(err)
		if dropped {
			us, err = parseDateTime(truncFraction(s))
		}
		if err != nil {
			return cval{}, err
		}
		if cs.fracUnit > 1 && us%cs.fracUnit != 0 {
			return cval{}, &ValueError{What: "has more fractional second digits than the ansi/type allows (would be truncated)", Value: s}
		}
		return cval{i: us, s: truncMark(dropped)}, nil
	case ckTime:
		if k != fhirpath.KString && k != fhirpath.KTime {
			return cval{}, &ValueError{What: "is not a time", Value: s}
		}
		us, err := parseTime(s)
		dropped := cs.truncates(err)
		if dropped {
			us, err = parseTime(truncFraction(s))
		}
		if err != nil {
			return cval{}, err
		}
		if cs.fracUnit > 1 && us%cs.fracUnit != 0 {
			return cval{}, &ValueError{What: "has more fractional second digits than the ansi/type allows (would be truncated)", Value: s}
		}
		return cval{i: us, s: truncMark(dropped)}, nil
	}
	return cval{}, fmt.Errorf("internal: unknown column kind")
}

// ValueError is a value that does not fit its column. Error names the problem but not
// the value: values are claims data (PHI) and error text reaches logs and summaries.
// The value is kept for the quarantine record (see QuarantineRecord.Err), where an
// operator with access to the state directory can see it.
type ValueError struct {
	What  string // e.g. "is not a date"
	Value string // the offending value (PHI: never log it)
}

func (e *ValueError) Error() string { return "value " + e.What }

// Detail is Error with the value quoted (up to 60 bytes), for the quarantine record only.
func (e *ValueError) Detail() string {
	return "value " + strconv.Quote(truncate(e.Value, 60)) + " " + e.What
}

// details returns err's text with a ValueError's message replaced by its Detail.
func details(err error) string {
	msg := err.Error()
	var ve *ValueError
	if !errors.As(err, &ve) {
		return msg
	}
	short := ve.Error()
	if i := strings.LastIndex(msg, short); i >= 0 {
		return msg[:i] + ve.Detail() + msg[i+len(short):]
	}
	return msg + " (" + ve.Detail() + ")"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// appendVal appends a converted value (never fails: conversion already checked it) and says
// whether it is a rounded decimal, to be counted (Stats.countRounded).
func appendVal(kind colKind, b array.Builder, v *cval) bool {
	switch kind {
	case ckString:
		b.(*array.StringBuilder).BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(v.s), len(v.s)))
	case ckDict:
		_ = b.(*array.BinaryDictionaryBuilder).Append(unsafe.Slice(unsafe.StringData(v.s), len(v.s)))
	case ckBool:
		b.(*array.BooleanBuilder).Append(v.i == 1)
	case ckInt32:
		b.(*array.Int32Builder).Append(int32(v.i))
	case ckInt64:
		b.(*array.Int64Builder).Append(v.i)
	case ckDecimal:
		b.(*array.Decimal128Builder).Append(v.d)
		return v.i != 0
	case ckDate:
		b.(*array.Date32Builder).Append(arrow.Date32(v.i))
	case ckTimestamp:
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.i))
		return v.s != ""
	case ckTime:
		b.(*array.Time64Builder).Append(arrow.Time64(v.i))
		return v.s != ""
	}
	return false
}

var pow10u64 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// parseDecimal parses the exact decimal text s into an unscaled integer with the given scale.
// Digits beyond the scale must be zeros, unless round: then they are rounded half to even
// (rounded says it happened). The result must fit the precision. It does not allocate for
// values of up to 19 significant digits.
func parseDecimal(s string, prec, scale int32, round bool) (decimal128.Num, bool, error) {
	orig := s
	notDecimal := func() (decimal128.Num, bool, error) {
		return decimal128.Num{}, false, &ValueError{What: "is not a decimal", Value: orig}
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return notDecimal()
		}
		exp = e
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	nd := len(intPart) + len(frac)
	if nd == 0 {
		return notDecimal()
	}
	digit := func(i int) byte {
		if i < len(intPart) {
			return intPart[i]
		}
		return frac[i-len(intPart)]
	}
	lead := -1 // index of the first non-zero digit
	for i := 0; i < nd; i++ {
		c := digit(i)
		if c < '0' || c > '9' {
			return notDecimal()
		}
		if lead < 0 && c != '0' {
			lead = i
		}
	}
	if lead < 0 {
		return decimal128.Num{}, false, nil // zero
	}
	// value = D × 10^shift, D the digit string; keep D[:keep], round the rest away
	shift := exp - len(frac) + int(scale)
	keep := nd
	rounded, up := false, false
	if shift < 0 {
		keep = max(nd+shift, 0)
		for i := keep; i < nd && !rounded; i++ {
			rounded = digit(i) != '0'
		}
		if rounded && !round {
			return decimal128.Num{}, false, &ValueError{What: fmt.Sprintf("has more than %d decimal places (would be rounded)", scale), Value: orig}
		}
		if rounded && nd+shift >= 0 { // else every dropped digit is below a leading zero: round down
			first, rest := digit(keep), false
			for i := keep + 1; i < nd && !rest; i++ {
				rest = digit(i) != '0'
			}
			odd := keep > 0 && (digit(keep-1)-'0')%2 == 1
			up = first > '5' || first == '5' && (rest || odd)
		}
		shift = 0
	}
	sig := keep - lead + shift // significant digits of the result (before rounding up)
	if sig > int(prec) {
		return decimal128.Num{}, false, &ValueError{What: fmt.Sprintf("does not fit decimal(%d,%d)", prec, scale), Value: orig}
	}
	var n decimal128.Num
	if sig <= 19 {
		var u uint64
		for i := lead; i < keep; i++ {
			u = u*10 + uint64(digit(i)-'0')
		}
		n = decimal128.FromU64(u * pow10u64[shift])
	} else {
		var b strings.Builder
		for i := lead; i < keep; i++ {
			b.WriteByte(digit(i))
		}
		b.WriteString(strings.Repeat("0", shift))
		bi, ok := new(big.Int).SetString(b.String(), 10)
		if !ok {
			return notDecimal()
		}
		n = decimal128.FromBigInt(bi)
	}
	if up {
		if n = n.Add(decimal128.FromU64(1)); !n.FitsInPrecision(prec) {
			return decimal128.Num{}, false, &ValueError{What: fmt.Sprintf("does not fit decimal(%d,%d) once rounded", prec, scale), Value: orig}
		}
	}
	if neg {
		n = n.Negate()
	}
	return n, rounded, nil
}

func atoiN(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// ymd parses YYYY, YYYY-MM or YYYY-MM-DD; partial dates widen to their first day.
func ymd(s string) (y, m, d int, err error) {
	bad := &ValueError{What: "is not a date", Value: s}
	var ok bool
	m, d = 1, 1
	switch len(s) {
	case 10:
		if s[4] != '-' || s[7] != '-' {
			return 0, 0, 0, bad
		}
		if d, ok = atoiN(s[8:10]); !ok {
			return 0, 0, 0, bad
		}
		fallthrough
	case 7:
		if s[4] != '-' {
			return 0, 0, 0, bad
		}
		if m, ok = atoiN(s[5:7]); !ok {
			return 0, 0, 0, bad
		}
		fallthrough
	case 4:
		if y, ok = atoiN(s[:4]); !ok {
			return 0, 0, 0, bad
		}
	default:
		return 0, 0, 0, bad
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, bad
	}
	return y, m, d, nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseDate parses a FHIR date, or a dateTime whose date it keeps as written: the calendar
// date in the source's own offset, never shifted to UTC ("2021-03-05T23:30:00-05:00" is
// 2021-03-05). A claim's dates are local service dates; the instant, where it matters, is in
// a timestamp column beside it.
func parseDate(s string) (int64, error) {
	if len(s) > 10 && s[10] == 'T' {
		var ve *ValueError
		if _, err := parseDateTime(s); err != nil && !(errors.As(err, &ve) && ve.What == subMicro) {
			return 0, &ValueError{What: "is not a date", Value: s}
		}
		s = s[:10]
	}
	y, m, d, err := ymd(s)
	if err != nil {
		return 0, err
	}
	return daysFromCivil(y, m, d), nil
}

// parseDateTime parses a FHIR dateTime/instant into microseconds since the epoch, UTC.
// Partial values (YYYY, YYYY-MM, YYYY-MM-DD) become the first instant of the period in UTC;
// a time without a zone is taken as UTC; more than 6 fractional digits is an error.
func parseDateTime(s string) (int64, error) {
	date, rest, hasT := strings.Cut(s, "T")
	y, m, d, err := ymd(date)
	if err != nil {
		return 0, &ValueError{What: "is not a dateTime", Value: s}
	}
	days := daysFromCivil(y, m, d)
	if !hasT {
		return days * 86400e6, nil
	}
	tm, off := rest, 0
	if strings.HasSuffix(rest, "Z") {
		tm = rest[:len(rest)-1]
	} else if i := strings.LastIndexAny(rest, "+-"); i >= 0 {
		tz := rest[i:]
		tm = rest[:i]
		if len(tz) != 6 || tz[3] != ':' {
			return 0, &ValueError{What: "is not a dateTime", Value: s}
		}
		hh, ok1 := atoiN(tz[1:3])
		mm, ok2 := atoiN(tz[4:6])
		if !ok1 || !ok2 || hh > 14 || mm > 59 {
			return 0, &ValueError{What: "is not a dateTime", Value: s}
		}
		off = hh*3600 + mm*60
		if tz[0] == '-' {
			off = -off
		}
	}
	us, err := parseTime(tm)
	if err != nil {
		what := "is not a dateTime"
		if err.(*ValueError).What == subMicro {
			what = subMicro
		}
		return 0, &ValueError{What: what, Value: s}
	}
	return days*86400e6 + us - int64(off)*1e6, nil
}

const subMicro = "has sub-microsecond precision (would be truncated)"

// truncates says whether err refuses sub-microsecond digits that the column's policy lets
// it truncate instead.
func (cs *colSpec) truncates(err error) bool {
	var ve *ValueError
	return err != nil && cs.round != "" && errors.As(err, &ve) && ve.What == subMicro
}

// truncFraction drops the fractional-second digits of s after the sixth.
func truncFraction(s string) string {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s
	}
	j := i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j-i-1 <= 6 {
		return s
	}
	return s[:i+7] + s[j:]
}

// truncMark is the cval.s of a truncated time ("" when nothing was dropped).
func truncMark(dropped bool) string {
	if dropped {
		return "truncated"
	}
	return ""
}

// parseTime parses hh:mm[:ss[.ffffff]] into microseconds since midnight.
func parseTime(s string) (int64, error) {
	bad := &ValueError{What: "is not a time", Value: s}
	if len(s) < 5 || s[2] != ':' {
		return 0, bad
	}
	hh, ok1 := atoiN(s[0:2])
	mm, ok2 := atoiN(s[3:5])
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, bad
	}
	var ss, frac int
	if len(s) > 5 {
		if s[5] != ':' || len(s) < 8 {
			return 0, bad
		}
		var ok bool
		if ss, ok = atoiN(s[6:8]); !ok || ss > 60 {
			return 0, bad
		}
		if len(s) > 8 {
			f := s[8:]
			if f[0] != '.' || len(f) < 2 {
				return 0, bad
			}
			f = f[1:]
			if len(f) > 6 {
				if strings.Trim(f[6:], "0") != "" {
					return 0, &ValueError{What: subMicro, Value: s}
				}
				f = f[:6]
			}
			if frac, ok = atoiN(f); !ok {
				return 0, bad
			}
			frac *= int(pow10u64[6-len(f)])
		}
	}
	return int64(hh)*3600e6 + int64(mm)*60e6 + int64(ss)*1e6 + int64(frac), nil
}
