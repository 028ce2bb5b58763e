package fhirpath

import "github.com/dpcetl/dpcetl/transform/jsontree"

// eqChain recognises p = 'a' or p = 'b' or ... with the same p and string literals.
func eqChain(n *astNode) (*astNode, []string, bool) {
	switch {
	case n.kind == nBinary && n.name == "or":
		lp, ll, ok := eqChain(n.args[0])
		if !ok {
			return nil, nil, false
		}
		rp, rl, ok := eqChain(n.args[1])
		if !ok || !astEqual(lp, rp) {
			return nil, nil, false
		}
		return lp, append(ll, rl...), true
	case n.kind == nBinary && n.name == "=" && n.args[1].kind == nLit && n.args[1].lit.K == KString:
		return n.args[0], []string{n.args[1].lit.S}, true
	}
	return nil, nil, false
}

func astEqual(a, b *astNode) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.kind != b.kind || a.name != b.name || a.lit != b.lit || len(a.args) != len(b.args) || !astEqual(a.target, b.target) {
		return false
	}
	for i := range a.args {
		if !astEqual(a.args[i], b.args[i]) {
			return false
		}
	}
	return true
}

// eqStrings evaluates p once and compares it with string literals, as `p = 'a'`,
// `p != 'a'` (neg) and `p = 'a' or p = 'b' or ...` do: empty → empty; one value → whether
// it equals any literal (string bytes of a node compared directly, no literal pushed);
// several values → false (true for !=).
func eqStrings(pfn evalFn, lits []string, neg bool) evalFn {
	litItems := make([]Item, len(lits))
	for i, l := range lits {
		litItems[i] = Item{N: -1, K: KString, S: l}
	}
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := pfn(c, lo, hi); err != nil {
			return err
		}
		switch len(c.st) - a {
		case 0:
			return nil
		case 1:
			eq := false
			it := &c.st[a]
			var raw []byte
			if it.K == KNode {
				if nd := &c.Doc.Nodes[it.N]; nd.Kind == jsontree.String && !nd.Esc {
					raw = c.Doc.Data[nd.Start:nd.End]
				}
			}
			for i := range litItems {
				if raw != nil {
					eq = string(raw) == lits[i]
				} else {
					eq = c.equal(it, &litItems[i], false)
				}
				if eq {
					break
				}
			}
			c.st[a] = boolItem(eq != neg)
			c.st = c.st[:a+1]
		default:
			c.st = c.st[:a]
			c.st = append(c.st, boolItem(neg))
		}
		return nil
	}
}
