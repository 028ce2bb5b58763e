package sandbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

// BenchmarkProvision measures the bootstrap every end-to-end test and `make demo` pay:
// with a shared key (tests) it is a handful of requests; generating the key dominates otherwise.
func BenchmarkProvision(b *testing.B) {
	for _, bc := range []struct {
		name     string
		bits     int
		shared   bool
		patients int
	}{
		{"sharedkey/100patients", 0, true, 100},
		{"sharedkey/5000patients", 0, true, 5000},
		{"gen2048/100patients", 2048, false, 100},
		{"gen4096/100patients", 4096, false, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024))
			defer srv.Close()
			for i := 0; i < b.N; i++ {
				// Practitioners left to the default: enough groups to stay under DPC's roster limit.
				opts := sandbox.Options{KeyBits: bc.bits, Patients: bc.patients, OrgName: fmt.Sprint("bench ", i)}
				if bc.shared {
					opts.Key = testKey()
				}
				if _, err := sandbox.Provision(context.Background(), srv.URL, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
