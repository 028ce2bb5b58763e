package transform

import (
	"strings"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/view"
)

// sharePlan is the part of the one-pass plan that spans views: an expression that several
// columns or forEach clauses (of one view or of several views on the same resource type)
// evaluate on the resource itself is evaluated once per resource, and every other user reads
// the same items (claims views all repeat eob_id, patient_id and claim_type, and the line
// views share forEach item). Within a scope the lookup indexes of package fhirpath share the
// coded where() scans between columns. Read-only after newSharePlan.
type sharePlan struct {
	n       int                    // shared results per resource
	forEach map[*view.Select]int32 // forEach/forEachOrNull clause → shared id (-1: not shared)
	column  map[*view.Column]int32 // column of any select → shared id (-1: not shared)
}

// memoEntry is a shared result of the current resource: ev.items[lo:hi], valid when stamp
// is the evaluator's line stamp.
type memoEntry struct {
	stamp  uint32
	lo, hi int32
}

// shareable reports whether an expression's result depends only on its focus and the
// resource: not on %rowIndex, $index or a view's own constants.
func shareable(src string) bool {
	return !strings.Contains(src, "%") && !strings.Contains(src, "$index")
}

// newSharePlan gives an id to every expression text used more than once at the resource
// level, by columns (every select and unionAll branch: branches declare the same output
// column with different expressions) and forEach clauses.
func newSharePlan(tables []*table) *sharePlan {
	var each func(s *view.Select, f func(*view.Select))
	each = func(s *view.Select, f func(*view.Select)) {
		f(s)
		for _, sub := range s.Selects {
			each(sub, f)
		}
		for _, sub := range s.UnionAll {
			each(sub, f)
		}
	}
	count := map[string]int{}
	note := func(e *fhirpath.Expr) {
		if e != nil && shareable(e.Src) {
			count[e.Src]++
		}
	}
	for _, t := range tables {
		each(t.v.Root, func(s *view.Select) {
			note(s.ForEach)
			for _, c := range s.Columns {
				note(c.Expr)
			}
		})
	}
	p := &sharePlan{forEach: map[*view.Select]int32{}, column: map[*view.Column]int32{}}
	ids := map[string]int32{}
	id := func(e *fhirpath.Expr) int32 {
		if e == nil || !shareable(e.Src) || count[e.Src] < 2 {
			return -1
		}
		if k, ok := ids[e.Src]; ok {
			return k
		}
		ids[e.Src] = int32(p.n)
		p.n++
		return ids[e.Src]
	}
	for _, t := range tables {
		each(t.v.Root, func(s *view.Select) {
			if s.ForEach != nil {
				p.forEach[s] = id(s.ForEach)
			}
			for _, c := range s.Columns {
				p.column[c] = id(c.Expr)
			}
		})
	}
	return p
}

// atRoot reports whether focus is the resource itself (where shared results apply).
func (ev *evaluator) atRoot(focus fhirpath.Item) bool {
	return focus.K == fhirpath.KNode && focus.N == ev.ctx.Root && focus.T == ""
}

// eval evaluates e on focus into ev.items and returns the span of its result; with a shared
// id (>= 0) the first evaluation in the resource is kept and later ones reuse it (items
// are only appended during a resource, so the span stays valid).
func (ev *evaluator) eval(id int32, e *fhirpath.Expr, focus fhirpath.Item) (int, int, error) {
	if id >= 0 {
		if m := &ev.memo[id]; m.stamp == ev.mstamp {
			return int(m.lo), int(m.hi), nil
		}
	}
	a := len(ev.items)
	var err error
	ev.items, err = e.Eval(&ev.ctx, focus, ev.items)
	if err != nil {
		return 0, 0, err
	}
	if id >= 0 {
		ev.memo[id] = memoEntry{ev.mstamp, int32(a), int32(len(ev.items))}
	}
	return a, len(ev.items), nil
}
