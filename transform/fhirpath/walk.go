package fhirpath

import (
	"unsafe"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

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
	data, ns := d.Data, d.Nodes[:nd.Next]
	for k := i + 1; int(k) < len(ns); k = ns[k].Next {
		cn := &ns[k]
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
		ns := d.Nodes[:cn.Next]
		for e := k + 1; int(e) < len(ns); e = ns[e].Next {
			switch ns[e].Kind {
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
