package loadtest_test

import (
	"fmt"

	"github.com/dpcetl/dpcetl/load/loadtest"
	"github.com/dpcetl/dpcetl/load/sink"
)

// A backend's test runs the whole suite with a constructor for an empty sink:
//
//	func TestConformance(t *testing.T) {
//		loadtest.RunConformance(t, func(t *testing.T) sink.Sink {
//			s, err := sink.NewFile(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
func ExampleRunConformance() {
	// The large-object case needs three parts at the minimum S3 part size.
	fmt.Println(loadtest.LargeObjectSize/sink.MinPartSize + 1)
	// Output: 3
}
