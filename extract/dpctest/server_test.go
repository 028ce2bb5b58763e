package dpctest_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, tc := range map[string]struct {
		addr string
		opts []dpctest.Option
		want string
	}{
		"invalid port":  {"127.0.0.1:99999", nil, "cannot listen on 127.0.0.1:99999"},
		"port in use":   {busy.Addr().String(), nil, "cannot listen on " + busy.Addr().String()},
		"fhir version":  {"127.0.0.1:0", []dpctest.Option{dpctest.WithFHIRVersion("DSTU2")}, "FHIR version"},
		"zero duration": {"127.0.0.1:0", []dpctest.Option{dpctest.WithJobDuration(0)}, "job duration"},
	} {
		t.Run(name, func(t *testing.T) {
			srv, err := dpctest.Listen(tc.addr, tc.opts...)
			if err == nil {
				srv.Close()
				t.Fatal("Listen succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestR4AndDataDir(t *testing.T) {
	dir := t.TempDir()
	srv := newServer(t, dpctest.WithFHIRVersion("R4"), dpctest.WithDataDir(dir))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3)
	m := c.wait(t, c.export(t, ro.groupID, "?_type=Coverage"))
	if len(m.Output) == 0 || m.Output[0].Type != "Coverage" {
		t.Fatalf("outputs %+v", m.Output)
	}
	body := string(c.api(t, "GET", m.Output[0].URL, nil, nil).body)
	if !strings.Contains(body, `"resourceType":"Coverage"`) {
		t.Fatalf("R4 export body %.200s", body)
	}
	srv.Close()
	// Files in a caller's data dir outlive the server.
	name := m.Output[0].URL[strings.LastIndex(m.Output[0].URL, "/")+1:]
	matches, _ := filepath.Glob(filepath.Join(dir, "*", name+".gz"))
	if len(matches) != 1 {
		t.Fatalf("stored file %s not found in %s", name, dir)
	}
	if _, err := os.Stat(matches[0]); err != nil {
		t.Fatal(err)
	}
}

func TestSeededOrganization(t *testing.T) {
	srv := newServer(t, dpctest.WithSeedOrganization(dpctest.SeedOrganization{Name: "Seeded", Patients: 25, Practitioners: 3}),
		dpctest.WithJobDuration(50*time.Millisecond))
	sd := srv.Seeded()
	if sd == nil || len(sd.Groups) != 3 || sd.Patients != 25 || sd.Groups[0].Patients+sd.Groups[1].Patients+sd.Groups[2].Patients != 25 {
		t.Fatalf("seeded %+v", sd)
	}
	creds, err := srv.NewCredentials(sd.OrgID, testKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.NewCredentials(sd.OrgID, 512); err == nil {
		t.Fatal("a key below the minimum size was accepted")
	}
	c := &client{srv: srv, orgID: sd.OrgID, key: creds.PrivateKey, kid: creds.KeyID, clientToken: creds.ClientToken}
	c.token = c.accessToken(t)
	r := c.api(t, "GET", "/Patient?_count=0", nil, nil)
	if r.json(t)["total"] != float64(25) {
		t.Fatalf("patients %s", r.body)
	}
	r = c.api(t, "GET", "/Group?characteristic-value=attributed-to$"+sd.Groups[1].NPI, nil, nil)
	if !strings.Contains(string(r.body), sd.Groups[1].GroupID) {
		t.Fatalf("group search %s", r.body)
	}
	m := c.wait(t, c.export(t, sd.Groups[0].GroupID, "?_type=Patient"))
	n := 0
	for _, f := range append(m.Output, m.Error...) {
		n += f.Count
	}
	if n != sd.Groups[0].Patients {
		t.Fatalf("exported %d patients, group has %d", n, sd.Groups[0].Patients)
	}
}
