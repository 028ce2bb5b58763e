package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/jsontree"
	"github.com/dpcetl/dpcetl/transform/view"
)

// span is a range of items (cells) or converted values (slots).
type span struct{ lo, hi int32 }

// maxRepeatDepth bounds view-level repeat recursion.
const maxRepeatDepth = 256

// evaluator turns one parsed resource into rows. All buffers are reused between lines.
type evaluator struct {
	ctx   fhirpath.Ctx
	items []fhirpath.Item // column values and iteration foci of the current line
	tmp   []fhirpath.Item
	cells []span  // rows of the current view: width = number of columns
	rs    []int32 // row offsets into cells (a stack)
	width int
	slots []span // converted rows of all views of the line
	vals  []cval
	seen  []uint32 // repeat: node index → stamp of the repeat that collected it
	stamp uint32
	// the shared plan: results of expressions several views evaluate on the resource
	plan   *sharePlan
	memo   []memoEntry
	mstamp uint32
}

func (ev *evaluator) init(e *Engine) {
	ev.plan = e.plan
	if ev.plan != nil {
		ev.memo = make([]memoEntry, ev.plan.n)
	}
}

func (ev *evaluator) resetLine(doc *jsontree.Doc, root int32) {
	ev.ctx.Reset(doc, root)
	if ev.mstamp++; ev.mstamp == 0 {
		clear(ev.memo)
		ev.mstamp = 1
	}
	ev.items = ev.items[:0]
	ev.slots = ev.slots[:0]
	ev.vals = ev.vals[:0]
}

// resourceLabel names the resource in errors: Type/id.
func (ev *evaluator) resourceLabel() string {
	d := ev.ctx.Doc
	rt, id := "resource", "(no id)"
	if n := d.Child(ev.ctx.Root, "resourceType"); n >= 0 {
		rt = d.Str(n)
	}
	if n := d.Child(ev.ctx.Root, "id"); n >= 0 && d.Nodes[n].Kind == jsontree.String {
		id = d.Str(n)
	}
	return rt + "/" + id
}

// rows evaluates the view's where and select into ev.cells/ev.rs; it returns the start of
// the row offsets in ev.rs, or -1 when the where clause excludes the resource.
func (ev *evaluator) rows(v *view.View) (int, error) {
	ev.cells = ev.cells[:0]
	ev.rs = ev.rs[:0]
	ev.width = len(v.Columns)
	root := ev.ctx.RootItem()
	for _, wh := range v.Where {
		ok, err := wh.Truth(&ev.ctx, root)
		if err != nil {
			return 0, fmt.Errorf("%s: view %q where: %w", ev.resourceLabel(), v.Name, err)
		}
		if !ok {
			return -1, nil
		}
	}
	ev.ctx.RowIndex = 0
	start, err := ev.selectRows(v.Root, root, false, 0)
	if err != nil {
		return 0, fmt.Errorf("%s: view %q: %w", ev.resourceLabel(), v.Name, err)
	}
	return start, nil
}

// newRow appends an all-empty row and returns its offset.
func (ev *evaluator) newRow() int32 {
	off := int32(len(ev.cells))
	for i := 0; i < ev.width; i++ {
		ev.cells = append(ev.cells, span{})
	}
	return off
}

func (ev *evaluator) copyRow(src int32) int32 {
	off := int32(len(ev.cells))
	ev.cells = append(ev.cells, ev.cells[src:src+int32(ev.width)]...)
	return off
}

// selectRows appends the row offsets produced by s for focus to ev.rs and returns where they start.
func (ev *evaluator) selectRows(s *view.Select, focus fhirpath.Item, null bool, depth int) (int, error) {
	base := len(ev.rs)
	if null {
		return base, ev.focusRows(s, focus, true, depth)
	}
	switch {
	case s.ForEach != nil:
		id := int32(-1)
		if ev.plan != nil && ev.atRoot(focus) {
			if k, ok := ev.plan.forEach[s]; ok {
				id = k
			}
		}
		a, b, err := ev.eval(id, s.ForEach, focus)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.JSONPath, err)
		}
		if a == b {
			if s.OrNull {
				return base, ev.focusRows(s, fhirpath.Item{}, true, depth)
			}
			return base, nil
		}
		if err := ev.eachFocus(s, a, b, depth); err != nil {
			return 0, err
		}
	case len(s.Repeat) > 0:
		a := len(ev.items)
		// a node is collected once (as FHIRPath repeat() does), so paths that revisit
		// nodes ($this, %resource, overlapping paths) cannot make the work explode
		ev.stamp++
		if n := len(ev.ctx.Doc.Nodes); len(ev.seen) < n {
			ev.seen = make([]uint32, n+n/2)
		}
		if err := ev.repeat(s, focus, 0); err != nil {
			return 0, err
		}
		b := len(ev.items)
		if err := ev.eachFocus(s, a, b, depth); err != nil {
			return 0, err
		}
	default:
		if err := ev.focusRows(s, focus, false, depth); err != nil {
			return 0, err
		}
	}
	return base, nil
}

// eachFocus appends the rows of s for each item of ev.items[a:b], with %rowIndex its position.
func (ev *evaluator) eachFocus(s *view.Select, a, b, depth int) error {
	saved := ev.ctx.RowIndex
	defer func() { ev.ctx.RowIndex = saved }()
	for k := a; k < b; k++ {
		ev.ctx.RowIndex = int64(k - a)
		if err := ev.focusRows(s, ev.items[k], false, depth); err != nil {
			return err
		}
	}
	return nil
}

// repeat appends to ev.items, depth first, every item reached by following s.Repeat paths.
func (ev *evaluator) repeat(s *view.Select, focus fhirpath.Item, depth int) error {
	if depth > maxRepeatDepth {
		return fmt.Errorf("%s: repeat deeper than %d levels", s.JSONPath, maxRepeatDepth)
	}
	for _, p := range s.Repeat {
		a := len(ev.tmp)
		var err error
		ev.tmp, err = p.Eval(&ev.ctx, focus, ev.tmp)
		if err != nil {
			return fmt.Errorf("%s: %w", s.JSONPath, err)
		}
		b := len(ev.tmp)
		for k := a; k < b; k++ {
			it := ev.tmp[k]
			if it.K != fhirpath.KNode {
				return fmt.Errorf("%s: repeat path produced a computed value, not an element", s.JSONPath)
			}
			if ev.seen[it.N] == ev.stamp {
				continue
			}
			ev.seen[it.N] = ev.stamp
			ev.items = append(ev.items, it)
			if err := ev.repeat(s, it, depth+1); err != nil {
				return err
			}
		}
		ev.tmp = ev.tmp[:a]
	}
	return nil
}

// focusRows appends the rows of s for one focus item: its columns × each nested select × unionAll.
func (ev *evaluator) focusRows(s *view.Select, focus fhirpath.Item, null bool, depth int) error {
	row := ev.newRow()
	root := !null && ev.plan != nil && ev.atRoot(focus)
	for _, c := range s.Columns {
		if null {
			// forEachOrNull over nothing: columns see an empty focus (so %rowIndex is 0)
			a := int32(len(ev.items))
			var err error
			ev.items, err = c.Expr.EvalEmpty(&ev.ctx, ev.items)
			if err != nil {
				return fmt.Errorf("column %q: %w", c.Name, err)
			}
			ev.cells[row+int32(c.Index)] = span{a, int32(len(ev.items))}
			continue
		}
		id := int32(-1)
		if root {
			if k, ok := ev.plan.column[c]; ok {
				id = k
			}
		}
		a, b, err := ev.eval(id, c.Expr, focus)
		if err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
		ev.cells[row+int32(c.Index)] = span{int32(a), int32(b)}
	}
	acc := len(ev.rs)
	ev.rs = append(ev.rs, row)
	if null {
		// the null row stands for the whole subtree: nested selects add no rows
		return nil
	}
	for _, sub := range s.Selects {
		start, err := ev.selectRows(sub, focus, null, depth+1)
		if err != nil {
			return err
		}
		ev.product(acc, start)
	}
	if len(s.UnionAll) > 0 {
		start := len(ev.rs)
		for _, u := range s.UnionAll {
			if _, err := ev.selectRows(u, focus, null, depth+1); err != nil {
				return err
			}
		}
		ev.product(acc, start)
	}
	return nil
}

// product replaces rows rs[acc:start] by their combination with rows rs[start:]
// (cells are merged: each side fills different columns).
func (ev *evaluator) product(acc, start int) {
	end := len(ev.rs)
	for i := acc; i < start; i++ {
		for j := start; j < end; j++ {
			r := ev.copyRow(ev.rs[i])
			q := ev.rs[j]
			for k := int32(0); k < int32(ev.width); k++ {
				if c := ev.cells[q+k]; c.hi > c.lo {
					ev.cells[r+k] = c
				}
			}
			ev.rs = append(ev.rs, r)
		}
	}
	n := copy(ev.rs[acc:], ev.rs[end:])
	ev.rs = ev.rs[:acc+n]
}

// viewRows evaluates table t for the current line and converts its values into ev.slots/ev.vals.
func (ev *evaluator) viewRows(t *table, _ bool) (int, error) {
	start, err := ev.rows(t.v)
	if err != nil || start < 0 {
		return 0, err
	}
	n := len(ev.rs) - start
	for _, row := range ev.rs[start:] {
		for ci := range t.cols {
			cs := &t.cols[ci]
			c := ev.cells[row+int32(ci)]
			if !cs.collection && c.hi-c.lo > 1 {
				return 0, fmt.Errorf("%s: view %q: column %q: %d values where one is allowed (declare \"collection\": true)",
					ev.resourceLabel(), t.v.Name, cs.col.Name, c.hi-c.lo)
			}
			lo := int32(len(ev.vals))
			for k := c.lo; k < c.hi; k++ {
				v, err := cs.convert(&ev.ctx, &ev.items[k])
				if err != nil {
					return 0, fmt.Errorf("%s: view %q: column %q (%s): %w", ev.resourceLabel(), t.v.Name, cs.col.Name, cs.typeName, err)
				}
				ev.vals = append(ev.vals, v)
			}
			ev.slots = append(ev.slots, span{lo, int32(len(ev.vals))})
		}
	}
	return n, nil
}

// jsonValue converts an item to a plain Go value: string, bool, json.Number (the exact
// number: an integer64 or a decimal is never passed through float64), map or slice.
func (ev *evaluator) jsonValue(it *fhirpath.Item) (any, error) {
	k, s, _, i := ev.ctx.Prim(it)
	switch k {
	case fhirpath.KBool:
		return i == 1, nil
	case fhirpath.KInteger:
		return json.Number(strconv.FormatInt(i, 10)), nil
	case fhirpath.KDecimal:
		return json.Number(strings.Clone(s)), nil
	case fhirpath.KNode:
		dec := json.NewDecoder(bytes.NewReader(ev.ctx.Doc.Raw(it.N)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return strings.Clone(s), nil // s may alias the caller's resource bytes
}
