package runner_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/pipelines/cli"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// truth is what an independent client gets from the same server for the same kick-off:
// resource type → lines, per manifest list, with the manifest's count checked where given;
// under "files", manifest list → files; under "deletes", resource type → DELETE entries.
type truth map[string]map[string]int

func independentExport(t *testing.T, x *dialect, kickoff string) truth {
	t.Helper()
	ts, err := smartauth.NewTokenSource(x.oauth)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: ts.Transport(nil), Timeout: time.Minute}
	req, _ := http.NewRequest(http.MethodGet, kickoff, nil)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("independent kick-off %s: %d", kickoff, resp.StatusCode)
	}
	status := resp.Header.Get("Content-Location")
	var m map[string][]struct {
		Type  string `json:"type"`
		URL   string `json:"url"`
		Count *int   `json:"count"`
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("independent export did not complete")
		}
		resp, err := hc.Get(status)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			m = map[string][]struct {
				Type  string `json:"type"`
				URL   string `json:"url"`
				Count *int   `json:"count"`
			}{}
			for _, list := range []string{"output", "error", "deleted"} {
				if v, ok := raw[list]; ok {
					e := m[list]
					if err := json.Unmarshal(v, &e); err != nil {
						t.Fatal(err)
					}
					m[list] = e
				}
			}
			break
		}
	}
	out := truth{"files": {}, "deletes": {}}
	for list, files := range m {
		out[list] = map[string]int{}
		for _, f := range files {
			resp, err := hc.Get(f.URL)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				n++
				if list == "deleted" { // count the DELETE entries of each Bundle by resource type
					var b struct {
						Entry []struct{ Request struct{ Method, URL string } }
					}
					if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
						t.Fatal(err)
					}
					for _, e := range b.Entry {
						if typ, _, ok := strings.Cut(e.Request.URL, "/"); ok && e.Request.Method == "DELETE" {
							out["deletes"][typ]++
						}
					}
				}
			}
			resp.Body.Close()
			if f.Count != nil && *f.Count != n {
				t.Fatalf("%s: manifest count %d, %d lines", f.URL, *f.Count, n)
			}
			out[list][f.Type] += n
			out["files"][list]++
		}
	}
	return out
}

// rowsOf counts the Parquet rows of a table among one run's outputs, read back with the
// independent reader.
func rowsOf(t *testing.T, sum *runner.Summary, table string) int {
	t.Helper()
	n := 0
	for _, o := range sum.Outputs {
		p := strings.TrimPrefix(o, "file://")
		if strings.HasPrefix(p, "/") && strings.Contains(p, "/"+table+"/export_date=") {
			n += len(readParquet(t, p))
		}
	}
	return n
}

// TestSourcesEndToEnd is issue 15's "done when": `dpcetl run` with each README source
// config completes against the sandbox speaking that API, the Parquet read back holds
// exactly what an independent client counts in the same export's files, the summary says
// how each file was verified, and non-UUID group and key ids are accepted.
func TestSourcesEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		d        dpctest.Dialect
		opts     []dpctest.Option
		group    string    // the summary's group: a non-UUID FHIR id, or the level's key
		kickoff  string    // the same kick-off, for the independent client
		verified [2]string // how output and error files are verified
	}{
		// BCDA's manifest promises nothing about a file: gzip and JSON per line only.
		{dpctest.DialectBCDA, nil, "all", "/Group/all/$export?_type=Patient,Coverage,ExplanationOfBenefit", [2]string{"structure", "structure"}},
		// AB2D sends its own checksum extension; it answers polls closer than Retry-After
		// with 429, which dpcetl must wait out, not fail on.
		{dpctest.DialectAB2D, []dpctest.Option{dpctest.WithJobRetryAfter(time.Second)}, "_patient", "/Patient/$export?_type=ExplanationOfBenefit", [2]string{"checksum", "checksum"}},
		// SMART gives count only; an error file's count is not binding (recorded if it differs).
		{dpctest.DialectSMART, nil, "practice-1", "/Group/practice-1/$export?_type=Patient,Coverage,ExplanationOfBenefit", [2]string{"count", "structure"}},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			x := newDialect(t, tc.d, tc.opts...)
			args := append([]string{"run", "--config", readmeConfig(t, tc.d.String())}, x.flags...)
			code, sum, stderr := dpcetl(t, x.srv.Clock().Now, args...)
			if code != cli.ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if len(sum.Groups) != 1 || sum.Groups[0].Group != tc.group || sum.Groups[0].Status != "ok" {
				t.Fatalf("groups %+v, want %s ok", sum.Groups, tc.group)
			}
			want := independentExport(t, x, x.srv.DialectBaseURL()+tc.kickoff)
			for table, typ := range map[string]string{"patient": "Patient", "coverage": "Coverage", "eob": "ExplanationOfBenefit"} {
				if got := rowsOf(t, sum, table); got != want["output"][typ] || int64(got) != sum.Rows[table] {
					t.Errorf("%s: %d Parquet rows, summary %d, the export has %d %s", table, got, sum.Rows[table], want["output"][typ], typ)
				}
			}
			if got := rowsOf(t, sum, "export_error"); got != want["error"]["OperationOutcome"] || got == 0 {
				t.Errorf("export_error: %d rows, the export's error[] has %d OperationOutcomes", got, want["error"]["OperationOutcome"])
			}
			if want["output"]["ExplanationOfBenefit"] == 0 {
				t.Fatalf("empty export: %v", want)
			}
			// Every downloaded file is accounted for by how it was verified; nothing that
			// was only count- or structure-checked is called checksum-verified.
			wantBy := map[string]int{}
			wantBy[tc.verified[0]] += want["files"]["output"]
			wantBy[tc.verified[1]] += want["files"]["error"]
			if !maps.Equal(sum.VerifiedBy, wantBy) || want["files"]["output"]+want["files"]["error"] != sum.Files {
				t.Errorf("verified_by %v over %d files; the export has %v files, want %v", sum.VerifiedBy, sum.Files, want["files"], wantBy)
			}
		})
	}
}

// The DPC source through its README config: the same checks, against the manifest's counts.
func TestSourcesEndToEndDPC(t *testing.T) {
	f := newFixture(t, 12)
	args := []string{"run", "--config", readmeConfig(t, "dpc"), "--api", f.srv.BaseURL(),
		"--client-token-file", f.cfg.Credentials.ClientTokenFile, "--private-key-file", f.cfg.Credentials.PrivateKeyFile,
		"--key-id", f.cfg.Credentials.KeyID, "--out", f.cfg.Destination, "--state-dir", f.cfg.StateDir, "--poll-interval", "20ms"}
	code, sum, stderr := dpcetl(t, f.srv.Clock().Now, args...)
	if code != cli.ExitOK || len(sum.Groups) != 1 {
		t.Fatalf("exit %d, groups %+v\n%s", code, sum.Groups, stderr)
	}
	g := sum.Groups[0]
	for table, typ := range map[string]string{"patient": "Patient", "coverage": "Coverage", "eob": "ExplanationOfBenefit", "export_error": "OperationOutcome"} {
		if got := rowsOf(t, sum, table); got != g.Resources[typ] || got == 0 {
			t.Errorf("%s: %d Parquet rows, the manifest counts %d %s", table, got, g.Resources[typ], typ)
		}
	}
	if sum.VerifiedBy["checksum"] != sum.Files || len(sum.VerifiedBy) != 1 {
		t.Errorf("verified_by %v, want all %d files by checksum", sum.VerifiedBy, sum.Files)
	}
}

// TestSMARTDeletedAndErrorsLand: an incremental SMART export (with _since) whose manifest has
// deleted[] and error[] entries lands both in tables, and its watermark moves to the
// job's transactionTime only with them landed.
func TestSMARTDeletedAndErrorsLand(t *testing.T) {
	x := newDialect(t, dpctest.DialectSMART)
	args := append([]string{"run", "--config", readmeConfig(t, "smart")}, x.flags...)
	code, first, stderr := dpcetl(t, x.srv.Clock().Now, args...)
	if code != cli.ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	x.srv.Clock().Advance(time.Minute)
	code, second, stderr := dpcetl(t, x.srv.Clock().Now, args...)
	if code != cli.ExitOK {
		t.Fatalf("incremental run: exit %d\n%s", code, stderr)
	}
	g := second.Groups[0]
	if g.Since != first.Groups[0].TransactionTime || g.Watermark != g.TransactionTime {
		t.Fatalf("incremental run: since %q (first tx %q), watermark %q, tx %q", g.Since, first.Groups[0].TransactionTime, g.Watermark, g.TransactionTime)
	}
	since, err := time.Parse(time.RFC3339Nano, g.Since)
	if err != nil {
		t.Fatal(err)
	}
	want := independentExport(t, x, x.srv.DialectBaseURL()+"/Group/practice-1/$export?_type=Patient,Coverage,ExplanationOfBenefit&_since="+url.QueryEscape(since.Format(time.RFC3339Nano)))
	dels := 0
	for typ, n := range want["deletes"] {
		dels += n
		if second.Deleted[typ] != int64(n) {
			t.Errorf("summary deleted %v, the export's deleted[] has %v", second.Deleted, want["deletes"])
		}
	}
	if dels == 0 || want["error"]["OperationOutcome"] == 0 {
		t.Fatalf("the sandbox's incremental export has %d deletions and %d errors; the test needs both", dels, want["error"]["OperationOutcome"])
	}
	// One deleted_resource row per DELETE entry of the deleted[] Bundles.
	if got := rowsOf(t, second, "deleted_resource"); got != dels {
		t.Errorf("deleted_resource: %d rows, the export deleted %d resources", got, dels)
	}
	if got := rowsOf(t, second, "export_error"); got != want["error"]["OperationOutcome"] {
		t.Errorf("export_error: %d rows, the export's error[] has %d", got, want["error"]["OperationOutcome"])
	}
}
