package dpctest_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

func ExampleNewServer() {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(2048))
	defer srv.Close()

	// The portal stands in for dpc.cms.gov: it creates the organization a user starts from.
	resp, err := http.Post(srv.URL+"/portal/Organization", "application/json", strings.NewReader(`{"name":"Example Clinic"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.HasSuffix(srv.BaseURL(), "/api/v1"))

	// Everything under the API base needs a bearer token.
	resp, err = http.Get(srv.BaseURL() + "/Group")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 201 true
	// 401
}

func ExampleParseFaults() {
	f, err := dpctest.ParseFaults("429@/Data/:count=2:retry-after=5s;reset@/Data/:p=0.1")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range f.Rules {
		fmt.Printf("%s on %s: count=%d p=%.1f retry-after=%s\n", r.Kind, r.Path, r.Count, r.Probability, r.RetryAfter)
	}
	// Output:
	// 429 on /Data/: count=2 p=0.0 retry-after=5s
	// reset on /Data/: count=0 p=0.1 retry-after=0s
}
