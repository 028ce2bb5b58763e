package fhirpath

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

func (cp *compiler) compileBinary(n *astNode, top bool) (evalFn, error) {
	op := n.name
	lfn, err := cp.compile(n.args[0], top)
	if err != nil {
		return nil, err
	}
	if op == "is" || op == "as" {
		return typeTest(lfn, n.args[1].name, op == "is"), nil
	}
	// `p = 'a' or p = 'b' or ...` (same p): walk p once and test membership.
	if op == "or" {
		if path, lits, ok := eqChain(n); ok && len(lits) > 1 {
			pfn, err := cp.compile(path, top)
			if err != nil {
				return nil, err
			}
			return eqStrings(pfn, lits, false), nil
		}
	}
	// Fast path for the claims idiom `path = 'literal'`.
	if r := n.args[1]; (op == "=" || op == "!=") && r.kind == nLit && r.lit.K == KString {
		return eqStrings(lfn, []string{r.lit.S}, op == "!="), nil
	}
	rfn, err := cp.compile(n.args[1], top)
	if err != nil {
		return nil, err
	}
	if op == "and" || op == "or" {
		return shortCircuit(lfn, rfn, op), nil
	}
	if op == "|" {
		return union(lfn, rfn), nil
	}
	comb, err := combinator(op)
	if err != nil {
		return nil, err
	}
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := lfn(c, lo, hi); err != nil {
			return err
		}
		b := len(c.st)
		if err := rfn(c, lo, hi); err != nil {
			return err
		}
		it, ok, err := comb(c, a, b, len(c.st))
		c.st = c.st[:a]
		if err != nil {
			return err
		}
		if ok {
			c.st = append(c.st, it)
		}
		return nil
	}, nil
}

func isNum(k Kind) bool { return k == KInteger || k == KDecimal }

func (c *Ctx) equal(x, y *Item, equiv bool) bool {
	if x.K == KNode && y.K == KNode && x.N == y.N {
		return true
	}
	kx, sx, fx, ix := c.prim(x)
	ky, sy, fy, iy := c.prim(y)
	switch {
	case kx == KNode || ky == KNode:
		if kx != ky {
			return false
		}
		return bytes.Equal(c.Doc.Raw(x.N), c.Doc.Raw(y.N))
	case isNum(kx) && isNum(ky):
		if kx == KInteger && ky == KInteger {
			return ix == iy
		}
		return fx == fy
	case kx == KBool || ky == KBool:
		return kx == ky && ix == iy
	case isNum(kx) || isNum(ky):
		return false
	}
	if equiv {
		return strings.EqualFold(strings.Join(strings.Fields(sx), " "), strings.Join(strings.Fields(sy), " "))
	}
	return sx == sy
}

func (c *Ctx) compare(x, y *Item) (int, bool) {
	kx, sx, fx, _ := c.prim(x)
	ky, sy, fy, _ := c.prim(y)
	switch {
	case isNum(kx) && isNum(ky):
		switch {
		case fx < fy:
			return -1, true
		case fx > fy:
			return 1, true
		}
		return 0, true
	case kx == KNode || ky == KNode || kx == KBool || ky == KBool || isNum(kx) || isNum(ky):
		return 0, false
	}
	return strings.Compare(sx, sy), true
}

func (c *Ctx) arith(op string, x, y *Item) (Item, bool, error) {
	kx, sx, fx, ix := c.prim(x)
	ky, sy, fy, iy := c.prim(y)
	if op == "+" && kx == KString && ky == KString {
		return Item{N: -1, K: KString, S: sx + sy}, true, nil
	}
	if !isNum(kx) || !isNum(ky) {
		return Item{}, false, evalErr("arithmetic %s on non-numbers", op)
	}
	if kx == KInteger && ky == KInteger {
		var r int64
		switch op {
		case "+":
			r = ix + iy
		case "-":
			r = ix - iy
		case "*":
			r = ix * iy
		case "div":
			if iy == 0 {
				return Item{}, false, nil
			}
			r = ix / iy
		case "mod":
			if iy == 0 {
				return Item{}, false, nil
			}
			r = ix % iy
		case "/":
			if iy == 0 {
				return Item{}, false, nil
			}
			f := float64(ix) / float64(iy)
			return Item{N: -1, K: KDecimal, F: f, S: strconv.FormatFloat(f, 'f', -1, 64)}, true, nil
		}
		return Item{N: -1, K: KInteger, I: r, F: float64(r), S: strconv.FormatInt(r, 10)}, true, nil
	}
	var f float64
	switch op {
	case "+":
		f = fx + fy
	case "-":
		f = fx - fy
	case "*":
		f = fx * fy
	case "/":
		if fy == 0 {
			return Item{}, false, nil
		}
		f = fx / fy
	case "div":
		if fy == 0 {
			return Item{}, false, nil
		}
		f = math.Trunc(fx / fy)
		return Item{N: -1, K: KInteger, I: int64(f), F: f, S: strconv.FormatInt(int64(f), 10)}, true, nil
	case "mod":
		if fy == 0 {
			return Item{}, false, nil
		}
		f = math.Mod(fx, fy)
	}
	// round to the larger scale of the operands to avoid binary noise in + and -
	if op == "+" || op == "-" {
		sc := max(scaleOf(sx), scaleOf(sy))
		return Item{N: -1, K: KDecimal, F: f, S: strconv.FormatFloat(f, 'f', sc, 64)}, true, nil
	}
	return Item{N: -1, K: KDecimal, F: f, S: strconv.FormatFloat(f, 'f', -1, 64)}, true, nil
}

func scaleOf(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		e := strings.IndexAny(s, "eE")
		if e < 0 {
			e = len(s)
		}
		return e - i - 1
	}
	return 0
}

// typeTest is `x is T` / x.is(T) (a boolean) and `x as T` / x.as(T) / x.ofType(T) (the
// items of x of type T, which then carry T as their type hint).
func typeTest(lfn evalFn, tn string, is bool) evalFn {
	hint := normType(tn)
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := lfn(c, lo, hi); err != nil {
			return err
		}
		w := a
		for k := a; k < len(c.st); k++ {
			if c.matchType(&c.st[k], tn) {
				c.st[w] = c.st[k]
				c.st[w].T = hint
				w++
			}
		}
		c.st = c.st[:w]
		if is {
			c.st = append(c.st[:a], boolItem(w > a))
		}
		return nil
	}
}

// shortCircuit is `and`/`or`: the right side is not evaluated when the left decides.
func shortCircuit(lfn, rfn evalFn, op string) evalFn {
	decide := 0 // "and": false decides
	if op == "or" {
		decide = 1
	}
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := lfn(c, lo, hi); err != nil {
			return err
		}
		l, err := c.truth(a, len(c.st))
		c.st = c.st[:a]
		if err != nil {
			return err
		}
		if l == decide {
			c.st = append(c.st, boolItem(l == 1))
			return nil
		}
		if err := rfn(c, lo, hi); err != nil {
			return err
		}
		r, err := c.truth(a, len(c.st))
		c.st = c.st[:a]
		if err != nil {
			return err
		}
		switch {
		case r == decide:
			c.st = append(c.st, boolItem(r == 1))
		case l >= 0 && r >= 0:
			c.st = append(c.st, boolItem(r == 1))
		}
		return nil
	}
}

// combFn combines the operands st[a:b] and st[b:e] of a binary operator into one result
// item, or none (ok false) when FHIRPath gives empty.
type combFn func(c *Ctx, a, b, e int) (it Item, ok bool, err error)

// combinator returns the combFn of a binary operator (other than and/or, is/as and |).
func combinator(op string) (combFn, error) {
	switch op {
	case "xor", "implies":
		return func(c *Ctx, a, b, e int) (Item, bool, error) {
			l, err := c.truth(a, b)
			if err != nil {
				return Item{}, false, err
			}
			r, err := c.truth(b, e)
			if err != nil {
				return Item{}, false, err
			}
			switch op {
			case "xor":
				if l >= 0 && r >= 0 {
					return boolItem(l != r), true, nil
				}
			case "implies":
				if l == 0 || r == 1 {
					return boolItem(true), true, nil
				}
				if l == 1 && r == 0 {
					return boolItem(false), true, nil
				}
			}
			return Item{}, false, nil
		}, nil
	case "=", "!=", "~", "!~":
		return func(c *Ctx, a, b, e int) (Item, bool, error) {
			if a == b || b == e {
				if op == "~" || op == "!~" {
					return boolItem((a == b && b == e) == (op == "~")), true, nil
				}
				return Item{}, false, nil
			}
			eq := b-a == e-b
			for k := 0; eq && k < b-a; k++ {
				eq = c.equal(&c.st[a+k], &c.st[b+k], op == "~" || op == "!~")
			}
			if op == "!=" || op == "!~" {
				eq = !eq
			}
			return boolItem(eq), true, nil
		}, nil
	case "<", ">", "<=", ">=":
		return func(c *Ctx, a, b, e int) (Item, bool, error) {
			if a == b || b == e {
				return Item{}, false, nil
			}
			if b-a != 1 || e-b != 1 {
				return Item{}, false, evalErr("comparison %s on a collection", op)
			}
			cmp, ok := c.compare(&c.st[a], &c.st[b])
			if !ok {
				return Item{}, false, nil
			}
			var r bool
			switch op {
			case "<":
				r = cmp < 0
			case ">":
				r = cmp > 0
			case "<=":
				r = cmp <= 0
			case ">=":
				r = cmp >= 0
			}
			return boolItem(r), true, nil
		}, nil
	case "+", "-", "*", "/", "div", "mod", "&":
		return func(c *Ctx, a, b, e int) (Item, bool, error) {
			if op == "&" {
				if b-a > 1 || e-b > 1 {
					return Item{}, false, evalErr("& on a collection")
				}
				var ls, rs string
				if b > a {
					ls = c.String(&c.st[a])
				}
				if e > b {
					rs = c.String(&c.st[b])
				}
				return Item{N: -1, K: KString, S: ls + rs}, true, nil
			}
			if a == b || b == e {
				return Item{}, false, nil
			}
			if b-a != 1 || e-b != 1 {
				return Item{}, false, evalErr("arithmetic %s on a collection", op)
			}
			return c.arith(op, &c.st[a], &c.st[b])
		}, nil
	case "in", "contains":
		return func(c *Ctx, a, b, e int) (Item, bool, error) {
			el, cl, ch := a, b, e // element a..b in collection b..e
			if op == "contains" {
				el, cl, ch = b, a, b
				if e-b == 0 {
					return Item{}, false, nil
				}
				if e-b != 1 {
					return Item{}, false, evalErr("contains with a collection operand")
				}
			} else {
				if b-a == 0 {
					return Item{}, false, nil
				}
				if b-a != 1 {
					return Item{}, false, evalErr("in with a collection operand")
				}
			}
			for k := cl; k < ch; k++ {
				if c.equal(&c.st[el], &c.st[k], false) {
					return boolItem(true), true, nil
				}
			}
			return boolItem(false), true, nil
		}, nil
	default:
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
}

// union is `l | r`: both sides, duplicates removed (first occurrences kept).
func union(lfn, rfn evalFn) evalFn {
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := lfn(c, lo, hi); err != nil {
			return err
		}
		if err := rfn(c, lo, hi); err != nil {
			return err
		}
		c.dedupe(a)
		return nil
	}
}

// dedupe removes from st[a:] the items equal to an earlier one in st[a:] (FHIRPath `|` and distinct()).
func (c *Ctx) dedupe(a int) {
	w := a
	for k := a; k < len(c.st); k++ {
		dup := false
		for j := a; j < w && !dup; j++ {
			dup = c.equal(&c.st[j], &c.st[k], false)
		}
		if !dup {
			c.st[w] = c.st[k]
			w++
		}
	}
	c.st = c.st[:w]
}
