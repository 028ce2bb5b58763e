package dpc_test

import (
	"context"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := dpc.GenerateKey(1024)
	if err != nil {
		panic(err)
	}
	return k
})

// newSandbox is a provisioned sandbox (two groups, six patients) closed when the test ends.
func newSandbox(t *testing.T, opts ...dpctest.Option) (*dpctest.Server, *sandbox.Sandbox) {
	t.Helper()
	srv := dpctest.NewServer(append([]dpctest.Option{dpctest.WithMinKeyBits(1024)}, opts...)...)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Provision(ctx, srv.URL, sandbox.Options{Key: testKey(), Practitioners: 2, Patients: 6})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return srv, sb
}
