package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// dialectOptions selects the dialect and then re-applies the flags the user set, so
// that they win over the dialect's defaults (R4, token lifetime, Retry-After, opt-outs only).
func dialectOptions(d dpctest.Dialect, set map[string]bool, fhirVersion string, tokenLifetime, retryAfter time.Duration, suppressed float64) []dpctest.Option {
	if d == dpctest.DialectDPC {
		return nil
	}
	opts := []dpctest.Option{dpctest.WithDialect(d)}
	if set["fhir-version"] {
		opts = append(opts, dpctest.WithFHIRVersion(fhirVersion))
	}
	if set["token-lifetime"] {
		opts = append(opts, dpctest.WithTokenLifetime(tokenLifetime))
	}
	if set["job-retry-after"] {
		opts = append(opts, dpctest.WithJobRetryAfter(retryAfter))
	}
	if set["suppressed-share"] {
		opts = append(opts, dpctest.WithSuppressedShare(suppressed))
	}
	return opts
}

func printDialect(w io.Writer, srv *dpctest.Server, d dpctest.Dialect, credsDir string) {
	fmt.Fprintf(w, "dialect %s: FHIR base URL %s\ntoken URL %s\ngroups %s\n", d, srv.DialectBaseURL(),
		srv.DialectTokenURL(), strings.Join(srv.DialectGroups(), ", "))
	if credsDir != "" {
		fmt.Fprintf(w, "%s credentials written to %s\n", d, credsDir)
	}
	if d == dpctest.DialectSMART {
		fmt.Fprintf(w, "register a client: curl -s -X POST %s/portal/Client --data-binary @jwks.json   # → {\"client_id\":...}\n", srv.URL)
	} else {
		fmt.Fprintln(w, "client id and secret: use --credentials-dir (client_id, client_secret)")
	}
}

// writeDialectCredentials writes a ready client of the dialect: client_id and
// client_secret (BCDA, AB2D), or client_id, kid and private.pem of a registered RSA key
// (SMART), plus base_url and token_url.
func writeDialectCredentials(srv *dpctest.Server, d dpctest.Dialect, dir string, bits int) error {
	files := map[string][]byte{
		"base_url":  []byte(srv.DialectBaseURL() + "\n"),
		"token_url": []byte(srv.DialectTokenURL() + "\n"),
	}
	secret := map[string]bool{}
	if d == dpctest.DialectSMART {
		k, err := rsa.GenerateKey(rand.Reader, max(bits, 2048))
		if err != nil {
			return err
		}
		enc := base64.RawURLEncoding
		jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "kid": "sandbox-key-1",
			"n": enc.EncodeToString(k.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(k.E)).Bytes())}}})
		if err != nil {
			return err
		}
		id, err := srv.RegisterJWKS(jwks)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		files["client_id"] = []byte(id + "\n")
		files["kid"] = []byte("sandbox-key-1\n")
		files["jwks.json"] = append(jwks, '\n')
		files["private.pem"] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		secret["private.pem"] = true
	} else {
		id, sec := srv.NewSecretClient()
		files["client_id"] = []byte(id + "\n")
		files["client_secret"] = []byte(sec + "\n")
		secret["client_secret"] = true
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if secret[name] {
			mode = 0o600
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
	return nil
}
