package fhirpath

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

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
		s := c.Doc.Str(it.N) // aliases the line, like string values
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

// PrimText is Prim without the float value, which output conversion never needs: a decimal
// node is not parsed as a float64 (its exact text is what a column keeps).
func (c *Ctx) PrimText(it *Item) (Kind, string, int64) {
	if it.K == KNode {
		if nd := &c.Doc.Nodes[it.N]; nd.Kind == jsontree.Number {
			raw := c.Doc.Raw(it.N)
			s := c.Doc.Str(it.N)
			if !bytes.ContainsAny(raw, ".eE") {
				if i, err := strconv.ParseInt(s, 10, 64); err == nil {
					return KInteger, s, i
				}
			}
			return KDecimal, s, 0
		}
	}
	k, s, _, i := c.prim(it)
	return k, s, i
}

// String returns the text of a primitive item (for output and tests).
func (c *Ctx) String(it *Item) string {
	_, s, _, _ := c.prim(it)
	return s
}

// Prim exposes prim for the engine's output conversion.
func (c *Ctx) Prim(it *Item) (Kind, string, float64, int64) { return c.prim(it) }

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
