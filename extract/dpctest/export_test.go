package dpctest_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

var fileNamePattern = regexp.MustCompile(`/Data/[0-9a-f-]{36}-\d+\.(patient|coverage|explanationofbenefit|operationoutcome)\.ndjson$`)

func TestExportEndToEnd(t *testing.T) {
	srv := newServer(t, dpctest.WithBatchSize(3), dpctest.WithFileResources(7))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 8)
	jobURL := c.export(t, ro.groupID, "")
	m := c.wait(t, jobURL)

	if !m.RequiresAccessToken || !strings.HasSuffix(m.Request, "/Group/"+ro.groupID+"/$export") {
		t.Fatalf("manifest header fields: %+v", m)
	}
	if _, err := time.Parse(time.RFC3339Nano, m.TransactionTime); err != nil {
		t.Fatalf("transactionTime %q: %v", m.TransactionTime, err)
	}
	if len(m.Output) < 9 {
		t.Fatalf("3 batches × 3 types should give at least 9 output files, got %d", len(m.Output))
	}
	g := srv.Generator()
	tt, _ := time.Parse(time.RFC3339Nano, m.TransactionTime)
	want := map[string]int{}
	optedOut := 0
	for _, mbi := range ro.mbis {
		if suppressed(g, mbi) {
			optedOut++
			continue
		}
		for _, typ := range []string{"Patient", "Coverage", "ExplanationOfBenefit"} {
			_, n := g.AppendNDJSON(nil, mbi, typ, time.Time{}, tt)
			want[typ] += n
		}
	}
	got := map[string]int{}
	for _, f := range append(append([]outputFile{}, m.Output...), m.Error...) {
		if !fileNamePattern.MatchString(f.URL) {
			t.Errorf("file URL %q does not follow the DPC pattern", f.URL)
		}
		if f.Count <= 0 || f.Count > 7 {
			t.Errorf("%s: count %d, want 1..7 (new file every 7 resources)", f.URL, f.Count)
		}
		got[f.Type] += f.Count
		plain := c.api(t, "GET", f.URL, nil, nil)
		mustStatus(t, plain, http.StatusOK)
		if plain.header.Get("Content-Encoding") != "" {
			t.Errorf("without Accept-Encoding the body must be decoded")
		}
		sum := sha256.Sum256(plain.body)
		if hex.EncodeToString(sum[:]) != f.checksum() {
			t.Errorf("%s: checksum mismatch", f.URL)
		}
		if lines := bytes.Count(plain.body, []byte("\n")); lines != f.Count {
			t.Errorf("%s: %d lines, manifest count %d", f.URL, lines, f.Count)
		}
		// With Accept-Encoding: gzip the stored bytes come through; file_length is their size.
		req, _ := http.NewRequest("GET", f.URL, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		gzBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || strconv.Itoa(len(gzBody)) != f.length() {
			t.Errorf("%s: gzip pass-through: encoding %q, %d bytes, file_length %s", f.URL, resp.Header.Get("Content-Encoding"), len(gzBody), f.length())
		}
		zr, err := gzip.NewReader(bytes.NewReader(gzBody))
		if err != nil {
			t.Fatal(err)
		}
		dec, _ := io.ReadAll(zr)
		if !bytes.Equal(dec, plain.body) {
			t.Errorf("%s: gzip body decodes to different bytes", f.URL)
		}
		if f.Type == "OperationOutcome" {
			var oo map[string]any
			if err := json.Unmarshal(bytes.SplitN(plain.body, []byte("\n"), 2)[0], &oo); err != nil || oo["resourceType"] != "OperationOutcome" {
				t.Errorf("error file line is not an OperationOutcome: %s", plain.body)
			}
		}
	}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: manifest counts %d, generator has %d", typ, got[typ], n)
		}
	}
	if got["OperationOutcome"] != optedOut {
		t.Errorf("OperationOutcome count %d, opted-out patients %d", got["OperationOutcome"], optedOut)
	}
}
