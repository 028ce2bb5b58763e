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
		f := jsontree.Doc{Filter: jsontree.NewKeySet([]string{"b"}, nil)} // skips "a" members
		if ferr := f.Parse([]byte(c)); (ferr == nil) != (err == nil) {
			t.Errorf("filtered Parse(%q) err=%v, unfiltered %v", c, ferr, err)
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

func TestFilterKeepsWhatItWasGiven(t *testing.T) {
	d := jsontree.Doc{Filter: jsontree.NewKeySet([]string{"value", "id", "multipleBirth"}, []string{"Quantity", "Integer"})}
	src := `{"id":"x","display":"long text","valueQuantity":{"value":1.5,"unit":"mg"},"valueBoolean":true,"other":[{"id":"y"}],"multipleBirthInteger":2}`
	if err := d.Parse([]byte(src)); err != nil {
		t.Fatal(err)
	}
	if d.Child(0, "display") != -1 || d.Child(0, "other") != -1 || d.Child(0, "valueBoolean") != -1 {
		t.Error("filtered members were kept")
	}
	q := d.Child(0, "valueQuantity")
	if q < 0 || string(d.Raw(d.Child(q, "value"))) != "1.5" || d.Str(d.Child(0, "id")) != "x" {
		t.Errorf("kept members missing")
	}
	if mb := d.Child(0, "multipleBirthInteger"); mb < 0 || string(d.Raw(mb)) != "2" {
		t.Error("choice element whose name has upper case was dropped")
	}
	if string(d.Raw(0)) != src {
		t.Error("root span changed")
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

// TestKeyTag: a member's tag equals the tag of every name a lookup may match it by (itself,
// its choice base name), so comparing tags first never hides a member.
func TestKeyTag(t *testing.T) {
	for key, base := range map[string]string{
		"valueQuantity": "value", "multipleBirthInteger": "multipleBirth", "careTeamLinkId": "careTeam",
		"ExplanationOfBenefit": "ExplanationOf", "a": "a", "x": "x", "valueString": "valueString",
	} {
		if jsontree.KeyTag(key) != jsontree.KeyTag(base) {
			t.Errorf("KeyTag(%q) = %d, KeyTag(%q) = %d", key, jsontree.KeyTag(key), base, jsontree.KeyTag(base))
		}
	}
	var d jsontree.Doc
	if err := d.Parse([]byte(`{"valueQuantity":{"value":1},"code":"x","c\u006fde":"y"}`)); err != nil {
		t.Fatal(err)
	}
	distinct := map[uint8]bool{}
	for _, n := range []string{"code", "system", "value", "display", "extension", "url", "coding", "sequence"} {
		distinct[jsontree.KeyTag(n)] = true
	}
	if len(distinct) < 7 {
		t.Errorf("KeyTag separates common FHIR names poorly: %d tags for 8 names", len(distinct))
	}
	for i := range d.Nodes[1:] {
		nd := &d.Nodes[i+1]
		if nd.KeyEnd > nd.KeyStart && !nd.KeyEsc && nd.KeyTag != jsontree.KeyTag(string(d.Data[nd.KeyStart:nd.KeyEnd])) {
			t.Errorf("node %d: KeyTag %d not computed at parse", i+1, nd.KeyTag)
		}
	}
}
