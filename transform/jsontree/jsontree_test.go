package jsontree_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

func TestParseValidity(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -3e-2, true, false, null, "x\"y\\u00e9"]} `, `"s"`, `0`, `-0.0E+1`,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}",
		`{"a":"\ud800"}`, `{"a":1}}`, `{"a":1} x`, `[1 2]`, `{1:2}`, `"\u12"`, `{"a":"` + "\xff" + `"}`, ``, ` `,
		`{"a":"éü"}`, `{"k\"ey":"v"}`, `[[[[]]]]`, `{"a":[}`, `nul`, `1e`, `"abc`,
	}
	for _, c := range cases {
		var d jsontree.Doc
		err := d.Parse([]byte(c))
		// stricter than encoding/json on one point: strings must be valid UTF-8
		if (err == nil) != (json.Valid([]byte(c)) && utf8.ValidString(c)) {
			t.Errorf("Parse(%q) err=%v, encoding/json valid=%v", c, err, json.Valid([]byte(c)))
		}
	}
	deep := strings.Repeat("[", jsontree.MaxDepth+1) + strings.Repeat("]", jsontree.MaxDepth+1)
	var d jsontree.Doc
	if err := d.Parse([]byte(deep)); !errors.Is(err, jsontree.ErrTooDeep) {
		t.Errorf("deep: %v", err)
	}
}

func TestStrings(t *testing.T) {
	var d jsontree.Doc
	if err := d.Parse([]byte(`{"a\nb":"x\"y\\z\u00e9\ud83d\ude00\/","n":-12.50}`)); err != nil {
		t.Fatal(err)
	}
	k := d.Child(0, "a\nb")
	if k < 0 || d.Str(k) != "x\"y\\zé😀/" || d.Key(k) != "a\nb" {
		t.Fatalf("child %d %q", k, d.Str(k))
	}
	if n := d.Child(0, "n"); string(d.Raw(n)) != "-12.50" || d.Nodes[n].Kind != jsontree.Number {
		t.Fatalf("number %q", d.Raw(n))
	}
	if d.Child(0, "missing") != -1 {
		t.Fatal("missing child found")
	}
}

func ExampleDoc() {
	var d jsontree.Doc
	if err := d.Parse([]byte(`{"resourceType":"Patient","name":[{"family":"Doe"},{"family":"Roe"}]}`)); err != nil {
		fmt.Println(err)
		return
	}
	names := d.Child(0, "name")
	for i := names + 1; i < d.Nodes[names].Next; i = d.Nodes[i].Next {
		fmt.Println(d.Str(d.Child(i, "family")))
	}
	// Output:
	// Doe
	// Roe
}
