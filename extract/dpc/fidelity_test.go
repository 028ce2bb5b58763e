package dpc_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
)

func TestMetadataAndVersion(t *testing.T) {
	srv, _ := newSandbox(t, dpctest.WithVersion("7.8.9"))
	c := dpc.New(srv.BaseURL(), nil) // both are public: no credentials
	cs, err := c.Metadata(context.Background())
	if err != nil || cs.FHIRVersion != "3.0.2" || cs.Software.Name != "Data @ Point of Care API" || cs.Version != "7.8.9" {
		t.Fatalf("Metadata = %+v, %v", cs, err)
	}
	v, err := c.Version(context.Background())
	if err != nil || v != "7.8.9" {
		t.Fatalf("Version = %q, %v", v, err)
	}
}

func TestEverything(t *testing.T) {
	srv, sb := newSandbox(t, dpctest.WithSuppressedShare(0.5))
	c := sb.Client()
	ctx := context.Background()
	gen := srv.Generator()
	served, refused := 0, 0
	for i, mbi := range sb.MBIs {
		npi := sb.NPIs[i%len(sb.NPIs)]
		att := c.Attestation(sb.OrgID, sb.PractitionerIDs[npi])
		res, err := c.Everything(ctx, sb.PatientIDs[mbi], att, time.Time{})
		if sup, ok := gen.Suppressed(mbi); ok {
			if !errors.Is(err, dpc.ErrSuppressed) || errors.Is(err, extract.ErrAuth) || !strings.Contains(err.Error(), sup.Text) {
				t.Fatalf("%s: err %v, want ErrSuppressed with %q", mbi, err, sup.Text)
			}
			refused++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, r := range res {
			var h struct{ ResourceType string }
			_ = json.Unmarshal(r, &h)
			types[h.ResourceType]++
		}
		if types["Patient"] != 1 || types["Coverage"] == 0 {
			t.Fatalf("%s: %v", mbi, types)
		}
		served++
	}
	if served == 0 || refused == 0 {
		t.Fatalf("%d served, %d refused: want both", served, refused)
	}
}

// The 403 DPC answers a second group with is a conflict, never an auth failure.
func TestDuplicateGroupIsNotAuth(t *testing.T) {
	e := &dpc.APIError{Method: "POST", Path: "/api/v1/Group", Status: http.StatusForbidden,
		Message: "Could not create a roster for this provider as they already have one.  Try updating it instead, or first deleting it."}
	if !errors.Is(e, dpc.ErrConflict) || errors.Is(e, extract.ErrAuth) {
		t.Fatalf("duplicate group: conflict %v, auth %v", errors.Is(e, dpc.ErrConflict), errors.Is(e, extract.ErrAuth))
	}
	other := &dpc.APIError{Status: http.StatusForbidden, Message: "IP address not allowed"}
	if !errors.Is(other, extract.ErrAuth) {
		t.Fatal("another 403 must stay an auth failure")
	}
	lim := &dpc.APIError{Status: http.StatusBadRequest, Message: "Roster limit reached"}
	if !errors.Is(lim, dpc.ErrRosterLimit) || !errors.Is(lim, dpc.ErrInvalid) {
		t.Fatal("roster limit sentinel")
	}
}

// A PKCS#1 public key file is uploaded as PKIX, the only form DPC's signature check verifies.
func TestUploadKeyPKCS1AsSPKI(t *testing.T) {
	_, sb := newSandbox(t)
	k := testKey()
	up, err := dpc.NewKeyUpload(k)
	if err != nil {
		t.Fatal(err)
	}
	up.Key = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
	key, err := sb.Client().UploadKey(context.Background(), "pkcs1", up)
	if err != nil || !strings.Contains(key.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("UploadKey(PKCS#1) = %+v, %v", key, err)
	}
}
