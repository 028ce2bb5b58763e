package export_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
)

func TestKickOffURLLevels(t *testing.T) {
	c := export.New("https://ehr.example/fhir/r4/", nil)
	for _, tc := range []struct {
		name string
		r    export.Request
		want string
	}{
		{"group, non-UUID id", export.Request{GroupID: "practice-1.a"}, "https://ehr.example/fhir/r4/Group/practice-1.a/$export"},
		{"explicit group", export.Request{Level: export.LevelGroup, GroupID: "all"}, "https://ehr.example/fhir/r4/Group/all/$export"},
		{"patient", export.Request{Level: export.LevelPatient, Types: []string{"Patient"}}, "https://ehr.example/fhir/r4/Patient/$export?_type=Patient"},
		{"system with every parameter", export.Request{Level: export.LevelSystem,
			TypeFilter:            []string{"ExplanationOfBenefit?service-date=gt2024-01-01", "Patient?gender=female"},
			Elements:              []string{"id", "Patient.gender"},
			IncludeAssociatedData: []string{"LatestProvenanceResources"}},
			"https://ehr.example/fhir/r4/$export?_elements=id%2CPatient.gender&_typeFilter=ExplanationOfBenefit%3Fservice-date%3Dgt2024-01-01&_typeFilter=Patient%3Fgender%3Dfemale&includeAssociatedData=LatestProvenanceResources"},
	} {
		if got := c.KickOffURL(tc.r); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
	for _, r := range []export.Request{{Level: export.LevelPatient, GroupID: "g"}, {}} {
		if _, err := c.KickOff(context.Background(), r); err == nil || !strings.Contains(err.Error(), "group id") {
			t.Errorf("%+v: err = %v", r, err)
		}
	}
}

func TestJobID(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/api/v1/Jobs/9a1b":                  "9a1b",
		"http://h/api/v2/jobs/42":                     "42",   // BCDA
		"https://h/api/v2/fhir/Job/5c-d/$status":      "5c-d", // AB2D
		"https://h/smart/fhir/jobs/u1?_format=ndjson": "u1",
		"https://h/api/v1/Jobs/%2e%2e":                "..",
	} {
		if got := export.JobID(in); got != want {
			t.Errorf("JobID(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestParseExpires(t *testing.T) {
	want := time.Date(2026, 12, 3, 2, 30, 0, 0, time.UTC)
	bcda := time.Date(2026, 12, 3, 2, 30, 0, 0, time.UTC)
	for in, w := range map[string]time.Time{
		"Thu, 03 Dec 2026 02:30:00 GMT": want,
		bcda.String():                   want, // "2026-12-03 02:30:00 +0000 UTC"
		"2026-12-03 02:30:00.25 +0000 UTC m=+86400.000000001": want.Add(250 * time.Millisecond),
		"2026-12-02 21:30:00 -0500 EST":                       want,
		"":                                                    {},
		"tomorrow":                                            {},
	} {
		if got := export.ParseExpires(in); !got.Equal(w) {
			t.Errorf("ParseExpires(%q) = %v, want %v", in, got, w)
		}
	}
}

// A server with the dialects' status quirks: the kick-off answers a relative
// Content-Location, the first poll 429 with Retry-After in seconds, the next
// a 202 with BCDA's free-text X-Progress and an HTTP-date Retry-After, then a
// BCDA-shaped manifest (no checksums, a stray JobID key) with a Go
// time.String() Expires. With a retry policy of one attempt, a 429 poll that
// counted as a failure would end the run.
func TestPollQuirks(t *testing.T) {
	var polls atomic.Int32
	var mu sync.Mutex
	var pollTimes []time.Time
	expires := time.Now().Add(24 * time.Hour).Truncate(time.Second).UTC()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/Patient/$export":
			w.Header().Set("Content-Location", "../jobs/7")
			w.WriteHeader(http.StatusAccepted)
		case "/api/v2/jobs/7":
			mu.Lock()
			pollTimes = append(pollTimes, time.Now())
			mu.Unlock()
			switch polls.Add(1) {
			case 1:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			case 2:
				w.Header().Set("X-Progress", "In Progress (50%)")
				w.Header().Set("Retry-After", time.Now().Add(1500*time.Millisecond).UTC().Format(http.TimeFormat))
				w.WriteHeader(http.StatusAccepted)
			default:
				w.Header().Set("Expires", expires.String())
				w.Write([]byte(`{"transactionTime":"2026-12-02T02:00:00Z","request":"x","requiresAccessToken":true,` +
					`"output":[{"type":"Patient","url":"http://h/data/7/a.ndjson"}],"error":[{"type":"OperationOutcome","url":"http://h/data/7/e.ndjson"}],"JobID":7}`))
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var events []extract.Event
	c := export.New(srv.URL+"/api/v2", srv.Client(),
		export.WithRetry(retry.Policy{MaxAttempts: 1, Base: time.Millisecond}),
		export.WithPollBackoff(retry.Policy{Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}),
		export.WithProgress(func(e extract.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	dir := t.TempDir()
	job, err := c.Run(context.Background(), dir, export.Request{Level: export.LevelPatient})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "7" || job.URL != srv.URL+"/api/v2/jobs/7" || len(job.Manifest.Files()) != 2 || job.Manifest.Files()[1].List != extract.ListError {
		t.Fatalf("job %+v manifest %+v", job, job.Manifest)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pollTimes) != 3 || pollTimes[1].Sub(pollTimes[0]) < 950*time.Millisecond || pollTimes[2].Sub(pollTimes[1]) < 400*time.Millisecond {
		t.Fatalf("polls at %v: Retry-After not honoured", pollTimes)
	}
	var saw bool
	for _, e := range events {
		saw = saw || e.Kind == extract.EventJobProgress && e.Percent == 50 && e.Status == "IN PROGRESS"
	}
	if !saw {
		t.Fatalf("no 50%% IN PROGRESS event in %+v", events)
	}
	st, err := export.LoadState(dir, export.StateKey(export.Request{Level: export.LevelPatient}))
	if err != nil || st == nil || !st.Expires.Equal(expires) || st.Level != export.LevelPatient {
		t.Fatalf("state %+v %v, want Expires %v", st, err, expires)
	}
}

// The manifest shapes of the other servers: AB2D's own checksum extension,
// the Bulk IG's deleted[] and outputOrganizedBy, requiresAccessToken false.
func TestManifestShapes(t *testing.T) {
	body := `{"transactionTime":"2026-12-02T02:00:00.000Z","request":"r","requiresAccessToken":false,"outputOrganizedBy":"Patient",
	"output":[{"type":"ExplanationOfBenefit","url":"https://h/Job/j/file/a.ndjson","extension":[
		{"url":"https://ab2d.cms.gov/checksum","valueString":"sha256:8b74ba377554fa73de2a2da52cab9e1d160550247053e4d6aba1968624c67b10"},
		{"url":"https://ab2d.cms.gov/file_length","valueDecimal":2468}]}],
	"error":[{"type":"OperationOutcome","url":"https://h/e.ndjson","count":2}],
	"deleted":[{"type":"Bundle","url":"https://h/d.ndjson","count":3}],"link":[{"relation":"next","url":"https://h/p2"}]}`
	var m export.Manifest
	if err := export.ParseManifest([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if o := m.Output[0]; o.Checksum != "sha256:8b74ba377554fa73de2a2da52cab9e1d160550247053e4d6aba1968624c67b10" || o.FileLength != 2468 {
		t.Fatalf("AB2D extension not read: %+v", o)
	}
	fs := m.Files()
	if m.OutputOrganizedBy != "Patient" || len(fs) != 3 || fs[2].List != extract.ListDeleted || fs[2].Count != 3 || fs[1].List != extract.ListError || fs[0].List != extract.ListOutput {
		t.Fatalf("files %+v", fs)
	}
	for _, f := range fs {
		if f.RequiresAccessToken {
			t.Fatalf("%s: RequiresAccessToken set from a manifest that says false", f.URL)
		}
	}
}

// A saved job is joined only for the same request, every parameter included
// (order of _type, _elements and includeAssociatedData aside).
func TestStateMatches(t *testing.T) {
	base := export.Request{Level: export.LevelSystem, Types: []string{"Patient", "Coverage"}, TypeFilter: []string{"Patient?a=1"},
		Elements: []string{"id", "gender"}, IncludeAssociatedData: []string{"LatestProvenanceResources"}, Since: time.Unix(1e9, 0)}
	st := export.NewState("http://h/jobs/1", base, time.Now())
	same := base
	same.Types, same.Elements = []string{"Coverage", "Patient"}, []string{"gender", "id"}
	if !st.Matches(same) {
		t.Fatal("reordered request does not match")
	}
	for name, change := range map[string]func(*export.Request){
		"level":      func(r *export.Request) { r.Level = export.LevelPatient },
		"typeFilter": func(r *export.Request) { r.TypeFilter = []string{"Patient?a=2"} },
		"elements":   func(r *export.Request) { r.Elements = []string{"id"} },
		"associated": func(r *export.Request) { r.IncludeAssociatedData = nil },
		"since":      func(r *export.Request) { r.Since = time.Unix(2e9, 0) },
		"group":      func(r *export.Request) { r.Level, r.GroupID = export.LevelGroup, "g" },
	} {
		r := base
		change(&r)
		if st.Matches(r) {
			t.Errorf("%s changed: still matches", name)
		}
	}
	if k := export.StateKey(base); k != "_system" {
		t.Fatalf("StateKey %q", k)
	}
}
