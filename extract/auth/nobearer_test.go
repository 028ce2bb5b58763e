package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/dpcetl/dpcetl/extract/auth"
)

type everyOrigin struct{}

func (everyOrigin) Token(context.Context) (string, error) { return "tok-0123456789", nil }
func (everyOrigin) Invalidate(string)                     {}
func (everyOrigin) Authorized(*url.URL) bool              { return true }

// WithoutBearer keeps the bearer off a request to an authorized origin, and a
// header someone else set is removed too.
func TestWithoutBearer(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: auth.NewTransport(nil, everyOrigin{}, nil, nil)}
	for _, ctx := range []context.Context{context.Background(), auth.WithoutBearer(context.Background())} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		req.Header.Set("Authorization", "Bearer someone-elses")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(got) != 2 || got[0] != "Bearer tok-0123456789" || got[1] != "" {
		t.Fatalf("Authorization seen: %q", got)
	}
}
