package fhirpath

import (
	"fmt"
	"slices"
	"strings"
)

func (cp *compiler) compile(n *astNode, top bool) (evalFn, error) {
	// X.where(c).exists() is X.exists(c), and X.where(c).first() needs only the first
	// match: both stop scanning X early (the claims idiom for coded lookups).
	if w := n.target; n.kind == nFunc && len(n.args) == 0 && w != nil && w.kind == nFunc && w.name == "where" && len(w.args) == 1 {
		switch n.name {
		case "exists":
			n = &astNode{kind: nFunc, name: "exists", args: w.args, target: w.target, pos: n.pos}
		case "first":
			wf := *w
			wf.stopFirst = true
			n = &wf
		}
	}
	// X.select(A | B).first() with operands that cannot fail is the first element of X
	// whose (A | B).first() is not empty (extension(url).select(valueCoding.code | …).first()).
	if w := n.target; !cp.noPred && n.kind == nFunc && n.name == "first" && len(n.args) == 0 && w != nil &&
		w.kind == nFunc && w.name == "select" && len(w.args) == 1 && unionCannotFail(w.args[0]) {
		sf := *w
		sf.stopFirst = true
		sf.args = []*astNode{{kind: nFunc, name: "first", target: w.args[0], pos: w.args[0].pos}}
		n = &sf
	}
	if n.kind == nIdent {
		return cp.compilePath(n, top)
	}
	if fn, ok, err := cp.firstOfUnion(n, top); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := cp.firstAfterWhere(n, top); ok || err != nil {
		return fn, err
	}
	if n.target != nil {
		tfn, err := cp.compile(n.target, top)
		if err != nil {
			return nil, err
		}
		if n.kind == nIndexer {
			ifn, err := cp.compile(n.args[0], false)
			if err != nil {
				return nil, err
			}
			return onTarget(tfn, func(c *Ctx, lo, hi, a, b int) error {
				if err := ifn(c, lo, hi); err != nil {
					return err
				}
				if len(c.st)-b != 1 {
					c.st = c.st[:a]
					return nil
				}
				k, _, _, iv := c.prim(&c.st[b])
				if k != KInteger {
					return evalErr("index is not an integer")
				}
				if iv < 0 || iv >= int64(b-a) {
					c.st = c.st[:a]
					return nil
				}
				c.st[a] = c.st[a+int(iv)]
				c.st = c.st[:a+1]
				return nil
			}), nil
		}
		sfn, err := cp.compileMember(n)
		if err != nil {
			return nil, err
		}
		return onTarget(tfn, func(c *Ctx, _, _, a, b int) error {
			if err := sfn(c, a, b); err != nil {
				return err
			}
			c.compact(a, b)
			return nil
		}), nil
	}
	switch n.kind {
	case nLit:
		it := n.lit
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, it)
			return nil
		}, nil
	case nEmpty:
		return func(c *Ctx, lo, hi int) error { return nil }, nil
	case nThis:
		return this, nil
	case nIndex:
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, Item{N: -1, K: KInteger, I: c.index, F: float64(c.index)})
			return nil
		}, nil
	case nExt:
		switch n.name {
		case "rowIndex":
			return func(c *Ctx, lo, hi int) error {
				c.st = append(c.st, Item{N: -1, K: KInteger, I: c.RowIndex, F: float64(c.RowIndex)})
				return nil
			}, nil
		case "resource", "rootResource":
			return func(c *Ctx, lo, hi int) error {
				c.st = append(c.st, Item{N: c.Root})
				return nil
			}, nil
		case "context":
			// FHIRPath: the input of the evaluation, which in a view is the current
			// forEach node; it does not change inside where()/select() (unlike $this).
			return func(c *Ctx, lo, hi int) error {
				if c.hasCur {
					c.st = append(c.st, c.cur)
				}
				return nil
			}, nil
		}
		v, ok := cp.env.Constants[n.name]
		if !ok {
			return nil, fmt.Errorf("undefined constant %%%s", n.name)
		}
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, v)
			return nil
		}, nil
	case nFunc:
		return cp.compileMember(n)
	case nUnary:
		afn, err := cp.compile(n.args[0], top)
		if err != nil {
			return nil, err
		}
		return func(c *Ctx, lo, hi int) error {
			a := len(c.st)
			if err := afn(c, lo, hi); err != nil {
				return err
			}
			if len(c.st)-a == 0 {
				return nil
			}
			if len(c.st)-a != 1 {
				return evalErr("unary minus on a collection")
			}
			k, s, f, i := c.prim(&c.st[a])
			switch k {
			case KInteger:
				c.st[a] = Item{N: -1, K: KInteger, I: -i, F: -float64(i)}
			case KDecimal:
				c.st[a] = Item{N: -1, K: KDecimal, F: -f, S: negText(s)}
			default:
				return evalErr("unary minus on a non-number")
			}
			return nil
		}, nil
	case nBinary:
		return cp.compileBinary(n, top)
	}
	return nil, fmt.Errorf("unsupported expression")
}

func negText(s string) string {
	if strings.HasPrefix(s, "-") {
		return s[1:]
	}
	if s == "" {
		return s
	}
	return "-" + s
}

// compilePath compiles a run of member accesses a.b.c (after an optional non-member target)
// into one walk over the document.
func (cp *compiler) compilePath(n *astNode, top bool) (evalFn, error) {
	var names []string
	cur := n
	for {
		names = append(names, cur.name)
		if cur.target == nil || cur.target.kind != nIdent {
			break
		}
		cur = cur.target
	}
	slices.Reverse(names)
	for _, n := range names {
		cp.names[n] = true
	}
	var base evalFn
	if cur.target != nil {
		var err error
		if base, err = cp.compile(cur.target, top); err != nil {
			return nil, err
		}
	} else if top && names[0] == cp.env.Resource && cp.env.Resource != "" {
		names = names[1:] // Patient.name means name on the Patient in focus
	}
	keys := members(names)
	walk := func(c *Ctx, lo, hi int) error {
		if len(keys) == 0 {
			return this(c, lo, hi)
		}
		for k := lo; k < hi; k++ {
			if c.st[k].K == KNode {
				c.walk(c.st[k].N, keys, "")
			}
		}
		return nil
	}
	if base == nil {
		return walk, nil
	}
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := base(c, lo, hi); err != nil {
			return err
		}
		b := len(c.st)
		_ = walk(c, a, b)
		c.compact(a, b)
		return nil
	}, nil
}

// compileMember compiles an identifier or function applied to the input c.st[lo:hi].
func (cp *compiler) compileMember(n *astNode) (evalFn, error) {
	if n.kind == nThis {
		return this, nil
	}
	if n.kind == nIdent {
		keys := members([]string{n.name})
		return func(c *Ctx, lo, hi int) error {
			for k := lo; k < hi; k++ {
				if c.st[k].K != KNode {
					continue
				}
				c.walk(c.st[k].N, keys, "")
			}
			return nil
		}, nil
	}
	if n.kind != nFunc {
		return nil, fmt.Errorf("unsupported invocation")
	}
	return cp.compileFunc(n)
}

// this is $this: it pushes the input collection unchanged.
func this(c *Ctx, lo, hi int) error {
	c.st = append(c.st, c.st[lo:hi]...)
	return nil
}

// onTarget evaluates tfn on the input st[lo:hi], then op on its result st[a:b]; op leaves
// its own result at st[a:] in place of the target's.
func onTarget(tfn evalFn, op func(c *Ctx, lo, hi, a, b int) error) evalFn {
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		if err := tfn(c, lo, hi); err != nil {
			return err
		}
		return op(c, lo, hi, a, len(c.st))
	}
}

// evalOn evaluates the criterion fn of where()/select()/exists() with st[k] (element k-lo
// of the input) as $this and $index: it pushes st[k] at t and leaves fn's result at st[t+1:].
func (c *Ctx) evalOn(fn evalFn, k, lo int) (t int, err error) {
	t = len(c.st)
	c.st = append(c.st, c.st[k])
	saved := c.index
	c.index = int64(k - lo)
	err = fn(c, t, t+1)
	c.index = saved
	return t, err
}

// firstOfUnion compiles (A | B | ...).first(): the first item of a union is the first item
// of its first non-empty operand (dedupe keeps first occurrences), so the operands after
// a hit are skipped when they cannot fail (member paths, literals, {}) and evaluated only
// for their errors otherwise; the union itself (and its pairwise dedupe) is never built
// (the claims idiom (valueCoding.code | valueQuantity.code).first()).
func (cp *compiler) firstOfUnion(n *astNode, top bool) (evalFn, bool, error) {
	if cp.noPred || n.kind != nFunc || n.name != "first" || len(n.args) != 0 || n.target == nil ||
		n.target.kind != nBinary || n.target.name != "|" {
		return nil, false, nil
	}
	var ops []*astNode
	var flat func(x *astNode)
	flat = func(x *astNode) {
		if x.kind == nBinary && x.name == "|" {
			flat(x.args[0])
			flat(x.args[1])
			return
		}
		ops = append(ops, x)
	}
	flat(n.target)
	fns := make([]evalFn, len(ops))
	total := make([]bool, len(ops))
	for i, op := range ops {
		fn, err := cp.compile(op, top)
		if err != nil {
			return nil, true, err
		}
		fns[i], total[i] = fn, cannotFail(op)
	}
	return func(c *Ctx, lo, hi int) error {
		a := len(c.st)
		found := false
		for i, fn := range fns {
			if found && total[i] {
				continue
			}
			b := len(c.st)
			if err := fn(c, lo, hi); err != nil {
				return err
			}
			switch {
			case found:
				c.st = c.st[:b]
			case len(c.st) > b:
				c.st[a] = c.st[b]
				c.st = c.st[:a+1]
				found = true
			}
		}
		return nil
	}, true, nil
}

// unionCannotFail reports whether n is a union (or a single operand) of operands that cannot fail.
func unionCannotFail(n *astNode) bool {
	if n.kind == nBinary && n.name == "|" {
		return unionCannotFail(n.args[0]) && unionCannotFail(n.args[1])
	}
	return cannotFail(n)
}

// cannotFail reports whether evaluating n can never return an error: member paths from
// the focus, literals and {}.
func cannotFail(n *astNode) bool {
	for ; n != nil && n.kind == nIdent; n = n.target {
	}
	return n == nil || n.kind == nLit || n.kind == nEmpty
}

// memberPath returns the steps of n when n is a plain member path from the focus (as
// compilePath compiles it at the top: a leading resource type name is the focus itself),
// else nil.
func (cp *compiler) memberPath(n *astNode) []member {
	var names []string
	for ; n != nil; n = n.target {
		if n.kind != nIdent {
			return nil
		}
		names = append(names, n.name)
	}
	slices.Reverse(names)
	if names[0] == cp.env.Resource && cp.env.Resource != "" {
		names = names[1:]
	}
	if len(names) == 0 {
		return nil
	}
	return members(names)
}
