package extract_test

import (
	"errors"
	"fmt"

	"github.com/dpcetl/dpcetl/extract"
)

func ExampleProgress() {
	var files int
	p := extract.Progress(func(e extract.Event) {
		if e.Kind == extract.EventFileVerified {
			files++
		}
	})
	p.Emit(extract.Event{Kind: extract.EventFileVerified, URL: "https://x/api/v1/Data/1-0.patient.ndjson", Bytes: 10})
	var none extract.Progress
	none.Emit(extract.Event{Kind: extract.EventFileVerified}) // a nil Progress drops events
	fmt.Println(files)
	// Output: 1
}

func Example_sentinels() {
	err := fmt.Errorf("download: HTTP 503: %w", extract.ErrRetryable)
	fmt.Println(errors.Is(err, extract.ErrRetryable), errors.Is(err, extract.ErrAuth))
	// Output: true false
}
