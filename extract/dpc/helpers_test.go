package dpc_test

import (
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

var testKey = sandboxtest.Key

// newSandbox is a provisioned sandbox (two groups, six patients) closed when the test ends.
func newSandbox(t *testing.T, opts ...dpctest.Option) (*dpctest.Server, *sandbox.Sandbox) {
	t.Helper()
	return sandboxtest.Provisioned(t, opts...)
}
