package fhirpath

import (
	"fmt"
	"strings"
)

// An iif() group is an iif() and the target-less iif() calls nested in its arguments: all
// of them evaluate their arguments on the same input. A subexpression that the group
// evaluates on that input more than once (iif(X.exists(), iif(X.startsWith(…),
// X.substring(47), X), …) with X a coded lookup) is evaluated once per group invocation
// and its result replayed. Plan path only; the general evaluator recomputes.

// memoSlot is a memoized result: c.mitems[lo:hi], valid while gen is the running group's.
type memoSlot struct {
	gen    uint64
	lo, hi int32
}

// planMemo gives a memo slot to every non-trivial subexpression that iif node n's group
// evaluates on its input at least twice.
func (cp *compiler) planMemo(n *astNode) {
	var spine []*astNode
	var collect func(x *astNode)
	collect = func(x *astNode) {
		for ; x != nil; x = x.target {
			switch x.kind {
			case nLit, nEmpty, nExt, nThis, nIndex:
				return
			case nBinary, nUnary:
				for _, a := range x.args {
					collect(a)
				}
			case nFunc:
				if x.name == "iif" && x.target == nil {
					cp.grouped[x] = true
					for _, a := range x.args {
						collect(a)
					}
					continue
				}
			}
			spine = append(spine, x)
		}
	}
	cp.grouped[n] = true
	for _, a := range n.args {
		collect(a)
	}
	keys := make([]string, len(spine))
	count := map[string]int{}
	seen := map[*astNode]string{}
	for i, x := range spine {
		keys[i] = astKey(x, seen)
		count[keys[i]]++
	}
	slots := map[string]int{}
	for i, x := range spine {
		if count[keys[i]] < 2 {
			continue
		}
		s, ok := slots[keys[i]]
		if !ok {
			s = cp.nslots
			cp.nslots++
			slots[keys[i]] = s
		}
		cp.memo[x] = s
	}
}

// astKey is a canonical text of a subtree (equal keys: equal expressions); keys of
// subtrees already seen are reused from seen.
func astKey(n *astNode, seen map[*astNode]string) string {
	if n == nil {
		return "_"
	}
	if k, ok := seen[n]; ok {
		return k
	}
	var b strings.Builder
	fmt.Fprintf(&b, "(%d %q %d %q %q %v %d %t %t %s", n.kind, n.name, n.lit.K, n.lit.S, n.lit.T, n.lit.F, n.lit.I, n.stopFirst, n.plain, astKey(n.target, seen))
	for _, a := range n.args {
		b.WriteString(astKey(a, seen))
	}
	b.WriteString(")")
	seen[n] = b.String()
	return seen[n]
}

// memoized replays slot's result when the running group has computed it, else computes
// and keeps it.
func memoized(slot int, fn evalFn) evalFn {
	return func(c *Ctx, lo, hi int) error {
		if slot < len(c.memo) && c.memo[slot].gen == c.curGen && c.curGen != 0 {
			m := c.memo[slot]
			c.st = append(c.st, c.mitems[m.lo:m.hi]...)
			return nil
		}
		a := len(c.st)
		if err := fn(c, lo, hi); err != nil || c.curGen == 0 {
			return err
		}
		for len(c.memo) <= slot {
			c.memo = append(c.memo, memoSlot{})
		}
		m0 := len(c.mitems)
		c.mitems = append(c.mitems, c.st[a:]...)
		c.memo[slot] = memoSlot{c.curGen, int32(m0), int32(len(c.mitems))}
		return nil
	}
}

// memoGroup runs an iif() group with a fresh generation: results memoized by another
// invocation (another input) are never replayed.
func memoGroup(fn evalFn) evalFn {
	return func(c *Ctx, lo, hi int) error {
		saved := c.curGen
		if saved == 0 {
			c.mitems = c.mitems[:0]
		}
		c.memoGen++
		c.curGen = c.memoGen
		err := fn(c, lo, hi)
		c.curGen = saved
		return err
	}
}
