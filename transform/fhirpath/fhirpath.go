// Package fhirpath compiles the FHIRPath subset used by SQL on FHIR v2 views into plans
// that evaluate over a jsontree.Doc without allocating per resource.
package fhirpath

import (
	"errors"
	"fmt"
	"slices"

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
	// lookup indexes of this resource (see lookupShape); strings alias the document
	lookups map[lookupKey]int32 // → idx
	idx     []lookupIdx
	pairs   []lookupPair
	recent  [64]recentLookup
	gen     uint32 // resource generation for recent
}

// Reset prepares c for a new resource.
func (c *Ctx) Reset(doc *jsontree.Doc, root int32) {
	c.Doc, c.Root, c.RowIndex = doc, root, 0
	c.st = c.st[:0]
	c.ns = c.ns[:0]
	if len(c.idx) > 0 {
		clear(c.lookups)
	}
	if c.gen++; c.gen == 0 {
		c.recent = [64]recentLookup{}
		c.gen = 1
	}
	c.idx = c.idx[:0]
	c.pairs = c.pairs[:0]
	c.cur, c.hasCur = Item{N: root}, true
}

// Env is what an expression may refer to at compile time.
type Env struct {
	Resource  string          // the view's resource type; a leading identifier equal to it means $this
	Constants map[string]Item // %name values
	// General compiles without the fast paths (node predicates, first-after-where, lookup
	// indexes): the reference evaluator that differential tests compare the fast paths with.
	General bool
}

// Expr is a compiled expression.
type Expr struct {
	Src   string
	fn    evalFn
	names []string
	// path: the expression is a member path from the focus (a.b.c, the most common
	// column), which Eval walks straight into dst; nil when it is not.
	path []member
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
	cp := &compiler{env: env, names: map[string]bool{}, noPred: env.General}
	fn, err := cp.compile(ast, true)
	if err != nil {
		return nil, err
	}
	e := &Expr{Src: src, fn: fn}
	if !env.General {
		e.path = cp.memberPath(ast)
	}
	for n := range cp.names {
		e.names = append(e.names, n)
	}
	slices.Sort(e.names)
	return e, nil
}

// Eval evaluates e with the single item focus and appends the result to dst.
// focus is also %context for the whole expression (inside where() and select() too).
func (e *Expr) Eval(c *Ctx, focus Item, dst []Item) ([]Item, error) {
	if e.path != nil {
		if focus.K == KNode {
			// walk appends to c.st: lend it dst
			st := c.st
			c.st = dst
			c.walk(focus.N, e.path, "")
			dst, c.st = c.st, st
		}
		return dst, nil
	}
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
