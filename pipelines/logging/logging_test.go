package logging_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Secrets shaped like the real ones (the macaroon prefix, a three-part JWT, a PEM key).
const (
	clientToken = "W3sidiI6MiwibCI6Imh0dHBzOi8vZHBjLmNtcy5nb3YvYXBpIiwiaSI6IjRmMDAiLCJjIjpbeyJpIjoiZHBjX21hY2Fyb29uX3ZlcnNpb24gPSAyIn1dfV0="
	accessToken = "eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJvcmcifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	opaque      = "opaque-access-token-0123456789"
)

func pemKey(t *testing.T) string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func TestRedactorStrings(t *testing.T) {
	key := pemKey(t)
	r := logging.NewRedactor(opaque)
	tests := []struct{ name, in, secret string }{
		{"macaroon", "client token " + clientToken + " refused", clientToken},
		{"jwt", "assertion=" + accessToken, accessToken},
		{"pem", "key:\n" + key + "\nend", "MII"},
		{"bearer", "Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"},
		{"query", "GET /Data/1.ndjson?token=s3cr3tvalue&x=1", "s3cr3tvalue"},
		{"form", `{"access_token":"zzzzzzzzzzzz","expires_in":300}`, "zzzzzzzzzzzz"},
		{"registered", "token " + opaque + " expired", opaque},
		{"echoed token parameter", "server said: bad request (token=s3cr3tvalue)", "s3cr3tvalue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if strings.Contains(got, tt.secret) {
				t.Fatalf("secret survived: %q", got)
			}
			if !strings.Contains(got, logging.Mask) {
				t.Fatalf("no mask in %q", got)
			}
		})
	}
	// Every access token issued is registered (auth.WithOnToken): an echo of a
	// random, shapeless token is masked wherever it appears.
	issued := "f3a9c2d1e8b7a6c5d4e3f2a1b0c9d8e7"
	r.Add(issued)
	if got := r.String("job failed for " + issued + "."); strings.Contains(got, issued) {
		t.Fatalf("registered access token survived: %q", got)
	}
	if got := r.String("rows=42 table=eob"); got != "rows=42 table=eob" {
		t.Fatalf("ordinary text changed: %q", got)
	}
}

func TestLoggerRedactsJSONAndText(t *testing.T) {
	key := pemKey(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			r := logging.NewRedactor(opaque)
			log := logging.New(&buf, logging.Options{Format: format, Level: "debug", Redactor: r})
			log.Info("got token "+accessToken, "client_token", "anything", "token", opaque,
				"err", errors.New("401 for "+clientToken), "pem", key, "note", "hdr Bearer "+opaque,
				slog.Group("req", "url", "https://x/Data/a?token="+opaque), "rows", 7)
			out := buf.String()
			for _, s := range []string{accessToken, clientToken, opaque, "BEGIN RSA", "anything"} {
				if strings.Contains(out, s) {
					t.Fatalf("secret %q in log: %s", s[:10], out)
				}
			}
			if !strings.Contains(out, "rows") || !strings.Contains(out, "7") {
				t.Fatalf("ordinary attribute lost: %s", out)
			}
			if format == "json" {
				var m map[string]any
				if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &m); err != nil {
					t.Fatalf("not one JSON line: %v: %s", err, out)
				}
				if m["level"] != "INFO" {
					t.Fatalf("level = %v", m["level"])
				}
			}
		})
	}
}

func TestAutoFormat(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf, logging.Options{Format: "auto", IsTerminal: false}).Info("hi")
	if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Fatalf("auto off a terminal is not JSON: %s", buf.String())
	}
	buf.Reset()
	logging.New(&buf, logging.Options{Format: "auto", IsTerminal: true}).Info("hi")
	if json.Valid(bytes.TrimSpace(buf.Bytes())) || !strings.Contains(buf.String(), "msg=hi") {
		t.Fatalf("auto on a terminal is not text: %s", buf.String())
	}
}

func TestWriterRedacts(t *testing.T) {
	var buf bytes.Buffer
	w := logging.NewRedactor(opaque).Writer(&buf)
	fmt.Fprintf(w, "error: token %s rejected\n", opaque)
	if strings.Contains(buf.String(), opaque) || !strings.Contains(buf.String(), "rejected") {
		t.Fatalf("got %q", buf.String())
	}
}

func ExampleRedactor() {
	r := logging.NewRedactor()
	fmt.Fprintln(os.Stdout, r.String("Authorization: Bearer eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJvcmcifQ.c2ln"))
	// Output: Authorization: Bearer [REDACTED]
}

func TestMapsAndListsReadableAndRedacted(t *testing.T) {
	const secret = "s3cr3t-value-never-logged"
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		red := logging.NewRedactor(secret)
		log := logging.New(&buf, logging.Options{Format: format, Redactor: red})
		log.Info("group committed",
			"rows", map[string]int64{"patient": 5, "eob": 123},
			"files", []string{"a.ndjson", "b-" + secret + ".ndjson"})
		out := buf.String()
		if strings.Contains(out, secret) {
			t.Fatalf("%s: secret inside a list reached the log: %s", format, out)
		}
		if strings.Contains(out, "map[") {
			t.Fatalf("%s: map printed in Go syntax: %s", format, out)
		}
		switch format {
		case "text":
			if !strings.Contains(out, `rows="{\"eob\":123,\"patient\":5}"`) && !strings.Contains(out, `rows={"eob":123,"patient":5}`) {
				t.Fatalf("text: rows not rendered as sorted JSON: %s", out)
			}
		case "json":
			var rec struct {
				Rows  map[string]int64 `json:"rows"`
				Files []string         `json:"files"`
			}
			if err := json.Unmarshal([]byte(out), &rec); err != nil {
				t.Fatalf("json: line is not one object: %v: %s", err, out)
			}
			if rec.Rows["eob"] != 123 || len(rec.Files) != 2 || rec.Files[1] != "b-"+logging.Mask+".ndjson" {
				t.Fatalf("json: nested values lost or unredacted: %+v", rec)
			}
		}
	}
}
