package fhirpath

import "github.com/dpcetl/dpcetl/transform/jsontree"

// extensionFn is extension(url): the input's extensions with that url. FHIR's FHIRPath
// binding (fhirpath.html, "extension(url : string) : collection") applies it to primitive
// values too, whose extensions the JSON format keeps in a sibling: "the JSON property with
// the same name prefixed with '_'" (json.html, primitive elements), an array of the same
// length when the primitive repeats. So birthDate.extension(url) reads _birthDate.extension
// and name.given[1].extension(url) reads name._given[1].extension.
func extensionFn(url string) evalFn {
	return func(c *Ctx, lo, hi int) error {
		d := c.Doc
		for k := lo; k < hi; k++ {
			if c.st[k].K != KNode {
				continue
			}
			n := c.st[k].N
			ext := int32(-1)
			switch d.Nodes[n].Kind {
			case jsontree.Object:
				ext = d.Child(n, "extension")
			case jsontree.String, jsontree.Number, jsontree.True, jsontree.False:
				if sib := c.primitiveSibling(n); sib >= 0 {
					ext = d.Child(sib, "extension")
				}
			}
			if ext < 0 || d.Nodes[ext].Kind != jsontree.Array {
				continue
			}
			en := &d.Nodes[ext]
			for e := ext + 1; e < en.Next; e = d.Nodes[e].Next {
				u := d.Child(e, "url")
				if u >= 0 && d.Nodes[u].Kind == jsontree.String && d.Str(u) == url {
					c.st = append(c.st, Item{N: e})
				}
			}
		}
		return nil
	}
}

// primitiveSibling returns the `_name` object that holds the id and extensions of
// primitive node i (a member value, or an element of an array member), or -1. Nodes keep
// no parent links, so it descends from the document root to i: this runs only for
// extension() on primitives.
func (c *Ctx) primitiveSibling(i int32) int32 {
	d := c.Doc
	parent, grand := int32(-1), int32(-1)
	for cur := int32(0); cur != i; {
		next := int32(-1)
		for k := cur + 1; k < d.Nodes[cur].Next; k = d.Nodes[k].Next {
			if k <= i && i < d.Nodes[k].Next {
				next = k
				break
			}
		}
		if next < 0 {
			return -1
		}
		grand, parent, cur = parent, cur, next
	}
	if parent < 0 {
		return -1
	}
	switch d.Nodes[parent].Kind {
	case jsontree.Object:
		sib := d.Child(parent, "_"+d.Key(i))
		if sib >= 0 && d.Nodes[sib].Kind == jsontree.Object {
			return sib
		}
	case jsontree.Array:
		if grand < 0 || d.Nodes[grand].Kind != jsontree.Object {
			return -1
		}
		idx := 0
		for k := parent + 1; k != i; k = d.Nodes[k].Next {
			idx++
		}
		arr := d.Child(grand, "_"+d.Key(parent))
		if arr < 0 || d.Nodes[arr].Kind != jsontree.Array {
			return -1
		}
		for k, j := arr+1, 0; k < d.Nodes[arr].Next; k, j = d.Nodes[k].Next, j+1 {
			if j == idx {
				if d.Nodes[k].Kind == jsontree.Object {
					return k
				}
				return -1
			}
		}
	}
	return -1
}
