package fhirpath

import (
	"fmt"
	"testing"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

func TestChoiceTypeListsAgree(t *testing.T) {
	for _, s := range choiceTypes {
		if !isChoiceType([]byte(s)) {
			t.Errorf("%s in choiceTypes but not isChoiceType", s)
		}
	}
	if isChoiceType([]byte("LinkId")) || isChoiceType([]byte("Sequence")) {
		t.Error("non-type suffix accepted")
	}
}

// TestPredMatchesGeneral checks that criteria compiled to predicates give exactly what the
// general evaluator gives, on values that exercise every branch (escapes, numbers, booleans,
// objects, several values, nulls, choice types, missing members).
func TestPredMatchesGeneral(t *testing.T) {
	const doc = `{"resourceType":"ExplanationOfBenefit","id":"e",
 "item":[
  {"s":"a","code":"x","coding":[{"system":"S","code":"x"},{"system":"T","code":"y"}]},
  {"s":"a\u0062","code":"ab","coding":[{"system":"S","code":"ab"}]},
  {"s":1,"code":true,"coding":{"system":"S","code":{"x":1}}},
  {"s":["a","b"],"code":null,"coding":[null,{"system":null}]},
  {"valueString":"a","valueCoding":{"code":"x"},"sLinkId":"a"},
  {"s":"b","coding":[[{"system":"S","code":"x"}]]},
  {},
  {"category":{"coding":[{"code":"q"},{"code":"r"}]},"amount":{"value":1}},
  {"category":{"coding":[{"code":"r"}]}}
 ]}`
	crits := []string{
		"s = 'a'", "s != 'a'", "s = 'ab'", "s = 'b' or s = 'a'", "s = 'x' or s = 'y' or s = 'ab'",
		"code = 'x'", "code != 'x'", "value = 'a'", "value.code = 'x'", "sLinkId = 'a'",
		"coding.system = 'S'", "coding.where(system = 'S').exists()", "coding.where(system = 'S' and code = 'x').exists()",
		"coding.exists(system = 'T' or code = 'ab')", "coding.exists()", "s.exists()", "$this.exists()",
		"s = 'a' and code = 'x'", "s = 'a' or code = 'x'", "code = 'ab' and s = 'a'", "nope = 'a' or s = 'b'",
		"nope = 'a' and s = 'b'", "(s = 'a' or s = 'b') and coding.exists(code = 'x')",
		"category.coding.where(code = 'r').exists()", "category.coding.where(code = 'q' or code = 'z').exists()",
		"category.coding.code = 'r'",
	}
	var d jsontree.Doc
	if err := d.Parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	var c Ctx
	c.Reset(&d, 0)
	for _, cr := range crits {
		for _, form := range []string{"item.where(%s).s", "item.where(%s).first().s", "item.exists(%s)", "item.where(%s).exists()", "item.where(%s).count()",
			"item.where(%s).coding.code.first()", "item.where(%s).value.first()", "item.where(%s).amount.value.first()", "item.where(%s).nope.first()"} {
			src := fmt.Sprintf(form, cr)
			var got [2]string
			for i, noPred := range []bool{false, true} {
				ast, err := parseExpr(src)
				if err != nil {
					t.Fatal(err)
				}
				cp := &compiler{env: Env{Resource: "ExplanationOfBenefit"}, names: map[string]bool{}, noPred: noPred}
				fn, err := cp.compile(ast, true)
				if err != nil {
					t.Fatalf("%s: %v", src, err)
				}
				e := &Expr{Src: src, fn: fn}
				out, err := e.Eval(&c, c.RootItem(), nil)
				got[i] = fmt.Sprint(err)
				for k := range out {
					got[i] += "|" + c.String(&out[k])
				}
			}
			if got[0] != got[1] {
				t.Errorf("%s: predicate %q, general %q", src, got[0], got[1])
			}
		}
	}
	if p := (&compiler{names: map[string]bool{}}).compilePred(mustParse(t, "s = 'a'")); p == nil {
		t.Error("s = 'a' not compiled to a predicate")
	}
}

func mustParse(t *testing.T, src string) *astNode {
	t.Helper()
	n, err := parseExpr(src)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLookupIndexShared checks that columns of one lookup shape (same X, Q and K, different
// literals) build one index per focus and resource and read their values from it, and that
// Reset drops it.
func TestLookupIndexShared(t *testing.T) {
	const doc = `{"resourceType":"ExplanationOfBenefit","item":[
  {"adjudication":[{"category":{"coding":[{"code":"a"}]},"amount":{"value":1}},
                   {"category":{"coding":[{"code":"b"},{"code":"c"}]},"amount":{"value":2}},
                   {"category":{"coding":[{"code":"c"}]}},
                   {"category":{"coding":[{"code":"c"}]},"amount":{"value":4}}]},
  {"adjudication":[{"category":{"coding":[{"code":"c"}]},"amount":{"value":5}}]}]}`
	var d jsontree.Doc
	if err := d.Parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	var c Ctx
	c.Reset(&d, 0)
	items, err := mustCompile(t, "item").Eval(&c, c.RootItem(), nil)
	if err != nil || len(items) != 2 {
		t.Fatalf("items: %v %v", items, err)
	}
	want := map[string][2]string{"a": {"1", ""}, "b": {"2", ""}, "c": {"2", "5"}, "z": {"", ""}}
	for code, w := range want {
		e := mustCompile(t, "adjudication.where(category.coding.where(code = '"+code+"' or code = 'y').exists()).amount.value.first()")
		for i, it := range items {
			out, err := e.Eval(&c, it, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(out) == 1 {
				got = c.String(&out[0])
			}
			if got != w[i] {
				t.Errorf("code %s item %d: got %q, want %q", code, i, got, w[i])
			}
		}
	}
	if len(c.idx) != 2 {
		t.Errorf("%d lookup indexes built, want 2 (one per item)", len(c.idx))
	}
	c.Reset(&d, 0)
	if len(c.idx) != 0 || len(c.pairs) != 0 {
		t.Errorf("Reset kept %d indexes, %d pairs", len(c.idx), len(c.pairs))
	}
}

func mustCompile(t *testing.T, src string) *Expr {
	t.Helper()
	e, err := Compile(src, Env{Resource: "ExplanationOfBenefit"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
