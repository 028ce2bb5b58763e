package sandbox_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/extract/smartauth"
)

// An embedded sandbox in a non-DPC dialect hands over a client that gets a token, and group
// ids that are FHIR ids, not UUIDs.
func TestStartDialect(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-`)
	for d, group := range map[dpctest.Dialect]string{dpctest.DialectBCDA: "all", dpctest.DialectAB2D: "Z0001", dpctest.DialectSMART: "practice-1"} {
		t.Run(d.String(), func(t *testing.T) {
			e, err := sandbox.Start(context.Background(), sandbox.EmbeddedOptions{Dialect: d, Provision: sandbox.Options{Patients: 5}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if e.Sandbox != nil || e.OAuth == nil || e.Patients != 5 || len(e.Groups) != 1 || e.Groups[0] != group || uuid.MatchString(e.Groups[0]) {
				t.Fatalf("embedded %s: sandbox %v oauth %v patients %d groups %v", d, e.Sandbox, e.OAuth, e.Patients, e.Groups)
			}
			ts, err := smartauth.NewTokenSource(*e.OAuth)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Token(context.Background()); err != nil {
				t.Fatalf("token from the %s sandbox: %v", d, err)
			}
		})
	}
}
