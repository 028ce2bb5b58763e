package extract_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"1a2b3c4d-0000-4000-8000-000000000000", "batch-0.patient.ndjson", "Patient", "ExplanationOfBenefit", "g_1", "a..b"} {
		if err := extract.CheckName("name", ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".hidden", "a/b", `a\b`, "../x", "a\x00b", "a:b", "é", "\xff", "a b", strings.Repeat("a", 201)} {
		err := extract.CheckName("job id", bad)
		if !errors.Is(err, extract.ErrUnsafeName) || !strings.Contains(err.Error(), "job id") {
			t.Errorf("CheckName(%q) = %v, want ErrUnsafeName naming the field", bad, err)
		}
	}
}
