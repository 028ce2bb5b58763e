package fhirpath

import (
	"slices"
	"unsafe"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// pred is a where()/exists() criterion compiled to test one element node directly, without
// materialising collections on the evaluation stack: 1 true, 0 false, -1 empty. It covers
// the coded-lookup idioms (system = 'x', code = 'a' or code = 'b', coding.where(...).exists(),
// and/or of those) that dominate claims views; anything else uses the general evaluator.
type pred func(c *Ctx, n int32) int8

// purePath returns the member names of a path made only of identifiers ($this is the empty path).
func purePath(n *astNode) ([]string, bool) {
	if n.kind == nThis && n.target == nil {
		return nil, true
	}
	var names []string
	for cur := n; ; cur = cur.target {
		if cur.kind != nIdent {
			return nil, false
		}
		names = append(names, cur.name)
		if cur.target == nil {
			break
		}
	}
	slices.Reverse(names)
	return names, true
}

// compilePred compiles a criterion into a pred, or returns nil when it is not one of the
// supported forms. The results equal what the general evaluator gives for the same node.
func (cp *compiler) compilePred(n *astNode) pred {
	switch {
	case n.kind == nBinary && (n.name == "=" || n.name == "!=") && n.args[1].kind == nLit && n.args[1].lit.K == KString:
		return cp.eqPred(n.args[0], []string{n.args[1].lit.S}, n.name == "!=")
	case n.kind == nBinary && n.name == "or":
		if path, lits, ok := eqChain(n); ok {
			return cp.eqPred(path, lits, false)
		}
		fallthrough
	case n.kind == nBinary && n.name == "and":
		l := cp.compilePred(n.args[0])
		if l == nil {
			return nil
		}
		r := cp.compilePred(n.args[1])
		if r == nil {
			return nil
		}
		if n.name == "and" {
			return func(c *Ctx, i int32) int8 {
				x := l(c, i)
				if x == 0 {
					return 0
				}
				y := r(c, i)
				switch {
				case y == 0:
					return 0
				case x == 1 && y == 1:
					return 1
				}
				return -1
			}
		}
		return func(c *Ctx, i int32) int8 {
			x := l(c, i)
			if x == 1 {
				return 1
			}
			y := r(c, i)
			switch {
			case y == 1:
				return 1
			case x == 0 && y == 0:
				return 0
			}
			return -1
		}
	case n.kind == nFunc && n.name == "exists" && n.target != nil:
		// X.exists(), X.exists(P), X.where(P).exists()
		target, arg := n.target, (*astNode)(nil)
		if len(n.args) == 1 {
			arg = n.args[0]
		} else if len(n.args) == 0 && target.kind == nFunc && target.name == "where" && len(target.args) == 1 && target.target != nil {
			target, arg = target.target, target.args[0]
		}
		names, ok := purePath(target)
		if !ok {
			return nil
		}
		var inner pred
		if arg != nil {
			if inner = cp.compilePred(arg); inner == nil {
				return nil
			}
		}
		cp.addNames(names)
		keys := members(names)
		return func(c *Ctx, i int32) int8 {
			base := len(c.ns)
			c.walkNodes(i, keys)
			end := len(c.ns)
			found := false
			for k := base; k < end && !found; k++ {
				found = inner == nil || inner(c, c.ns[k]) == 1
			}
			c.ns = c.ns[:base]
			if found {
				return 1
			}
			return 0
		}
	}
	return nil
}

func (cp *compiler) addNames(names []string) {
	for _, s := range names {
		cp.names[s] = true
	}
}

// eqPred tests path = lit (any of lits): empty path → empty; one value → whether it is a
// string equal to a literal; several values → false (collection equality).
func (cp *compiler) eqPred(path *astNode, lits []string, neg bool) pred {
	names, ok := purePath(path)
	if !ok {
		return nil
	}
	cp.addNames(names)
	keys := members(names)
	t, f := int8(1), int8(0)
	if neg {
		t, f = 0, 1
	}
	return func(c *Ctx, i int32) int8 {
		base := len(c.ns)
		c.walkNodes(i, keys)
		cnt := len(c.ns) - base
		var m int32
		if cnt > 0 {
			m = c.ns[base]
		}
		c.ns = c.ns[:base]
		switch cnt {
		case 0:
			return -1
		case 1:
		default:
			return f
		}
		nd := &c.Doc.Nodes[m]
		if nd.Kind != jsontree.String {
			return f // numbers, booleans and objects never equal a string
		}
		var s string
		if nd.Esc {
			s = c.Doc.Str(m)
		} else {
			s = bytesToString(c.Doc.Data[nd.Start:nd.End])
		}
		for _, l := range lits {
			// coded-value literals share long prefixes (BFD variable URLs): test the
			// length and the last byte before comparing the whole text
			if len(s) == len(l) && (len(s) == 0 || s[len(s)-1] == l[len(l)-1]) && s == l {
				return t
			}
		}
		return f
	}
}

// bytesToString views b as a string without copying; only for comparisons that do not keep it.
func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// predFilter is where(p) (or exists(p) when exists) over the input: element nodes are tested
// with p; computed values (rare: where() over literals) go through the general criterion.
func predFilter(p pred, crit evalFn, exists, stopFirst bool) evalFn {
	return func(c *Ctx, lo, hi int) error {
		out := len(c.st)
		any := false
		for k := lo; k < hi; k++ {
			var r int8
			if c.st[k].K == KNode {
				r = p(c, c.st[k].N)
			} else {
				t, err := c.evalOn(crit, k, lo)
				if err != nil {
					return err
				}
				tr, err := c.truth(t+1, len(c.st))
				c.st = c.st[:t]
				if err != nil {
					return err
				}
				r = int8(tr)
			}
			if r != 1 {
				continue
			}
			any = true
			if exists {
				break
			}
			c.st = append(c.st, c.st[k])
			if stopFirst {
				break
			}
		}
		if exists {
			c.st = c.st[:out]
			c.st = append(c.st, boolItem(any))
		}
		return nil
	}
}

// firstAfterWhere compiles X.where(P).a.b.first() (P a predicate, a.b member names) so that
// it stops at the first element of X that passes P and has a value at a.b, instead of
// filtering all of X and walking a.b from every match (the coded amount lookup idiom:
// adjudication.where(category.coding.where(code = '…').exists()).amount.value.first()).
func (cp *compiler) firstAfterWhere(n *astNode, top bool) (evalFn, bool, error) {
	if cp.noPred || n.plain || n.kind != nFunc || n.name != "first" || len(n.args) != 0 || n.target == nil || n.target.kind != nIdent {
		return nil, false, nil
	}
	var names []string
	cur := n.target
	for cur.kind == nIdent {
		names = append(names, cur.name)
		if cur.target == nil {
			return nil, false, nil
		}
		cur = cur.target
	}
	w := cur
	if w.kind != nFunc || w.name != "where" || len(w.args) != 1 || w.target == nil {
		return nil, false, nil
	}
	p := cp.compilePred(w.args[0])
	if p == nil {
		return nil, false, nil
	}
	slices.Reverse(names)
	plain := *n
	plain.plain = true
	general, err := cp.compile(&plain, top) // also registers every member name read
	if err != nil {
		return nil, true, err
	}
	src, err := cp.compile(w.target, top)
	if err != nil {
		return nil, true, err
	}
	keys := members(names)
	sh, shared := cp.lookupShapeOf(w.target, w.args[0], top)
	return func(c *Ctx, lo, hi int) error {
		if shared && hi-lo == 1 && c.st[lo].K == KNode {
			c.lookupFirst(sh, c.st[lo].N, keys)
			return nil
		}
		a := len(c.st)
		if err := src(c, lo, hi); err != nil {
			return err
		}
		b := len(c.st)
		for k := a; k < b; k++ {
			if c.st[k].K != KNode {
				// a computed value in X (where() over literals): the general evaluator decides
				c.st = c.st[:a]
				return general(c, lo, hi)
			}
		}
		for k := a; k < b; k++ {
			if p(c, c.st[k].N) != 1 {
				continue
			}
			c.walk(c.st[k].N, keys, "")
			if len(c.st) > b {
				c.st[a] = c.st[b]
				c.st = c.st[:a+1]
				return nil
			}
		}
		c.st = c.st[:a]
		return nil
	}, true, nil
}
