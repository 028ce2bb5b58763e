package fhirpath

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// Functions lists the supported FHIRPath functions (sorted), for documentation and errors.
func Functions() []string {
	names := make([]string, 0, len(funcArity))
	for k := range funcArity {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// funcArity gives min and max argument counts.
var funcArity = map[string][2]int{
	"where": {1, 1}, "exists": {0, 1}, "empty": {0, 0}, "count": {0, 0}, "first": {0, 0},
	"last": {0, 0}, "not": {0, 0}, "ofType": {1, 1}, "as": {1, 1}, "is": {1, 1}, "extension": {1, 1},
	"join": {0, 1}, "lowBoundary": {0, 1}, "highBoundary": {0, 1}, "getResourceKey": {0, 0},
	"getReferenceKey": {0, 1}, "iif": {2, 3}, "single": {0, 0}, "tail": {0, 0}, "skip": {1, 1},
	"take": {1, 1}, "select": {1, 1}, "hasValue": {0, 0}, "toString": {0, 0}, "startsWith": {1, 1},
	"endsWith": {1, 1}, "contains": {1, 1}, "lower": {0, 0}, "upper": {0, 0}, "length": {0, 0},
	"substring": {1, 2}, "allTrue": {0, 0}, "anyTrue": {0, 0}, "distinct": {0, 0}, "trim": {0, 0},
	"toInteger": {0, 0}, "toDecimal": {0, 0},
}

// constArg evaluates an argument that must not depend on the focus (a literal or %constant).
func (cp *compiler) constArg(n *astNode, fname string) (Item, bool, error) {
	switch n.kind {
	case nLit:
		return n.lit, true, nil
	case nEmpty:
		return Item{}, false, nil
	case nExt:
		v, ok := cp.env.Constants[n.name]
		if !ok {
			return Item{}, false, fmt.Errorf("undefined constant %%%s", n.name)
		}
		return v, true, nil
	case nIdent:
		// type names as arguments (ofType(Quantity), getReferenceKey(Patient))
		return Item{N: -1, K: KString, S: n.name}, true, nil
	}
	return Item{}, false, fmt.Errorf("%s(): argument must be a literal or a %%constant", fname)
}

func typeArg(n *astNode, fname string) (string, error) {
	switch {
	case n.kind == nIdent && n.target == nil:
		return n.name, nil
	case n.kind == nIdent && n.target != nil && n.target.kind == nIdent && n.target.target == nil:
		return n.target.name + "." + n.name, nil
	}
	return "", fmt.Errorf("%s(): argument must be a type name", fname)
}

func (cp *compiler) compileFunc(n *astNode) (evalFn, error) {
	ar, ok := funcArity[n.name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", n.name)
	}
	// Functions that read members by name must list them here: the parser skips members
	// that no expression names (jsontree.KeySet).
	switch n.name {
	case "extension":
		cp.names["extension"], cp.names["url"] = true, true
	case "getReferenceKey":
		cp.names["reference"] = true
	case "getResourceKey":
		cp.names["id"] = true
	case "lowBoundary", "highBoundary":
		cp.names["start"], cp.names["end"] = true, true // on a Period
	}
	if len(n.args) < ar[0] || len(n.args) > ar[1] {
		return nil, fmt.Errorf("%s(): wrong number of arguments (%d)", n.name, len(n.args))
	}
	switch n.name {
	case "where", "select", "exists":
		if n.name == "exists" && len(n.args) == 0 {
			return func(c *Ctx, lo, hi int) error {
				c.st = append(c.st, boolItem(hi > lo))
				return nil
			}, nil
		}
		crit, err := cp.compile(n.args[0], false)
		if err != nil {
			return nil, err
		}
		name, stopFirst := n.name, n.stopFirst
		if name != "select" && !cp.noPred {
			if p := cp.compilePred(n.args[0]); p != nil {
				return predFilter(p, crit, name == "exists", stopFirst), nil
			}
		}
		return func(c *Ctx, lo, hi int) error {
			out := len(c.st)
			any := false
			for k := lo; k < hi; k++ {
				t, err := c.evalOn(crit, k, lo)
				if err != nil {
					return err
				}
				if name == "select" {
					c.compact(t, t+1)
					if stopFirst && len(c.st) > out {
						break
					}
					continue
				}
				r, err := c.truth(t+1, len(c.st))
				if err != nil {
					return err
				}
				if r == 1 {
					any = true
					c.st = c.st[:t+1] // keep the item
					if name == "exists" || stopFirst {
						break
					}
				} else {
					c.st = c.st[:t]
				}
			}
			if name == "exists" {
				c.st = c.st[:out]
				c.st = append(c.st, boolItem(any))
			}
			return nil
		}, nil
	case "empty":
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, boolItem(hi == lo))
			return nil
		}, nil
	case "count":
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, Item{N: -1, K: KInteger, I: int64(hi - lo), F: float64(hi - lo)})
			return nil
		}, nil
	case "first":
		return func(c *Ctx, lo, hi int) error {
			if hi > lo {
				c.st = append(c.st, c.st[lo])
			}
			return nil
		}, nil
	case "last":
		return func(c *Ctx, lo, hi int) error {
			if hi > lo {
				c.st = append(c.st, c.st[hi-1])
			}
			return nil
		}, nil
	case "single":
		return func(c *Ctx, lo, hi int) error {
			if hi-lo > 1 {
				return evalErr("single() on a collection of %d", hi-lo)
			}
			c.st = append(c.st, c.st[lo:hi]...)
			return nil
		}, nil
	case "tail":
		return func(c *Ctx, lo, hi int) error {
			if hi > lo {
				c.st = append(c.st, c.st[lo+1:hi]...)
			}
			return nil
		}, nil
	case "skip", "take":
		a, ok, err := cp.constArg(n.args[0], n.name)
		if err != nil {
			return nil, err
		}
		if !ok || a.K != KInteger {
			return nil, fmt.Errorf("%s(): argument must be an integer", n.name)
		}
		num := int(a.I)
		take := n.name == "take"
		return func(c *Ctx, lo, hi int) error {
			if take {
				c.st = append(c.st, c.st[lo:lo+max(0, min(num, hi-lo))]...)
			} else if num < hi-lo {
				c.st = append(c.st, c.st[lo+max(num, 0):hi]...)
			}
			return nil
		}, nil
	case "not":
		return func(c *Ctx, lo, hi int) error {
			r, err := c.truth(lo, hi)
			if err != nil {
				return err
			}
			if r >= 0 {
				c.st = append(c.st, boolItem(r == 0))
			}
			return nil
		}, nil
	case "hasValue":
		return func(c *Ctx, lo, hi int) error {
			ok := false
			if hi-lo == 1 {
				k, _, _, _ := c.prim(&c.st[lo])
				ok = k != KNode
			}
			c.st = append(c.st, boolItem(ok))
			return nil
		}, nil
	case "allTrue", "anyTrue":
		all := n.name == "allTrue"
		return func(c *Ctx, lo, hi int) error {
			r := all
			for k := lo; k < hi; k++ {
				kk, _, _, i := c.prim(&c.st[k])
				t := kk == KBool && i == 1
				if all && !t {
					r = false
				}
				if !all && t {
					r = true
				}
			}
			c.st = append(c.st, boolItem(r))
			return nil
		}, nil
	case "distinct":
		return func(c *Ctx, lo, hi int) error {
			out := len(c.st)
			c.st = append(c.st, c.st[lo:hi]...)
			c.dedupe(out)
			return nil
		}, nil
	case "ofType", "as", "is":
		t, err := typeArg(n.args[0], n.name)
		if err != nil {
			return nil, err
		}
		return typeTest(this, t, n.name == "is"), nil
	case "extension":
		a, ok, err := cp.constArg(n.args[0], n.name)
		if err != nil {
			return nil, err
		}
		if !ok || a.K != KString {
			return nil, fmt.Errorf("extension(): url must be a string")
		}
		return extensionFn(a.S), nil
	case "join":
		sep := ""
		if len(n.args) == 1 {
			a, ok, err := cp.constArg(n.args[0], n.name)
			if err != nil {
				return nil, err
			}
			if ok {
				if a.K != KString {
					return nil, fmt.Errorf("join(): separator must be a string")
				}
				sep = a.S
			}
		}
		// FHIRPath (join, STU): "If the input is empty, the result is empty." (The
		// current SQL on FHIR suite expected "" here; its open pull request follows the spec.)
		return func(c *Ctx, lo, hi int) error {
			if hi == lo {
				return nil
			}
			var b strings.Builder
			for k := lo; k < hi; k++ {
				if k > lo {
					b.WriteString(sep)
				}
				b.WriteString(c.String(&c.st[k]))
			}
			c.st = append(c.st, Item{N: -1, K: KString, S: b.String()})
			return nil
		}, nil
	case "getResourceKey":
		return func(c *Ctx, lo, hi int) error {
			id := c.Doc.Child(c.Root, "id")
			if id >= 0 && c.Doc.Nodes[id].Kind == jsontree.String {
				c.st = append(c.st, Item{N: -1, K: KString, S: c.Doc.Str(id)})
			}
			return nil
		}, nil
	case "getReferenceKey":
		want := ""
		if len(n.args) == 1 {
			t, err := typeArg(n.args[0], n.name)
			if err != nil {
				return nil, err
			}
			want = normType(t)
		}
		return func(c *Ctx, lo, hi int) error {
			for k := lo; k < hi; k++ {
				if c.st[k].K != KNode {
					continue
				}
				r := c.Doc.Child(c.st[k].N, "reference")
				if r < 0 || c.Doc.Nodes[r].Kind != jsontree.String {
					continue
				}
				typ, id := splitReference(c.Doc.Str(r))
				if id == "" || want != "" && typ != want {
					continue
				}
				c.st = append(c.st, Item{N: -1, K: KString, S: id})
			}
			return nil
		}, nil
	case "iif":
		cond, err := cp.compile(n.args[0], false)
		if err != nil {
			return nil, err
		}
		tfn, err := cp.compile(n.args[1], false)
		if err != nil {
			return nil, err
		}
		var efn evalFn
		if len(n.args) == 3 {
			if efn, err = cp.compile(n.args[2], false); err != nil {
				return nil, err
			}
		}
		return func(c *Ctx, lo, hi int) error {
			if hi-lo > 1 {
				return evalErr("iif() on a collection")
			}
			a := len(c.st)
			if err := cond(c, lo, hi); err != nil {
				return err
			}
			r, err := c.truth(a, len(c.st))
			c.st = c.st[:a]
			if err != nil {
				return err
			}
			if r == 1 {
				return tfn(c, lo, hi)
			}
			if efn != nil {
				return efn(c, lo, hi)
			}
			return nil
		}, nil
	case "toString", "lower", "upper", "length", "trim", "toInteger", "toDecimal":
		name := n.name
		return func(c *Ctx, lo, hi int) error {
			if hi == lo {
				return nil
			}
			if hi-lo > 1 {
				return evalErr("%s() on a collection", name)
			}
			k, s, f, i := c.prim(&c.st[lo])
			if k == KNode {
				return nil
			}
			switch name {
			case "toString":
				c.st = append(c.st, Item{N: -1, K: KString, S: s})
			case "lower":
				c.st = append(c.st, Item{N: -1, K: KString, S: strings.ToLower(s)})
			case "upper":
				c.st = append(c.st, Item{N: -1, K: KString, S: strings.ToUpper(s)})
			case "trim":
				c.st = append(c.st, Item{N: -1, K: KString, S: strings.TrimSpace(s)})
			case "length":
				l := int64(utf8.RuneCountInString(s))
				c.st = append(c.st, Item{N: -1, K: KInteger, I: l, F: float64(l)})
			case "toInteger":
				switch k {
				case KInteger:
					c.st = append(c.st, Item{N: -1, K: KInteger, I: i, F: f, S: s})
				case KString:
					if v, err := strconv.ParseInt(s, 10, 64); err == nil {
						c.st = append(c.st, Item{N: -1, K: KInteger, I: v, F: float64(v), S: s})
					}
				case KBool:
					c.st = append(c.st, Item{N: -1, K: KInteger, I: i, F: float64(i), S: strconv.FormatInt(i, 10)})
				}
			case "toDecimal":
				switch k {
				case KInteger, KDecimal:
					c.st = append(c.st, Item{N: -1, K: KDecimal, F: f, S: s})
				case KString:
					if v, err := strconv.ParseFloat(s, 64); err == nil {
						c.st = append(c.st, Item{N: -1, K: KDecimal, F: v, S: s})
					}
				}
			}
			return nil
		}, nil
	case "startsWith", "endsWith", "contains", "substring":
		args := make([]Item, len(n.args))
		for k, a := range n.args {
			v, ok, err := cp.constArg(a, n.name)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%s(): empty argument", n.name)
			}
			args[k] = v
		}
		name := n.name
		if name == "substring" {
			for _, a := range args {
				if a.K != KInteger {
					return nil, fmt.Errorf("substring(): arguments must be integers")
				}
			}
		} else if args[0].K != KString {
			return nil, fmt.Errorf("%s(): argument must be a string", name)
		}
		return func(c *Ctx, lo, hi int) error {
			if hi == lo {
				return nil
			}
			if hi-lo > 1 {
				return evalErr("%s() on a collection", name)
			}
			k, s, _, _ := c.prim(&c.st[lo])
			if k != KString {
				return nil
			}
			switch name {
			case "startsWith":
				c.st = append(c.st, boolItem(strings.HasPrefix(s, args[0].S)))
			case "endsWith":
				c.st = append(c.st, boolItem(strings.HasSuffix(s, args[0].S)))
			case "contains":
				c.st = append(c.st, boolItem(strings.Contains(s, args[0].S)))
			case "substring":
				st := int(args[0].I)
				if isASCII(s) { // the common case: slice without copying
					if st < 0 || st >= len(s) {
						return nil
					}
					end := len(s)
					if len(args) == 2 {
						end = min(len(s), st+max(0, int(args[1].I)))
					}
					c.st = append(c.st, Item{N: -1, K: KString, S: s[st:end]})
					return nil
				}
				r := []rune(s)
				if st < 0 || st >= len(r) {
					return nil
				}
				end := len(r)
				if len(args) == 2 {
					end = min(len(r), st+max(0, int(args[1].I)))
				}
				c.st = append(c.st, Item{N: -1, K: KString, S: string(r[st:end])})
			}
			return nil
		}, nil
	case "lowBoundary", "highBoundary":
		high := n.name == "highBoundary"
		prec := -1
		if len(n.args) == 1 {
			a, ok, err := cp.constArg(n.args[0], n.name)
			if err != nil {
				return nil, err
			}
			if !ok || a.K != KInteger || a.I < 0 {
				return nil, fmt.Errorf("%s(): precision must be a non-negative integer", n.name)
			}
			prec = int(min(a.I, 1000))
		}
		return func(c *Ctx, lo, hi int) error {
			if hi == lo {
				return nil
			}
			if hi-lo > 1 {
				return evalErr("%s() on a collection", n.name)
			}
			it, ok := c.boundary(&c.st[lo], high, prec)
			if ok {
				c.st = append(c.st, it)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown function %q", n.name)
}

// splitReference returns the type and id of a literal reference
// ("Patient/1", "http://x/fhir/Patient/1/_history/2").
func splitReference(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", ""
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
