package config_test

import (
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

// TestMoneyPolicyKey: money_policy takes strict, round_half_even or exact; anything else names the key.
func TestMoneyPolicyKey(t *testing.T) {
	for _, p := range []string{"strict", "round_half_even", "exact", "rounding"} {
		c := config.Default()
		c.API = "embedded"
		c.MoneyPolicy = p
		err := c.Validate()
		if p == "rounding" {
			if err == nil || !strings.Contains(err.Error(), "money_policy") {
				t.Errorf("%s: %v", p, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestMoneyPolicyBySource: unset, CMS sources keep strict (more than cents is a broken claim)
// and a generic SMART server gets exact (its float-computed amounts are kept digit for digit);
// a configured policy always wins.
func TestMoneyPolicyBySource(t *testing.T) {
	for _, tc := range []struct{ source, set, want string }{
		{"", "", "strict"}, {"dpc", "", "strict"}, {"bcda", "", "strict"}, {"ab2d", "", "strict"},
		{"smart", "", "exact"}, {"smart", "round_half_even", "round_half_even"}, {"dpc", "exact", "exact"},
	} {
		c := config.Default()
		c.Source, c.MoneyPolicy = tc.source, tc.set
		if got := c.Resolved().MoneyPolicy; got != tc.want {
			t.Errorf("source %q money_policy %q resolves to %q, want %q", tc.source, tc.set, got, tc.want)
		}
	}
}
