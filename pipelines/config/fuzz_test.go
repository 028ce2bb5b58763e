package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

// FuzzParse: any config file is read or refused with config.ErrInvalid naming
// the file, never a panic; what is read validates or fails with ErrInvalid.
func FuzzParse(f *testing.F) {
	// SOURCE: pipelines/examples/*.yaml, the shipped example configs.
	paths, _ := filepath.Glob("../examples/*.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{"api: sandbox\n", "groups:\n  ids: [a, b]\n", "credentials: [1]\n", "quarantine:\n  max_lines: -1\n", ":\n", "\xff", "a: &x [*x]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fuzz.yaml", data, config.Default())
		if err != nil {
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q is not ErrInvalid naming the file", err)
			}
			return
		}
		if err := c.Validate(); err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("Validate: %v is not ErrInvalid", err)
		}
	})
}
