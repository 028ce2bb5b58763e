package verify

import "fmt"

// jsonLines checks, as bytes stream by, that every line is exactly one JSON
// object (an NDJSON resource): the proof of structure a file without a
// checksum still gets. It is a full syntax check, not a look at the first and
// last byte, so a line cut inside a string or two objects on one line fail.
// Strings are scanned in a tight loop since they are most of a FHIR resource.
type jsonLines struct {
	st    uint8
	after uint8  // the state a finished string or literal returns to
	lit   string // rest of true/false/null
	hex   int    // \u digits still to come
	stack []byte // open '{' and '['
	line  int64  // lines completed so far
	err   error
}

const (
	jLineStart = iota // before a line's object (whitespace allowed, not a blank line)
	jLineLead         // whitespace before a line's object
	jKeyOrEnd         // after '{'
	jKey              // after ',' in an object
	jColon            // after a key
	jValue            // after ':' or ',' in an array
	jValOrEnd         // after '['
	jAfter            // after a value inside a container
	jLineEnd          // after the line's object: whitespace, then '\n'
	jString
	jEscape
	jHex
	jLiteral
	jNumStart // after '-'
	jZero     // "0" or "-0"
	jInt
	jDot
	jFrac
	jExp
	jExpSign
	jExpDigits
)

// stringStop marks the bytes that end a run of plain string bytes.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func (j *jsonLines) fail(format string, a ...any) {
	if j.err == nil {
		j.err = fmt.Errorf("line %d: %s", j.line+1, fmt.Sprintf(format, a...))
	}
}

// write feeds p; after the first error it ignores everything.
func (j *jsonLines) write(p []byte) {
	for i := 0; i < len(p) && j.err == nil; i++ {
		c := p[i]
		switch j.st {
		case jString:
			for i < len(p) && !stringStop[p[i]] { // the hot loop
				i++
			}
			if i < len(p) {
				c = p[i]
			}
			switch {
			case i == len(p):
			case c == '"':
				j.st = j.after
			case c == '\\':
				j.st = jEscape
			default:
				j.fail("control byte 0x%02x in a string", c)
			}
		case jEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j.st = jString
			case 'u':
				j.st, j.hex = jHex, 4
			default:
				j.fail("bad escape \\%c", c)
			}
		case jHex:
			if !isHex(c) {
				j.fail("bad \\u escape")
			} else if j.hex--; j.hex == 0 {
				j.st = jString
			}
		case jLiteral:
			if c != j.lit[0] {
				j.fail("bad literal")
			} else if j.lit = j.lit[1:]; j.lit == "" {
				j.st = jAfter
			}
		case jNumStart, jZero, jInt, jDot, jFrac, jExp, jExpSign, jExpDigits:
			if j.number(c) {
				i-- // the byte ends the number: read it again as what follows
			}
		default:
			j.structural(c)
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number advances a number by c; true when c is not part of it (the number ended).
func (j *jsonLines) number(c byte) bool {
	switch st := j.st; {
	case (st == jNumStart) && c == '0':
		j.st = jZero
	case (st == jNumStart || st == jInt) && isDigit(c):
		j.st = jInt
	case (st == jZero || st == jInt) && c == '.':
		j.st = jDot
	case (st == jDot || st == jFrac) && isDigit(c):
		j.st = jFrac
	case (st == jZero || st == jInt || st == jFrac) && (c == 'e' || c == 'E'):
		j.st = jExp
	case st == jExp && (c == '+' || c == '-'):
		j.st = jExpSign
	case (st == jExp || st == jExpSign || st == jExpDigits) && isDigit(c):
		j.st = jExpDigits
	case st == jZero || st == jInt || st == jFrac || st == jExpDigits:
		j.st = jAfter
		return true
	default:
		j.fail("bad number")
	}
	return false
}

func (j *jsonLines) structural(c byte) {
	if isSpace(c) {
		if j.st == jLineStart {
			j.st = jLineLead
		}
		return
	}
	switch j.st {
	case jLineStart, jLineLead:
		if c != '{' {
			j.fail("does not start with '{' (each line must be one JSON resource)")
			return
		}
		j.stack, j.st = append(j.stack[:0], '{'), jKeyOrEnd
	case jLineEnd:
		if c != '\n' {
			j.fail("more than one JSON value on the line")
			return
		}
		j.line++
		j.st = jLineStart
	case jKeyOrEnd, jKey:
		switch {
		case c == '"':
			j.st, j.after = jString, jColon
		case c == '}' && j.st == jKeyOrEnd:
			j.close(c)
		default:
			j.fail("expected a key")
		}
	case jColon:
		if c != ':' {
			j.fail("expected ':'")
		}
		j.st = jValue
	case jValOrEnd, jValue:
		if c == ']' && j.st == jValOrEnd {
			j.close(c)
			return
		}
		j.value(c)
	case jAfter:
		top := j.stack[len(j.stack)-1]
		switch {
		case c == ',' && top == '{':
			j.st = jKey
		case c == ',':
			j.st = jValue
		case c == '}' || c == ']':
			j.close(c)
		default:
			j.fail("expected ',' or the end of the %s", map[byte]string{'{': "object", '[': "array"}[top])
		}
	}
}

// maxDepth bounds nesting as encoding/json does: a line of 50 MB of '[' costs
// no more than that.
const maxDepth = 10000

func (j *jsonLines) value(c byte) {
	if (c == '{' || c == '[') && len(j.stack) >= maxDepth {
		j.fail("nested deeper than %d", maxDepth)
		return
	}
	switch {
	case c == '{':
		j.stack, j.st = append(j.stack, '{'), jKeyOrEnd
	case c == '[':
		j.stack, j.st = append(j.stack, '['), jValOrEnd
	case c == '"':
		j.st, j.after = jString, jAfter
	case c == '-':
		j.st = jNumStart
	case c == '0':
		j.st = jZero
	case isDigit(c):
		j.st = jInt
	case c == 't':
		j.st, j.lit = jLiteral, "rue"
	case c == 'f':
		j.st, j.lit = jLiteral, "alse"
	case c == 'n':
		j.st, j.lit = jLiteral, "ull"
	case c == '\n':
		j.fail("the line ends inside the JSON value")
	default:
		j.fail("unexpected %q", c)
	}
}

func (j *jsonLines) close(c byte) {
	top := j.stack[len(j.stack)-1]
	if (top == '{') != (c == '}') {
		j.fail("%q closes a %q", c, top)
		return
	}
	j.stack = j.stack[:len(j.stack)-1]
	j.st = jAfter
	if len(j.stack) == 0 {
		j.st = jLineEnd
	}
}

// end reports whether the bytes so far end cleanly: after a whole line.
func (j *jsonLines) end() error {
	if j.err == nil && j.st != jLineStart && j.st != jLineEnd {
		j.fail("the file ends inside a JSON value")
	}
	return j.err
}

func (j *jsonLines) reset() { *j = jsonLines{stack: j.stack[:0]} }
