package sandbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

func ExampleProvision() {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024))
	defer srv.Close()
	ctx := context.Background()
	sb, err := sandbox.Provision(ctx, srv.URL, sandbox.Options{KeyBits: 1024, Practitioners: 2, Patients: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := sb.Client()
	for _, npi := range sb.NPIs {
		gs, _ := c.FindGroupsByNPI(ctx, npi)
		fmt.Println(len(gs), "group with", len(gs[0].Member), "members, active:", gs[0].Member[0].Active(time.Now()))
	}
	// Output:
	// 1 group with 2 members, active: true
	// 1 group with 2 members, active: true
}
