package sandboxtest

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

// Key is an RSA key generated once per test binary: generation would otherwise dominate test time.
var Key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := dpc.GenerateKey(KeyBits)
	if err != nil {
		panic(err)
	}
	return k
})

// Provisioned starts a sandbox and provisions it through the HTTP API as a user would (two
// practitioners, six patients, a group each), on the sandbox's clock. It is closed when the test ends.
func Provisioned(t testing.TB, opts ...dpctest.Option) (*dpctest.Server, *sandbox.Sandbox) {
	t.Helper()
	srv := dpctest.NewServer(append([]dpctest.Option{dpctest.WithMinKeyBits(KeyBits)}, opts...)...)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Provision(ctx, srv.URL, sandbox.Options{Key: Key(), Practitioners: 2, Patients: 6, Now: srv.Clock().Now})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return srv, sb
}
