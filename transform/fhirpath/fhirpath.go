// Package fhirpath compiles the FHIRPath subset used by SQL on FHIR v2 views into plans
// that evaluate over a jsontree.Doc without allocating per resource.
package fhirpath

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// Kind says what an Item holds.
type Kind uint8

// Item kinds. KNode items refer to a node of the document; the others are computed values.
const (
	KNode Kind = iota
	KBool
	KInteger
	KDecimal
	KString
	KDate
	KDateTime
	KTime
)

// Item is one element of a FHIRPath collection.
type Item struct {
	N int32  // node index in Ctx.Doc when K == KNode
	K Kind   // kind of value
	T string // FHIR type hint: the choice suffix ("Quantity", "DateTime") or the ofType argument
	S string // string, date/time text, or the exact text of a number
	F float64
	I int64 // integer value, or 1/0 for booleans
}

// Ctx is the per-goroutine evaluation state. It is reused between resources.
type Ctx struct {
	Doc      *jsontree.Doc
	Root     int32 // the resource (root node)
	RowIndex int64 // value of %rowIndex
	st       []Item
	index    int64
	// cur is %context: the input of the expression being evaluated (the current forEach
	// node for a view column, the resource for a view-level where); hasCur is false when
	// that input is empty (forEachOrNull over nothing).
	cur    Item
	hasCur bool
	ns     []int32 // node scratch of compiled predicates (a stack)
}

// Reset prepares c for a new resource.
func (c *Ctx) Reset(doc *jsontree.Doc, root int32) {
	c.Doc, c.Root, c.RowIndex = doc, root, 0
	c.st = c.st[:0]
	c.ns = c.ns[:0]
	c.cur, c.hasCur = Item{N: root}, true
}

// Env is what an expression may refer to at compile time.
type Env struct {
	Resource  string          // the view's resource type; a leading identifier equal to it means $this
	Constants map[string]Item // %name values
}

// Expr is a compiled expression.
type Expr struct {
	Src   string
	fn    evalFn
	names []string
}

// Names returns the member names the expression may read (for jsontree.KeySet).
func (e *Expr) Names() []string { return e.names }

// ChoiceSuffixes lists the type suffixes of choice elements (value → valueQuantity).
func ChoiceSuffixes() []string { return append([]string(nil), choiceTypes...) }

type evalFn func(c *Ctx, lo, hi int) error

// ErrEval marks errors found while evaluating an expression against a resource.
var ErrEval = errors.New("fhirpath evaluation")

// Compile parses and compiles src. Unknown functions, undefined constants and
// syntax errors are reported here, never while running.
func Compile(src string, env Env) (*Expr, error) {
	ast, err := parseExpr(src)
	if err != nil {
		return nil, err
	}
	cp := &compiler{env: env, names: map[string]bool{}}
	fn, err := cp.compile(ast, true)
	if err != nil {
		return nil, err
	}
	e := &Expr{Src: src, fn: fn}
	for n := range cp.names {
		e.names = append(e.names, n)
	}
	slices.Sort(e.names)
	return e, nil
}

// Eval evaluates e with the single item focus and appends the result to dst.
// focus is also %context for the whole expression (inside where() and select() too).
func (e *Expr) Eval(c *Ctx, focus Item, dst []Item) ([]Item, error) {
	base := len(c.st)
	c.st = append(c.st, focus)
	savedCur, savedHas := c.cur, c.hasCur
	c.cur, c.hasCur = focus, true
	err := e.fn(c, base, base+1)
	c.cur, c.hasCur = savedCur, savedHas
	if err == nil {
		dst = append(dst, c.st[base+1:]...)
	}
	c.st = c.st[:base]
	return dst, err
}

// EvalEmpty evaluates e with an empty focus (and an empty %context) and appends the result to dst.
func (e *Expr) EvalEmpty(c *Ctx, dst []Item) ([]Item, error) {
	base := len(c.st)
	savedCur, savedHas := c.cur, c.hasCur
	c.hasCur = false
	err := e.fn(c, base, base)
	c.cur, c.hasCur = savedCur, savedHas
	if err == nil {
		dst = append(dst, c.st[base:]...)
	}
	c.st = c.st[:base]
	return dst, err
}

// RootItem is the item for the resource itself.
func (c *Ctx) RootItem() Item { return Item{N: c.Root} }

type compiler struct {
	env    Env
	names  map[string]bool // member names read
	noPred bool            // tests: compile criteria with the general evaluator only
}

func evalErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrEval, fmt.Sprintf(format, a...))
}

// compact moves st[from:] down to st[to:], dropping st[to:from].
func (c *Ctx) compact(to, from int) {
	if to == from {
		return
	}
	n := copy(c.st[to:], c.st[from:])
	c.st = c.st[:to+n]
}

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
	if n.kind == nIdent {
		return cp.compilePath(n, top)
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
			return func(c *Ctx, lo, hi int) error {
				a := len(c.st)
				if err := tfn(c, lo, hi); err != nil {
					return err
				}
				b := len(c.st)
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
			}, nil
		}
		sfn, err := cp.compileMember(n)
		if err != nil {
			return nil, err
		}
		return func(c *Ctx, lo, hi int) error {
			a := len(c.st)
			if err := tfn(c, lo, hi); err != nil {
				return err
			}
			b := len(c.st)
			if err := sfn(c, a, b); err != nil {
				return err
			}
			c.compact(a, b)
			return nil
		}, nil
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
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, c.st[lo:hi]...)
			return nil
		}, nil
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

// eqAny evaluates p once: empty → empty; one value → whether it equals any literal;
// several values → false (what the chain of = and or gives).
func (cp *compiler) eqAny(pfn evalFn, lits []string) evalFn {
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
			c.st[a] = boolItem(eq)
			c.st = c.st[:a+1]
		default:
			c.st = c.st[:a]
			c.st = append(c.st, boolItem(false))
		}
		return nil
	}
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
			c.st = append(c.st, c.st[lo:hi]...)
			return nil
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
		return func(c *Ctx, lo, hi int) error {
			c.st = append(c.st, c.st[lo:hi]...)
			return nil
		}, nil
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

// member is a path step: the name and its jsontree.KeyTag, computed once at compile time.
type member struct {
	name string
	tag  uint8
}

func members(names []string) []member {
	out := make([]member, len(names))
	for i, n := range names {
		out[i] = member{n, jsontree.KeyTag(n)}
	}
	return out
}

// walk appends the values reached from value node i by following names, depth first
// (the order FHIRPath gives a.b.c), without materialising the intermediate collections.
func (c *Ctx) walk(i int32, names []member, hint string) { c.descend(i, names, hint, false) }

// walkNodes is walk appending node indices to c.ns instead of items to the stack.
func (c *Ctx) walkNodes(i int32, names []member) { c.descend(i, names, "", true) }

// descend is walk (nodes false) and walkNodes (nodes true): the one member matcher both share.
func (c *Ctx) descend(i int32, names []member, hint string, nodes bool) {
	if len(names) == 0 {
		if nodes {
			c.ns = append(c.ns, i)
		} else {
			c.st = append(c.st, Item{N: i, T: hint})
		}
		return
	}
	d := c.Doc
	nd := &d.Nodes[i]
	if nd.Kind != jsontree.Object {
		return
	}
	name, tag, rest := names[0].name, names[0].tag, names[1:]
	if name == "" {
		return
	}
	data := d.Data
	for k := i + 1; k < nd.Next; k = d.Nodes[k].Next {
		cn := &d.Nodes[k]
		if cn.KeyTag != tag && !cn.KeyEsc {
			continue // cannot be name nor name + a type suffix
		}
		ks, ke := int(cn.KeyStart), int(cn.KeyEnd)
		kl := ke - ks
		if kl < len(name) || data[ks] != name[0] {
			continue
		}
		if cn.KeyEsc {
			if d.Key(k) == name {
				c.descendValue(k, rest, "", nodes)
			}
			continue
		}
		if string(data[ks:ks+len(name)]) != name {
			continue
		}
		if kl == len(name) {
			c.descendValue(k, rest, "", nodes)
			continue
		}
		// choice type: valueQuantity for "value" (only FHIR type names, so that
		// item.diagnosis does not pick up item.diagnosisLinkId)
		if ch := data[ks+len(name)]; ch >= 'A' && ch <= 'Z' {
			if suffix := data[ks+len(name) : ke]; isChoiceType(suffix) {
				// the hint aliases the line, which outlives every item of the line
				c.descendValue(k, rest, unsafe.String(unsafe.SliceData(suffix), len(suffix)), nodes)
			}
		}
	}
}

// descendValue continues descend at member value k: nulls are skipped, arrays flattened.
func (c *Ctx) descendValue(k int32, rest []member, hint string, nodes bool) {
	d := c.Doc
	cn := &d.Nodes[k]
	switch cn.Kind {
	case jsontree.Null:
	case jsontree.Array:
		for e := k + 1; e < cn.Next; e = d.Nodes[e].Next {
			switch d.Nodes[e].Kind {
			case jsontree.Null:
			case jsontree.Array:
				c.descendValue(e, rest, hint, nodes)
			default:
				c.descend(e, rest, hint, nodes)
			}
		}
	default:
		c.descend(k, rest, hint, nodes)
	}
}

// prim returns the primitive value of an item: its kind (KNode for complex values),
// string text, float and integer values.
func (c *Ctx) prim(it *Item) (Kind, string, float64, int64) {
	if it.K != KNode {
		s := it.S
		if s == "" {
			switch it.K {
			case KBool:
				s = "false"
				if it.I == 1 {
					s = "true"
				}
			case KInteger:
				s = strconv.FormatInt(it.I, 10)
			case KDecimal:
				s = strconv.FormatFloat(it.F, 'f', -1, 64)
			}
		}
		return it.K, s, it.F, it.I
	}
	nd := &c.Doc.Nodes[it.N]
	switch nd.Kind {
	case jsontree.String:
		return KString, c.Doc.Str(it.N), 0, 0
	case jsontree.True:
		return KBool, "true", 0, 1
	case jsontree.False:
		return KBool, "false", 0, 0
	case jsontree.Number:
		raw := c.Doc.Raw(it.N)
		s := string(raw)
		if !bytes.ContainsAny(raw, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return KInteger, s, float64(i), i
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return KDecimal, s, f, 0
	}
	return KNode, "", 0, 0
}

// String returns the text of a primitive item (for output and tests).
func (c *Ctx) String(it *Item) string {
	_, s, _, _ := c.prim(it)
	return s
}

// Prim exposes prim for the engine's output conversion.
func (c *Ctx) Prim(it *Item) (Kind, string, float64, int64) { return c.prim(it) }

// truth converts a collection to a three-valued boolean: 0 false, 1 true, -1 empty.
func (c *Ctx) truth(a, b int) (int, error) {
	switch b - a {
	case 0:
		return -1, nil
	case 1:
		k, _, _, i := c.prim(&c.st[a])
		if k == KBool {
			return int(i), nil
		}
		return 1, nil // a single non-boolean value counts as true
	}
	return 0, evalErr("expected a single boolean, got a collection of %d", b-a)
}

// Truth evaluates e with the given focus as a where-clause condition: it must produce
// empty or one boolean.
func (e *Expr) Truth(c *Ctx, focus Item) (bool, error) {
	base := len(c.st)
	c.st = append(c.st, focus)
	savedCur, savedHas := c.cur, c.hasCur
	c.cur, c.hasCur = focus, true
	defer func() { c.st = c.st[:base]; c.cur, c.hasCur = savedCur, savedHas }()
	if err := e.fn(c, base, base+1); err != nil {
		return false, err
	}
	switch len(c.st) - base - 1 {
	case 0:
		return false, nil
	case 1:
		k, _, _, i := c.prim(&c.st[base+1])
		if k != KBool {
			return false, evalErr("where condition %q returned a non-boolean value (not shown: it is data)", e.Src)
		}
		return i == 1, nil
	}
	return false, evalErr("where condition %q returned %d values, not a boolean", e.Src, len(c.st)-base-1)
}

func boolItem(b bool) Item {
	if b {
		return Item{N: -1, K: KBool, I: 1}
	}
	return Item{N: -1, K: KBool}
}

func (cp *compiler) compileBinary(n *astNode, top bool) (evalFn, error) {
	op := n.name
	lfn, err := cp.compile(n.args[0], top)
	if err != nil {
		return nil, err
	}
	if op == "is" || op == "as" {
		tn := n.args[1].name
		return func(c *Ctx, lo, hi int) error {
			a := len(c.st)
			if err := lfn(c, lo, hi); err != nil {
				return err
			}
			w := a
			for k := a; k < len(c.st); k++ {
				if c.matchType(&c.st[k], tn) {
					c.st[w] = c.st[k]
					w++
				}
			}
			cnt := w - a
			c.st = c.st[:w]
			if op == "is" {
				c.st = c.st[:a]
				c.st = append(c.st, boolItem(cnt > 0))
			}
			return nil
		}, nil
	}
	// `p = 'a' or p = 'b' or ...` (same p): walk p once and test membership.
	if op == "or" {
		if path, lits, ok := eqChain(n); ok && len(lits) > 1 {
			pfn, err := cp.compile(path, top)
			if err != nil {
				return nil, err
			}
			return cp.eqAny(pfn, lits), nil
		}
	}
	// Fast path for the claims idiom `path = 'literal'`: compare bytes, no literal pushed.
	if r := n.args[1]; (op == "=" || op == "!=") && r.kind == nLit && r.lit.K == KString {
		lit, neg := r.lit.S, op == "!="
		return func(c *Ctx, lo, hi int) error {
			a := len(c.st)
			if err := lfn(c, lo, hi); err != nil {
				return err
			}
			switch len(c.st) - a {
			case 0:
				return nil
			case 1:
				eq := false
				if it := &c.st[a]; it.K == KNode {
					nd := &c.Doc.Nodes[it.N]
					if nd.Kind == jsontree.String && !nd.Esc {
						eq = string(c.Doc.Data[nd.Start:nd.End]) == lit
					} else {
						eq = c.equal(it, &r.lit, false)
					}
				} else {
					eq = c.equal(it, &r.lit, false)
				}
				c.st[a] = boolItem(eq != neg)
				c.st = c.st[:a+1]
			default:
				c.st = c.st[:a]
				c.st = append(c.st, boolItem(neg))
			}
			return nil
		}, nil
	}
	rfn, err := cp.compile(n.args[1], top)
	if err != nil {
		return nil, err
	}
	// and/or short-circuit when the left side decides the result
	if op == "and" || op == "or" {
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
		}, nil
	}
	var comb func(c *Ctx, a, b, e int) (Item, bool, error) // result item, has result
	switch op {
	case "and", "or", "xor", "implies":
		comb = func(c *Ctx, a, b, e int) (Item, bool, error) {
			l, err := c.truth(a, b)
			if err != nil {
				return Item{}, false, err
			}
			r, err := c.truth(b, e)
			if err != nil {
				return Item{}, false, err
			}
			switch op {
			case "and":
				if l == 0 || r == 0 {
					return boolItem(false), true, nil
				}
				if l == 1 && r == 1 {
					return boolItem(true), true, nil
				}
			case "or":
				if l == 1 || r == 1 {
					return boolItem(true), true, nil
				}
				if l == 0 && r == 0 {
					return boolItem(false), true, nil
				}
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
		}
	case "=", "!=", "~", "!~":
		comb = func(c *Ctx, a, b, e int) (Item, bool, error) {
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
		}
	case "<", ">", "<=", ">=":
		comb = func(c *Ctx, a, b, e int) (Item, bool, error) {
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
		}
	case "+", "-", "*", "/", "div", "mod", "&":
		comb = func(c *Ctx, a, b, e int) (Item, bool, error) {
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
		}
	case "|":
		return func(c *Ctx, lo, hi int) error {
			a := len(c.st)
			if err := lfn(c, lo, hi); err != nil {
				return err
			}
			if err := rfn(c, lo, hi); err != nil {
				return err
			}
			// remove duplicates, keeping first occurrences
			w := a
			for k := a; k < len(c.st); k++ {
				dup := false
				for j := a; j < w; j++ {
					if c.equal(&c.st[j], &c.st[k], false) {
						dup = true
						break
					}
				}
				if !dup {
					c.st[w] = c.st[k]
					w++
				}
			}
			c.st = c.st[:w]
			return nil
		}, nil
	case "in", "contains":
		comb = func(c *Ctx, a, b, e int) (Item, bool, error) {
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
		}
	default:
		return nil, fmt.Errorf("unsupported operator %q", op)
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

var stringTypes = map[string]bool{
	"string": true, "code": true, "id": true, "uri": true, "url": true, "canonical": true, "oid": true,
	"uuid": true, "markdown": true, "base64Binary": true, "date": true, "dateTime": true, "instant": true,
	"time": true, "xhtml": true,
}

func normType(t string) string {
	t = strings.TrimPrefix(t, "FHIR.")
	t = strings.TrimPrefix(t, "System.")
	return t
}

func (c *Ctx) matchType(it *Item, t string) bool {
	t = normType(t)
	if it.T != "" {
		return strings.EqualFold(it.T, t)
	}
	k, s, _, _ := c.prim(it)
	lt := strings.ToLower(t[:1]) + t[1:]
	switch k {
	case KString:
		if it.K == KString {
			return lt == "string"
		}
		return stringTypes[lt]
	case KBool:
		return lt == "boolean"
	case KInteger:
		return lt == "integer" || lt == "decimal" && it.K == KNode || lt == "positiveInt" || lt == "unsignedInt" || lt == "integer64"
	case KDecimal:
		return lt == "decimal"
	case KDate:
		return lt == "date"
	case KDateTime:
		return lt == "dateTime"
	case KTime:
		return lt == "time"
	case KNode:
		_ = s
		return t[0] >= 'A' && t[0] <= 'Z'
	}
	return false
}

var choiceTypes = []string{"Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id", "Instant",
	"Integer", "Integer64", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt", "Uri",
	"Url", "Uuid", "Address", "Age", "Annotation", "Attachment", "CodeableConcept", "CodeableReference",
	"Coding", "ContactPoint", "Count", "Distance", "Duration", "HumanName", "Identifier", "Money",
	"Period", "Quantity", "Range", "Ratio", "RatioRange", "Reference", "SampledData", "Signature",
	"Timing", "ContactDetail", "Contributor", "DataRequirement", "Expression", "ParameterDefinition",
	"RelatedArtifact", "TriggerDefinition", "UsageContext", "Dosage", "Meta", "Availability",
	"ExtendedContactDetail", "VirtualServiceDetail", "MonetaryComponent"}

// choiceTypeSet holds choiceTypes for isChoiceType.
var choiceTypeSet = func() map[string]struct{} {
	m := make(map[string]struct{}, len(choiceTypes))
	for _, t := range choiceTypes {
		m[t] = struct{}{}
	}
	return m
}()

// isChoiceType reports whether suffix names a FHIR data type that a choice element [x] may take.
func isChoiceType(suffix []byte) bool {
	_, ok := choiceTypeSet[string(suffix)]
	return ok
}
