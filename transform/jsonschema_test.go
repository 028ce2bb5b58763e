package transform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// validateJSONSchema validates doc against the JSON Schema (draft-07) in file schemaPath.
// It implements the keywords the SQL on FHIR report schema uses (type, properties,
// patternProperties, additionalProperties, required, items, minItems) and refuses a
// schema with any other assertion keyword, so a newer schema cannot pass by being ignored.
func validateJSONSchema(t *testing.T, schemaPath string, doc []byte) error {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return validateNode(schema, v, "$")
}

var schemaAnnotations = map[string]bool{"$id": true, "$schema": true, "title": true, "description": true, "examples": true}

func validateNode(schema, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool {
			if !b {
				return fmt.Errorf("%s: not allowed", at)
			}
			return nil
		}
		return fmt.Errorf("%s: schema is not an object", at)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "type", "properties", "patternProperties", "additionalProperties", "required", "items", "minItems":
		default:
			if !schemaAnnotations[k] {
				return fmt.Errorf("%s: schema keyword %q is not supported by this validator", at, k)
			}
		}
	}
	if typ, ok := s["type"].(string); ok {
		if err := checkType(typ, v); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, has := x[r.(string)]; !has {
					return fmt.Errorf("%s: missing required %q", at, r)
				}
			}
		}
		props, _ := s["properties"].(map[string]any)
		pats, _ := s["patternProperties"].(map[string]any)
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			matched := false
			if ps, ok := props[k]; ok {
				matched = true
				if err := validateNode(ps, x[k], at+"."+k); err != nil {
					return err
				}
			}
			for p, ps := range pats {
				re, err := regexp.Compile(p)
				if err != nil {
					return fmt.Errorf("%s: bad pattern %q: %v", at, p, err)
				}
				if re.MatchString(k) {
					matched = true
					if err := validateNode(ps, x[k], at+"."+k); err != nil {
						return err
					}
				}
			}
			if ap, ok := s["additionalProperties"]; ok && !matched {
				if err := validateNode(ap, x[k], at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if mi, ok := s["minItems"].(float64); ok && len(x) < int(mi) {
			return fmt.Errorf("%s: %d items, at least %d required", at, len(x), int(mi))
		}
		if is, ok := s["items"]; ok {
			for i, e := range x {
				if err := validateNode(is, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkType(typ string, v any) error {
	ok := false
	switch typ {
	case "object":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "number":
		_, ok = v.(json.Number)
	case "integer":
		n, isNum := v.(json.Number)
		ok = isNum && !strings.ContainsAny(n.String(), ".eE")
	case "null":
		ok = v == nil
	default:
		return fmt.Errorf("type %q is not supported by this validator", typ)
	}
	if !ok {
		return fmt.Errorf("%T is not of type %s", v, typ)
	}
	return nil
}

// TestReportSchemaValidator shows the validator can fail: reports that break the official
// schema in each way it constrains are rejected, and a correct one is accepted.
func TestReportSchemaValidator(t *testing.T) {
	cases := []struct {
		doc  string
		want string // "" = valid
	}{
		{`{"basic.json":{"tests":[{"name":"a","result":{"passed":true}},{"name":"b","result":{"passed":false,"error":"x"}}]}}`, ""},
		{`{"basic.json":{"tests":[]}}`, "at least 1"},
		{`{"basic.json":{}}`, `missing required "tests"`},
		{`{"basic.json":{"tests":[{"name":"a"}]}}`, `missing required "result"`},
		{`{"basic.json":{"tests":[{"name":"a","result":{"passed":"yes"}}]}}`, "not of type boolean"},
		{`{"basic.json":{"tests":[{"name":1,"result":{"passed":true}}]}}`, "not of type string"},
		{`{"basic.json":{"tests":[{"name":"a","result":{"passed":true}}],"extra":1}}`, "not allowed"},
		{`{"basic.json":{"tests":[{"name":"a","result":{"passed":true,"error":3}}]}}`, "not of type string"},
		{`[]`, "not of type object"},
	}
	for _, tc := range cases {
		err := validateJSONSchema(t, reportSchema, []byte(tc.doc))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}
