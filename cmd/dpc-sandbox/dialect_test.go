package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func readCred(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func call(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// exportOnce kicks off a Patient export with tok, polls it to completion and returns
// the manifest.
func exportOnce(t *testing.T, base, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/Patient/$export", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	resp, b := call(t, req)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("kick-off %d %s", resp.StatusCode, b)
	}
	status := resp.Header.Get("Content-Location")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", status, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, b := call(t, req)
		switch resp.StatusCode {
		case http.StatusOK:
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			return m
		case http.StatusAccepted:
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("poll %d %s", resp.StatusCode, b)
		}
	}
	t.Fatal("job did not complete")
	return nil
}

func TestDialectBCDACredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	_, stop := startInProcess(t, "--dialect", "bcda", "--patients", "20", "--job-duration", "300ms", "--credentials-dir", dir)
	defer stop()
	if fi, err := os.Stat(filepath.Join(dir, "client_secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("client_secret: %v %v", fi, err)
	}
	req, _ := http.NewRequest("POST", readCred(t, dir, "token_url"), nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(readCred(t, dir, "client_id")+":"+readCred(t, dir, "client_secret"))))
	resp, b := call(t, req)
	var tok map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("token %d %s", resp.StatusCode, b)
	}
	m := exportOnce(t, readCred(t, dir, "base_url"), tok["access_token"].(string))
	if outs, _ := m["output"].([]any); len(outs) == 0 || m["JobID"] == nil {
		t.Fatalf("manifest %v", m)
	}
}

func TestDialectSMARTCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	root, stop := startInProcess(t, "--dialect", "smart", "--patients", "20", "--job-duration", "300ms", "--credentials-dir", dir, "--min-key-bits", "1024")
	defer stop()
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(readCred(t, dir, "private.pem")))
	if err != nil {
		t.Fatal(err)
	}
	id, tokenURL := readCred(t, dir, "client_id"), readCred(t, dir, "token_url")
	if !strings.HasPrefix(tokenURL, root) {
		t.Fatalf("token URL %s, root %s", tokenURL, root)
	}
	tk := jwt.NewWithClaims(jwt.SigningMethodRS384, jwt.MapClaims{"iss": id, "sub": id, "aud": tokenURL, "jti": "1", "exp": time.Now().Add(time.Minute).Unix()})
	tk.Header["kid"] = readCred(t, dir, "kid")
	a, err := tk.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, b := call(t, req)
	var tok map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("token %d %s", resp.StatusCode, b)
	}
	m := exportOnce(t, readCred(t, dir, "base_url"), tok["access_token"].(string))
	if outs, _ := m["output"].([]any); len(outs) == 0 {
		t.Fatalf("manifest %v", m)
	}
	if _, ok := m["deleted"]; !ok {
		t.Fatalf("SMART manifest has no deleted[]: %v", m)
	}
}
