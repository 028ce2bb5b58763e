package schemas

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// latestProbe runs the generated DuckDB DDL's tables and *_latest views in SQLite (through
// python3's sqlite3, the SQL engine this machine has) with two deliveries of the same claims,
// and prints what the views return. Only the DuckDB-only statement forms are rewritten
// (COMMENT ON, CREATE OR REPLACE VIEW); the view bodies run as generated.
const latestProbe = `
import json, sqlite3, sys
db = sqlite3.connect(":memory:")
db.executescript(sys.stdin.read())
def ins(table, **row):
    db.execute("INSERT INTO %s (%s) VALUES (%s)" % (table, ",".join(row), ",".join("?" * len(row))), list(row.values()))
# claim A: delivered by job j1, then updated (newer last_updated) by job j2 with line 2 dropped
ins("eob", eob_id="A", claim_type="CARRIER", last_updated="2026-01-01T00:00:00Z", export_job_id="j1", ingested_at="2026-01-02T00:00:00Z", payment_amount="10.00")
ins("eob", eob_id="A", claim_type="CARRIER", last_updated="2026-01-05T00:00:00Z", export_job_id="j2", ingested_at="2026-01-06T00:00:00Z", payment_amount="12.50")
for j, n in (("j1", "1"), ("j1", "2"), ("j2", "1")):
    ins("eob_line", eob_id="A", line_number=n, export_job_id=j, paid_amount=j + "-" + n)
# claim B: the same delivery reached two groups (two jobs, same last_updated and ingested_at)
for j in ("j3", "j4"):
    ins("eob", eob_id="B", claim_type="DME", last_updated="2026-01-03T00:00:00Z", export_job_id=j, ingested_at="2026-01-04T00:00:00Z")
    ins("eob_line", eob_id="B", line_number="1", export_job_id=j, paid_amount=j)
# claim C: no last_updated at all in one delivery (NULLS LAST: the dated one wins)
ins("eob", eob_id="C", claim_type="HHA", last_updated=None, export_job_id="j5", ingested_at="2026-01-09T00:00:00Z")
ins("eob", eob_id="C", claim_type="HHA", last_updated="2026-01-02T00:00:00Z", export_job_id="j6", ingested_at="2026-01-03T00:00:00Z")
out = {
  "eob": db.execute("SELECT eob_id, export_job_id, payment_amount FROM eob_latest ORDER BY eob_id").fetchall(),
  "eob_line": db.execute("SELECT eob_id, line_number, paid_amount FROM eob_line_latest ORDER BY eob_id, line_number").fetchall(),
}
print(json.dumps(out))
`

func TestLatestViewsKeepOneDeliveryPerKey(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 (with its sqlite3 module) is needed to run the latest views")
	}
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	ddl, err := DDL(DuckDB, defs, DDLOptions{Tables: []string{TableEOBLine, TableEOB}})
	if err != nil {
		t.Fatal(err)
	}
	sql := regexp.MustCompile(`(?m)^COMMENT ON .*$`).ReplaceAllString(ddl, "")
	sql = strings.ReplaceAll(sql, "CREATE OR REPLACE VIEW", "CREATE VIEW")
	cmd := exec.Command(py, "-c", latestProbe)
	cmd.Stdin = strings.NewReader(sql)
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("running the views: %v\n%s\nSQL:\n%s", err, stderr, sql)
	}
	var got struct{ EOB, EOBLine [][]any }
	if err := json.Unmarshal(b, &struct {
		EOB     *[][]any `json:"eob"`
		EOBLine *[][]any `json:"eob_line"`
	}{&got.EOB, &got.EOBLine}); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	want := `[["A","j2",12.5],["B","j4",null],["C","j6",null]]`
	if s, _ := json.Marshal(got.EOB); string(s) != want {
		t.Errorf("eob_latest = %s, want %s (newest update, ties by job id, undated last)", s, want)
	}
	wantLines := `[["A",1,"j2-1"],["B",1,"j4"]]` // SQLite gives DECIMAL and INTEGER columns numeric affinity
	if s, _ := json.Marshal(got.EOBLine); string(s) != wantLines {
		t.Errorf("eob_line_latest = %s, want %s (only the chosen delivery's lines; the dropped line is gone)", s, wantLines)
	}
}
