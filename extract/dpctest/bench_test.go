package dpctest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// BenchmarkExportJob measures how fast a job generates, gzips and checksums its files:
// 500 patients, every resource type; bytes are the decoded NDJSON.
func BenchmarkExportJob(b *testing.B) {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithJobDuration(time.Millisecond),
		dpctest.WithSeedOrganization(dpctest.SeedOrganization{Patients: 500, Practitioners: 1}))
	defer srv.Close()
	sd := srv.Seeded()
	creds, err := srv.NewCredentials(sd.OrgID, 1024)
	if err != nil {
		b.Fatal(err)
	}
	c := &client{srv: srv, orgID: sd.OrgID, key: creds.PrivateKey, kid: creds.KeyID, clientToken: creds.ClientToken}
	c.token = c.accessToken(b)
	var decoded int64
	b.ResetTimer()
	for b.Loop() {
		m := c.wait(b, c.export(b, sd.Groups[0].GroupID, ""))
		decoded = 0
		for _, f := range append(m.Output, m.Error...) {
			r := c.api(b, "HEAD", f.URL, nil, map[string]string{"Accept-Encoding": "identity"})
			n, _ := strconv.ParseInt(r.header.Get("Content-Length"), 10, 64)
			decoded += n
		}
	}
	b.SetBytes(decoded)
}
