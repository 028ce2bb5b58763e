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
