package runner_test

import (
	"fmt"

	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// The watermark of each group lives beside the output, so every worker sees it.
func ExampleWatermarkKey() {
	fmt.Println(runner.WatermarkKey("8a5c2a1e-3b7f-4d58-9f1c-2d6f0e4b7a90"))
	// Output: _state/groups/8a5c2a1e-3b7f-4d58-9f1c-2d6f0e4b7a90/watermark.json
}
