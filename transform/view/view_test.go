package view_test

import (
	"fmt"

	"github.com/dpcetl/dpcetl/transform/view"
)

func ExampleParse() {
	v, err := view.Parse("claims/eob_line.json", []byte(`{
	  "resourceType": "ViewDefinition", "name": "eob_line", "resource": "ExplanationOfBenefit",
	  "select": [{"column": [{"name": "eob_id", "path": "getResourceKey()", "type": "id"}]},
	             {"forEach": "item", "column": [{"name": "line_num", "path": "sequence", "type": "integer"}]}]}`))
	fmt.Println(v.Name, v.Resource, len(v.Columns), err)
	_, err = view.Parse("claims/eob.json", []byte(`{"resource": "ExplanationOfBenefit",
	  "select": [{"column": [{"name": "a", "path": "id"}]}, {"column": [{"name": "b", "path": "id.foo()"}]}]}`))
	fmt.Println(err)
	// Output:
	// eob_line ExplanationOfBenefit 2 <nil>
	// claims/eob.json: select[1].column[0].path: invalid ViewDefinition: unknown function "foo"
}
