package fhirpath

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// A lookup is the coded-lookup idiom X.where(P).a.b.first() where P tests string values
// reached from each element of X against literals: `K = 'l1' or K = 'l2'` (shape eq) or
// `Q.where(K = 'l1' or ...).exists()` / `Q.exists(K = ...)` (shape any). Claims views repeat
// it for dozens of columns over the same X with different literals (line amounts keyed on
// adjudication category codes, header codes keyed on coding systems), so the elements of X
// and the values P compares are collected once per focus node and resource (the lookup
// index, cached in the Ctx under the shape's key) and every column of that shape, in every
// view, only compares its literals with the index. The results are those of the predicate
// path (checked against the general evaluator by TestPredMatchesGeneral).
type lookupShape struct {
	key  string   // X, Q, K and the compile context: columns with the same key share an index
	hash uint64   // of key, so that the per-resource map does not hash key itself
	x    []member // X: a pure path from the focus
	q    []member // Q (shape any), nil for shape eq
	k    []member // K
	lits []string
}

// lookupKey identifies one lookup index: a shape key's hash and the focus node X starts from.
type lookupKey struct {
	hash uint64
	n    int32
}

// lookupIdx is a built index: its shape key (checked on every hit) and pairs[lo:hi].
type lookupIdx struct {
	key    string
	lo, hi int32
}

// recentLookup is a slot of Ctx.recent: lookup index ix of (hash, n), valid in generation gen.
type recentLookup struct {
	gen  uint32
	hash uint64
	n    int32
	ix   int32
}

// lookupPair is one candidate of an index: element elem of X offers value v to P.
type lookupPair struct {
	elem int32
	v    string
}

// lookupShapeOf recognises the lookup idiom in a where() over target (the X) with criterion crit.
func (cp *compiler) lookupShapeOf(target, crit *astNode, top bool) (*lookupShape, bool) {
	xs, ok := purePath(target)
	if !ok || len(xs) == 0 {
		return nil, false
	}
	if top && xs[0] == cp.env.Resource && cp.env.Resource != "" {
		xs = xs[1:] // as compilePath reads it
		if len(xs) == 0 {
			return nil, false
		}
	}
	var qs []string
	inner := crit
	if crit.kind == nFunc && crit.name == "exists" && crit.target != nil {
		t, arg := crit.target, (*astNode)(nil)
		if len(crit.args) == 1 {
			arg = crit.args[0]
		} else if len(crit.args) == 0 && t.kind == nFunc && t.name == "where" && len(t.args) == 1 && t.target != nil {
			t, arg = t.target, t.args[0]
		}
		if arg == nil {
			return nil, false
		}
		if qs, ok = purePath(t); !ok || len(qs) == 0 {
			return nil, false
		}
		inner = arg
	}
	var kpath *astNode
	var lits []string
	switch {
	case inner.kind == nBinary && inner.name == "=" && inner.args[1].kind == nLit && inner.args[1].lit.K == KString:
		kpath, lits = inner.args[0], []string{inner.args[1].lit.S}
	case inner.kind == nBinary && inner.name == "or":
		if kpath, lits, ok = eqChain(inner); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	ks, ok := purePath(kpath)
	if !ok || len(ks) == 0 {
		return nil, false
	}
	key := strconv.Quote(cp.env.Resource) + strconv.FormatBool(top) + "|" + strings.Join(xs, ".") + "|" + strings.Join(qs, ".") + "|" + strings.Join(ks, ".")
	h := fnv.New64a()
	h.Write([]byte(key))
	sh := &lookupShape{key: key, hash: h.Sum64(), x: members(xs), k: members(ks), lits: lits}
	if qs != nil {
		sh.q = members(qs)
	}
	return sh, true
}

// lookupIndex returns the lookup index of sh for focus node n, building it on first use in this resource.
func (c *Ctx) lookupIndex(sh *lookupShape, n int32) []lookupPair {
	// most lookups repeat the previous ones (the columns of one row, one focus): a small
	// direct-mapped table in front of the map
	slot := &c.recent[(sh.hash^uint64(n)*0x9E3779B97F4A7C15)>>58]
	if slot.gen == c.gen && slot.hash == sh.hash && slot.n == n && int(slot.ix) < len(c.idx) {
		if ix := &c.idx[slot.ix]; ix.key == sh.key {
			return c.pairs[ix.lo:ix.hi]
		}
	}
	if c.lookups == nil {
		c.lookups = map[lookupKey]int32{}
	}
	lk := lookupKey{sh.hash, n}
	k, cached := c.lookups[lk]
	if cached {
		*slot = recentLookup{c.gen, sh.hash, n, k}
	}
	if cached {
		if ix := &c.idx[k]; ix.key == sh.key {
			return c.pairs[ix.lo:ix.hi]
		}
		// a hash collision between two shapes: build this one without caching it
	}
	start := int32(len(c.pairs))
	base := len(c.ns)
	c.walkNodes(n, sh.x)
	end := len(c.ns)
	for e := base; e < end; e++ {
		el := c.ns[e]
		if sh.q == nil {
			c.keyValue(el, el, sh.k)
			continue
		}
		qb := len(c.ns)
		c.walkNodes(el, sh.q)
		qe := len(c.ns)
		for q := qb; q < qe; q++ {
			c.keyValue(el, c.ns[q], sh.k)
		}
		c.ns = c.ns[:qb]
	}
	c.ns = c.ns[:base]
	if !cached {
		*slot = recentLookup{c.gen, sh.hash, n, int32(len(c.idx))}
		c.lookups[lk] = int32(len(c.idx))
		c.idx = append(c.idx, lookupIdx{sh.key, start, int32(len(c.pairs))})
	}
	return c.pairs[start:]
}

// keyValue records for element el the value of K at node m when eqPred would compare it:
// exactly one value, a string.
func (c *Ctx) keyValue(el, m int32, k []member) {
	base := len(c.ns)
	c.walkNodes(m, k)
	if len(c.ns)-base == 1 {
		v := c.ns[base]
		if nd := &c.Doc.Nodes[v]; nd.Kind == jsontree.String {
			var s string
			if nd.Esc {
				s = c.Doc.Str(v)
			} else {
				s = bytesToString(c.Doc.Data[nd.Start:nd.End])
			}
			c.pairs = append(c.pairs, lookupPair{el, s})
		}
	}
	c.ns = c.ns[:base]
}

// lookupFirst pushes the first value at tail of the first element of X (from focus node n)
// that passes the shape's predicate and has one.
func (c *Ctx) lookupFirst(sh *lookupShape, n int32, tail []member) {
	pairs := c.lookupIndex(sh, n)
	last := int32(-1)
	for i := range pairs {
		p := &pairs[i]
		if p.elem == last {
			continue
		}
		hit := false
		for _, l := range sh.lits {
			if len(p.v) == len(l) && p.v == l {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		last = p.elem
		a := len(c.st)
		c.walk(p.elem, tail, "")
		if len(c.st) > a {
			c.st = c.st[:a+1]
			return
		}
	}
}
