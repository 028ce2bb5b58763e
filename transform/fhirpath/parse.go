package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
)

// tokens
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate // @...
	tExt  // %name
	tDollar
	tOp
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			e := strings.Index(src[i+2:], "*/")
			if e < 0 {
				return nil, fmt.Errorf("unterminated comment at %d", i)
			}
			i += e + 4
		case isIdentStart(c):
			s := i
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			toks = append(toks, token{tIdent, src[s:i], s})
		case c == '`':
			e := strings.IndexByte(src[i+1:], '`')
			if e < 0 {
				return nil, fmt.Errorf("unterminated `identifier` at %d", i)
			}
			if e == 0 {
				return nil, fmt.Errorf("empty `identifier` at %d", i)
			}
			toks = append(toks, token{tIdent, src[i+1 : i+1+e], i})
			i += e + 2
		case c == '\'':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, s, i})
			i = n
		case c >= '0' && c <= '9':
			s := i
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			toks = append(toks, token{tNumber, src[s:i], s})
		case c == '@':
			s := i
			i++
			for i < len(src) && (isIdentChar(src[i]) || strings.IndexByte("-:.+TZ", src[i]) >= 0) {
				if src[i] == '.' && (i+1 == len(src) || src[i+1] < '0' || src[i+1] > '9') {
					break // @2014.lowBoundary(): the dot invokes a function, it is not a fraction
				}
				i++
			}
			if i == s+1 {
				return nil, fmt.Errorf("invalid date/time literal at %d", s)
			}
			toks = append(toks, token{tDate, src[s+1 : i], s})
		case c == '%':
			s := i
			i++
			if i < len(src) && src[i] == '`' {
				e := strings.IndexByte(src[i+1:], '`')
				if e < 0 {
					return nil, fmt.Errorf("unterminated %%`name` at %d", s)
				}
				toks = append(toks, token{tExt, src[i+1 : i+1+e], s})
				i += e + 2
				continue
			}
			if i < len(src) && src[i] == '\'' {
				str, n, err := lexString(src, i)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tExt, str, s})
				i = n
				continue
			}
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			if i == s+1 {
				return nil, fmt.Errorf("invalid %% at %d", s)
			}
			toks = append(toks, token{tExt, src[s+1 : i], s})
		case c == '$':
			s := i
			i++
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			toks = append(toks, token{tDollar, src[s:i], s})
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "<=", ">=", "!=", "!~":
				toks = append(toks, token{tOp, two, i})
				i += 2
				continue
			}
			if strings.IndexByte(".,()[]{}=<>+-*/&|~", c) >= 0 {
				toks = append(toks, token{tOp, string(c), i})
				i++
				continue
			}
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	toks = append(toks, token{tEOF, "", len(src)})
	return toks, nil
}

func lexString(src string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		if c == '\'' {
			return b.String(), j + 1, nil
		}
		if c == '\\' && j+1 < len(src) {
			j++
			switch src[j] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if j+5 > len(src) {
					return "", 0, fmt.Errorf("invalid \\u escape at %d", j)
				}
				r, err := strconv.ParseUint(src[j+1:j+5], 16, 32)
				if err != nil {
					return "", 0, fmt.Errorf("invalid \\u escape at %d", j)
				}
				b.WriteRune(rune(r))
				j += 4
			default:
				b.WriteByte(src[j])
			}
			j++
			continue
		}
		b.WriteByte(c)
		j++
	}
	return "", 0, fmt.Errorf("unterminated string at %d", i)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// AST
type nodeKind uint8

const (
	nLit     nodeKind = iota // literal
	nEmpty                   // {}
	nIdent                   // member access on focus (or the invocation target)
	nFunc                    // function call on the focus/target
	nExt                     // %constant
	nThis                    // $this
	nIndex                   // $index
	nBinary                  // operator
	nUnary                   // unary minus / plus
	nInvoke                  // target.member / target.fn()
	nIndexer                 // target[index]
)

type astNode struct {
	kind   nodeKind
	name   string // ident, function name, operator, constant name
	lit    Item
	args   []*astNode
	target *astNode
	pos    int
	// stopFirst: a where() whose result only feeds first(), so it stops at the first match
	stopFirst bool
	// plain: compile without the first-after-where fast path (its own fallback)
	plain bool
}

type parser struct {
	toks []token
	p    int
}

func (ps *parser) peek() token { return ps.toks[ps.p] }
func (ps *parser) next() token {
	t := ps.toks[ps.p]
	if t.kind != tEOF {
		ps.p++
	}
	return t
}

func (ps *parser) isOp(s string) bool {
	t := ps.peek()
	return t.kind == tOp && t.text == s
}

func parseExpr(src string) (*astNode, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	ps := &parser{toks: toks}
	n, err := ps.expr(0)
	if err != nil {
		return nil, err
	}
	if t := ps.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
	}
	return n, nil
}

// binary operator precedence, low to high
var precedence = []([]string){
	{"implies"},
	{"or", "xor"},
	{"and"},
	{"in", "contains"},
	{"=", "~", "!=", "!~"},
	{"<=", "<", ">", ">="},
	{"|"},
	{"is", "as"},
	{"+", "-", "&"},
	{"*", "/", "div", "mod"},
}

func (ps *parser) matchOp(level int) (string, bool) {
	t := ps.peek()
	if t.kind != tOp && t.kind != tIdent {
		return "", false
	}
	for _, op := range precedence[level] {
		if t.text == op {
			return op, true
		}
	}
	return "", false
}

func (ps *parser) expr(level int) (*astNode, error) {
	if level >= len(precedence) {
		return ps.unary()
	}
	left, err := ps.expr(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op, ok := ps.matchOp(level)
		if !ok {
			return left, nil
		}
		t := ps.next()
		var right *astNode
		if op == "is" || op == "as" {
			tn, err := ps.typeName()
			if err != nil {
				return nil, err
			}
			right = &astNode{kind: nIdent, name: tn, pos: t.pos}
		} else {
			right, err = ps.expr(level + 1)
			if err != nil {
				return nil, err
			}
		}
		left = &astNode{kind: nBinary, name: op, args: []*astNode{left, right}, pos: t.pos}
	}
}

func (ps *parser) typeName() (string, error) {
	t := ps.next()
	if t.kind != tIdent {
		return "", fmt.Errorf("expected type name at %d", t.pos)
	}
	name := t.text
	for ps.isOp(".") {
		ps.next()
		t = ps.next()
		if t.kind != tIdent {
			return "", fmt.Errorf("expected type name at %d", t.pos)
		}
		name += "." + t.text
	}
	return name, nil
}

func (ps *parser) unary() (*astNode, error) {
	if ps.isOp("-") || ps.isOp("+") {
		t := ps.next()
		operand, err := ps.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return operand, nil
		}
		return &astNode{kind: nUnary, name: "-", args: []*astNode{operand}, pos: t.pos}, nil
	}
	return ps.postfix()
}

func (ps *parser) postfix() (*astNode, error) {
	n, err := ps.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case ps.isOp("."):
			ps.next()
			m, err := ps.invocation()
			if err != nil {
				return nil, err
			}
			m.target = n
			n = m
		case ps.isOp("["):
			t := ps.next()
			idx, err := ps.expr(0)
			if err != nil {
				return nil, err
			}
			if !ps.isOp("]") {
				return nil, fmt.Errorf("expected ']' at %d", ps.peek().pos)
			}
			ps.next()
			n = &astNode{kind: nIndexer, target: n, args: []*astNode{idx}, pos: t.pos}
		default:
			return n, nil
		}
	}
}

// invocation: identifier or function call.
func (ps *parser) invocation() (*astNode, error) {
	t := ps.next()
	if t.kind != tIdent {
		if t.kind == tDollar && t.text == "$this" {
			return &astNode{kind: nThis, pos: t.pos}, nil
		}
		return nil, fmt.Errorf("expected identifier at %d", t.pos)
	}
	if ps.isOp("(") {
		ps.next()
		var args []*astNode
		if !ps.isOp(")") {
			for {
				a, err := ps.expr(0)
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if ps.isOp(",") {
					ps.next()
					continue
				}
				break
			}
		}
		if !ps.isOp(")") {
			return nil, fmt.Errorf("expected ')' at %d", ps.peek().pos)
		}
		ps.next()
		return &astNode{kind: nFunc, name: t.text, args: args, pos: t.pos}, nil
	}
	return &astNode{kind: nIdent, name: t.text, pos: t.pos}, nil
}

func (ps *parser) term() (*astNode, error) {
	t := ps.peek()
	switch t.kind {
	case tString:
		ps.next()
		return &astNode{kind: nLit, lit: Item{N: -1, K: KString, S: t.text}, pos: t.pos}, nil
	case tNumber:
		ps.next()
		if strings.IndexByte(t.text, '.') >= 0 {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid number %q", t.text)
			}
			return &astNode{kind: nLit, lit: Item{N: -1, K: KDecimal, F: f, S: t.text}, pos: t.pos}, nil
		}
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", t.text)
		}
		return &astNode{kind: nLit, lit: Item{N: -1, K: KInteger, I: i, F: float64(i), S: t.text}, pos: t.pos}, nil
	case tDate:
		ps.next()
		s := t.text
		switch {
		case strings.HasPrefix(s, "T"):
			return &astNode{kind: nLit, lit: Item{N: -1, K: KTime, S: s[1:]}, pos: t.pos}, nil
		case strings.Contains(s, "T"):
			return &astNode{kind: nLit, lit: Item{N: -1, K: KDateTime, S: strings.TrimSuffix(s, "T")}, pos: t.pos}, nil
		default:
			return &astNode{kind: nLit, lit: Item{N: -1, K: KDate, S: s}, pos: t.pos}, nil
		}
	case tExt:
		ps.next()
		return &astNode{kind: nExt, name: t.text, pos: t.pos}, nil
	case tDollar:
		ps.next()
		switch t.text {
		case "$this":
			return &astNode{kind: nThis, pos: t.pos}, nil
		case "$index":
			return &astNode{kind: nIndex, pos: t.pos}, nil
		}
		return nil, fmt.Errorf("unknown variable %q at %d", t.text, t.pos)
	case tIdent:
		switch t.text {
		case "true", "false":
			ps.next()
			b := int64(0)
			if t.text == "true" {
				b = 1
			}
			return &astNode{kind: nLit, lit: Item{N: -1, K: KBool, I: b}, pos: t.pos}, nil
		}
		return ps.invocation()
	case tOp:
		switch t.text {
		case "(":
			ps.next()
			n, err := ps.expr(0)
			if err != nil {
				return nil, err
			}
			if !ps.isOp(")") {
				return nil, fmt.Errorf("expected ')' at %d", ps.peek().pos)
			}
			ps.next()
			return n, nil
		case "{":
			ps.next()
			if !ps.isOp("}") {
				return nil, fmt.Errorf("expected '}' at %d", ps.peek().pos)
			}
			ps.next()
			return &astNode{kind: nEmpty, pos: t.pos}, nil
		}
	case tEOF:
		return nil, fmt.Errorf("unexpected end of expression")
	}
	return nil, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
}
