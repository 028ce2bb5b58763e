//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/killpoint"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

var (
	patients = flag.Int("chaos.patients", 2000, "patients in the sandbox")
	groupsN  = flag.Int("chaos.groups", 8, "attribution groups (practitioners)")
	perCase  = flag.Int("chaos.case-groups", 2, "groups each case exports (rotating through all of them)")
	seed     = flag.Uint64("chaos.seed", 18, "seed of the random kill delays and fault probabilities")
	report   = flag.String("chaos.report", "../../bench/chaos.md", "where the results table is written")
	only     = flag.String("chaos.only", "", "run only the cases whose section/destination/name matches this regexp (the clean run always runs)")
)

// want reports whether a case is selected by -chaos.only.
func want(section, kind, name string) bool {
	return *only == "" || regexp.MustCompile(*only).MatchString(section+"/"+kind+"/"+name)
}

// Tables whose rows are one FHIR resource each, keyed by the resource id: their counts are
// checked against an independent count of the sandbox's own NDJSON.
var resourceTables = map[string]struct{ typ, col string }{
	"patient":  {"Patient", "patient_id"},
	"coverage": {"Coverage", "coverage_id"},
	"eob":      {"ExplanationOfBenefit", "eob_id"},
}

// Columns that differ between two correct runs of the same data (lineage, random ids).
var volatile = map[string]bool{"export_job_id": true, "ingested_at": true, "operation_outcome_id": true}

type suite struct {
	t      *testing.T
	bin    string
	root   string
	srv    *dpctest.Server
	s3     *s3test.Server
	groups []string // every group of the sandbox
	cur    []string // the groups of the current case
	creds  dpctest.Credentials
	tok    string
	key    string
	rng    *rand.Rand
	n      int

	ndjson  map[string]map[string]int            // table → group → resources in the NDJSON
	base    map[string]map[string]map[uint64]int // table → group → row fingerprint → count (clean run)
	hseed   maphash.Seed
	runTime time.Duration // a clean run's wall time
	results []result
}

type result struct {
	section, dest, name string
	reached             bool // the kill point (or fault) fired
	ok                  bool
	attempts            int
	lost, dup           int
	rows                int
	problems            []string
	detail              []string // per-table losses and duplicates
}

type dest struct {
	kind, url string
	dir       string // file
	prefix    string // s3
	env       []string
}

func TestChaos(t *testing.T) {
	start := time.Now()
	s := setup(t)
	s.baseline()
	s.killScenarios(s.fileDest, false)
	s.killScenarios(s.s3Dest, true)
	s.s3KillScenarios()
	s.faultScenarios()
	s.write(time.Since(start))
	for _, r := range s.results {
		if !r.ok {
			t.Errorf("%s / %s / %s: attempts %d, lost %d, dup %d: %s", r.section, r.dest, r.name, r.attempts, r.lost, r.dup, strings.Join(append(r.detail, r.problems...), "; "))
		}
	}
}

func setup(t *testing.T) *suite {
	root := t.TempDir()
	bin := filepath.Join(root, "dpcetl")
	build := exec.Command("go", "build", "-o", bin, "github.com/dpcetl/dpcetl/cmd/dpcetl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build dpcetl: %v", err)
	}
	// Every resource was last updated over a year ago: each export sees the same data, so
	// an incremental window after a committed run is empty and the expected output is fixed.
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithJobDuration(300*time.Millisecond),
		dpctest.WithEpoch(time.Now().AddDate(-2, 0, 0)), dpctest.WithFileResources(400), dpctest.WithBatchSize(100),
		dpctest.WithSeedOrganization(dpctest.SeedOrganization{Name: "Chaos Clinic", Patients: *patients, Practitioners: *groupsN}))
	t.Cleanup(srv.Close)
	sd := srv.Seeded()
	creds, err := srv.NewCredentials(sd.OrgID, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{t: t, bin: bin, root: root, srv: srv, creds: creds, rng: rand.New(rand.NewPCG(*seed, 18)), hseed: maphash.MakeSeed()}
	for _, g := range sd.Groups {
		s.groups = append(s.groups, g.GroupID)
	}
	s.tok = filepath.Join(root, "client_token")
	s.key = filepath.Join(root, "private.pem")
	os.WriteFile(s.tok, []byte(creds.ClientToken+"\n"), 0o600)
	os.WriteFile(s.key, creds.PrivateKeyPEM, 0o600)
	s.s3 = s3test.Start(t)
	s.ndjson = s.countNDJSON()
	return s
}

// countNDJSON exports every group with plain HTTP (no dpcetl code) and counts resources.
func (s *suite) countNDJSON() map[string]map[string]int {
	t := s.t
	ts := auth.NewTokenSource(auth.Credentials{BaseURL: s.creds.BaseURL, KeyID: s.creds.KeyID, ClientToken: s.creds.ClientToken, PrivateKey: s.creds.PrivateKey})
	hc := &http.Client{Transport: ts.Transport(http.DefaultTransport), Timeout: time.Minute}
	out := map[string]map[string]int{}
	for tbl := range resourceTables {
		out[tbl] = map[string]int{}
	}
	for _, g := range s.groups {
		req, _ := http.NewRequest("GET", s.creds.BaseURL+"/Group/"+g+"/$export", nil)
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("Prefer", "respond-async")
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("kick-off %s: %v %v", g, err, resp)
		}
		resp.Body.Close()
		job := resp.Header.Get("Content-Location")
		var man struct {
			Output []struct{ Type, URL string }
		}
		for {
			resp, err := hc.Get(job)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if err := json.Unmarshal(b, &man); err != nil {
					t.Fatal(err)
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, o := range man.Output {
			resp, err := hc.Get(o.URL)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				var r struct{ ResourceType string }
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatal(err)
				}
				for tbl, rt := range resourceTables {
					if rt.typ == r.ResourceType {
						out[tbl][g]++
					}
				}
			}
			resp.Body.Close()
		}
	}
	return out
}

func (s *suite) fileDest() dest {
	s.next()
	dir := filepath.Join(s.root, fmt.Sprintf("out-%03d", s.n))
	return dest{kind: "file", url: dir, dir: dir}
}

func (s *suite) s3Dest() dest {
	s.next()
	p := fmt.Sprintf("lake-%03d", s.n)
	return dest{kind: "s3", url: s.s3.URL(p), prefix: p, env: []string{
		"AWS_ACCESS_KEY_ID=" + s.s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.s3.SecretKey, "AWS_REGION=" + s.s3.Region,
		"AWS_EC2_METADATA_DISABLED=true"}}
}

// next starts a case: a new number and the next groups in turn.
func (s *suite) next() {
	s.n++
	s.cur = nil
	for i := range min(*perCase, len(s.groups)) {
		s.cur = append(s.cur, s.groups[(s.n*(*perCase)+i)%len(s.groups)])
	}
}

func (s *suite) sink(d dest) sink.Sink {
	if d.kind == "s3" {
		return s.s3.Sink(s.t, d.prefix, 0)
	}
	sk, err := sink.NewFile(d.dir)
	if err != nil {
		s.t.Fatal(err)
	}
	return sk
}

// config writes a dpcetl config for d, a fresh state directory of the scenario, and mode.
func (s *suite) config(d dest, state, mode string) string {
	y := fmt.Sprintf(`api: %s
credentials:
  client_token_file: %s
  private_key_file: %s
  key_id: %s
groups:
  ids: [%s]
destination: %q
state_dir: %s
since: %s
poll_interval: 50ms
max_attempts: 3
concurrency: 4
`, s.srv.BaseURL(), s.tok, s.key, s.creds.KeyID, strings.Join(s.cur, ", "), d.url, state, mode)
	p := filepath.Join(s.root, fmt.Sprintf("cfg-%03d-%s.yaml", s.n, mode))
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

type proc struct {
	code     int
	killed   bool // died of SIGKILL
	stderr   string
	duration time.Duration
}

// run starts dpcetl run; during(cmd, stderr line) is called for each stderr line.
func (s *suite) run(cfg string, env []string, during func(cmd *exec.Cmd, line string)) proc {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "run", "--config", cfg, "--log-format", "json")
	cmd.Env = append([]string{"HOME=" + s.root, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}, env...)
	pipe, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	var buf strings.Builder
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		buf.WriteString(sc.Text() + "\n")
		if during != nil {
			during(cmd, sc.Text())
		}
	}
	err := cmd.Wait()
	p := proc{stderr: buf.String(), duration: time.Since(t0), code: cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			p.killed = true
		}
	}
	return p
}

// complete reruns until dpcetl exits 0 (at most 5 attempts; a retryable exit is retried).
func (s *suite) complete(cfg string, d dest) (int, proc) {
	var p proc
	for i := 1; i <= 5; i++ {
		p = s.run(cfg, d.env, nil)
		if p.code == 0 {
			return i, p
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 5, p
}

func (s *suite) baseline() {
	d := s.fileDest()
	s.cur = s.groups // the clean run exports every group: the reference for all cases
	state := filepath.Join(s.root, fmt.Sprintf("state-%03d", s.n))
	p := s.run(s.config(d, state, "incremental"), nil, nil)
	if p.code != 0 {
		s.t.Fatalf("clean run: exit %d\n%s", p.code, p.stderr)
	}
	s.runTime = p.duration * time.Duration(*perCase) / time.Duration(len(s.groups))
	r := result{section: "baseline", dest: "file", name: "clean run", reached: true}
	s.base = s.check(d, &r)
	if len(r.problems) > 0 {
		s.t.Fatalf("clean run fails the checks: %v", r.problems)
	}
	for tbl, gs := range s.base {
		for _, fps := range gs {
			for _, n := range fps {
				r.rows += n
			}
		}
		_ = tbl
	}
	r.ok = true
	s.results = append(s.results, r)
	s.t.Logf("clean run: %s, %d rows in %d tables", p.duration.Round(time.Millisecond), r.rows, len(s.base))
}

// dataKey is a Parquet file of the Hive layout: {table}/export_date=…/group_id=… (group= before).
var dataKey = regexp.MustCompile(`^([^_./][^/]*)/export_date=[^/]+/group(?:_id)?=([^/]+)/[^/]+$`)

// check verifies the destination as a reader would find it and returns its rows.
func (s *suite) check(d dest, r *result) map[string]map[string]map[uint64]int {
	ctx := context.Background()
	snk := s.sink(d)
	defer snk.Close()
	bad := func(f string, a ...any) { r.problems = append(r.problems, fmt.Sprintf(f, a...)) }

	runs, err := load.CommittedRuns(ctx, snk)
	if err != nil {
		bad("list runs: %v", err)
		return nil
	}
	committed := map[string]load.Manifest{}
	inManifest := map[string]bool{}
	for _, id := range runs {
		m, err := load.ReadManifest(ctx, snk, id)
		if err != nil {
			bad("run %s: %v", id, err)
			continue
		}
		committed[id] = m
		for _, f := range m.Files {
			inManifest[f.Key] = true
		}
	}
	objs, err := snk.List(ctx, "")
	if err != nil {
		bad("list: %v", err)
		return nil
	}
	var visible []string
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "_") {
			if strings.HasSuffix(o.Key, "/"+load.PublishingName) {
				id := strings.Split(o.Key, "/")[1]
				if _, ok := committed[id]; !ok {
					bad("unfinished publish of run %s left behind", id)
				}
			}
			continue
		}
		visible = append(visible, o.Key)
	}
	if d.kind == "file" {
		// A real glob reader, hidden files and all.
		g, _ := filepath.Glob(filepath.Join(d.dir, "*", "export_date=*", "group*=*", "*"))
		var rel []string
		for _, p := range g {
			k, _ := filepath.Rel(d.dir, p)
			if !strings.HasPrefix(k, "_") {
				rel = append(rel, filepath.ToSlash(k))
			}
		}
		sort.Strings(rel)
		if strings.Join(rel, "\n") != strings.Join(visible, "\n") {
			bad("glob sees %d files, the sink lists %d", len(rel), len(visible))
		}
	}
	seen := map[string]bool{}
	rows := map[string]map[string]map[uint64]int{}
	ids := map[string]map[string]map[string]int{}
	for _, k := range visible {
		seen[k] = true
		if !inManifest[k] {
			bad("visible file %s is in no committed manifest", k)
		}
		m := dataKey.FindStringSubmatch(k)
		if m == nil || !strings.HasSuffix(k, ".parquet") {
			bad("unexpected visible object %s", k)
			continue
		}
		table, group := m[1], m[2]
		s.readRows(ctx, snk, k, table, group, rows, ids, bad)
	}
	for k := range inManifest {
		if !seen[k] {
			bad("committed file %s is missing", k)
		}
	}
	// Watermarks: present, on a committed run, never ahead of it; no pending record left.
	for _, g := range s.cur {
		wm, err := runner.ReadWatermark(ctx, snk, g)
		if err != nil || wm == nil {
			bad("group %s: no watermark (%v)", g, err)
			continue
		}
		m, ok := committed[wm.RunID]
		if !ok {
			bad("group %s: watermark names run %s, which is not committed", g, wm.RunID)
		} else if m.TransactionTime != wm.TransactionTime.UTC().Format(time.RFC3339Nano) {
			bad("group %s: watermark %s is not the committed run's %s", g, wm.TransactionTime, m.TransactionTime)
		}
		if ok, _ := sink.Exists(ctx, snk, runner.StatePrefix+"groups/"+url.PathEscape(g)+"/pending.json"); ok {
			bad("group %s: pending record left", g)
		}
	}
	// Resource tables against the sandbox's NDJSON: every id once.
	for tbl, want := range s.ndjson {
		for _, g := range s.cur {
			got := ids[tbl][g]
			n, dupIDs := 0, 0
			for _, c := range got {
				n++
				dupIDs += c - 1
			}
			if n != want[g] || dupIDs > 0 {
				bad("%s, group %s: %d distinct ids (+%d duplicates), the NDJSON has %d", tbl, g, n, dupIDs, want[g])
			}
		}
	}
	runsOf := map[string]int{}
	for _, m := range committed {
		runsOf[m.Group]++
	}
	if s.base != nil {
		for tbl := range unionKeys(s.base, rows) {
			lost, dup := 0, 0
			for _, g := range s.cur {
				b, got := s.base[tbl][g], rows[tbl][g]
				allowed := 0
				if tbl == "export_error" {
					// DPC reports opted-out patients in every export, incremental ones too:
					// each committed run of the group carries its own copy of these rows.
					allowed = max(0, runsOf[g]-1)
				}
				for fp, n := range b {
					lost += max(0, n-got[fp])
				}
				for fp, n := range got {
					dup += max(0, n-b[fp]*(1+allowed))
				}
			}
			if lost+dup > 0 {
				r.detail = append(r.detail, fmt.Sprintf("%s: %d lost, %d duplicated", tbl, lost, dup))
			}
			r.lost += lost
			r.dup += dup
		}
	}
	for _, gs := range rows {
		for _, fps := range gs {
			for _, n := range fps {
				r.rows += n
			}
		}
	}
	return rows
}

func unionKeys(a, b map[string]map[string]map[uint64]int) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, m := range []map[string]map[string]map[uint64]int{a, b} {
		for tbl, gs := range m {
			if out[tbl] == nil {
				out[tbl] = map[string]bool{}
			}
			for g := range gs {
				out[tbl][g] = true
			}
		}
	}
	return out
}

// readRows reads a Parquet file with parquet-go (not the writer's library) and counts a
// fingerprint of each row (volatile columns left out) and the ids of resource tables.
func (s *suite) readRows(ctx context.Context, snk sink.Sink, key, table, group string,
	rows map[string]map[string]map[uint64]int, ids map[string]map[string]map[string]int, bad func(string, ...any)) {
	rc, err := snk.Get(ctx, key)
	if err != nil {
		bad("read %s: %v", key, err)
		return
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		bad("read %s: %v", key, err)
		return
	}
	f, err := pgo.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		bad("parquet %s: %v", key, err)
		return
	}
	skip := map[int]bool{}
	idCol := -1
	for i, path := range f.Schema().Columns() {
		if volatile[path[0]] {
			skip[i] = true
		}
		if rt, ok := resourceTables[table]; ok && path[0] == rt.col {
			idCol = i
		}
	}
	if rows[table] == nil {
		rows[table] = map[string]map[uint64]int{}
	}
	if rows[table][group] == nil {
		rows[table][group] = map[uint64]int{}
	}
	fps := rows[table][group]
	var idm map[string]int
	if idCol >= 0 {
		if ids[table] == nil {
			ids[table] = map[string]map[string]int{}
		}
		if ids[table][group] == nil {
			ids[table][group] = map[string]int{}
		}
		idm = ids[table][group]
	}
	var h maphash.Hash
	h.SetSeed(s.hseed)
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		buf := make([]pgo.Row, 256)
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				h.Reset()
				for _, v := range row {
					c := v.Column()
					if skip[c] {
						continue
					}
					if c == idCol {
						idm[string(v.ByteArray())]++
					}
					h.Write([]byte{byte(c), byte(c >> 8), byte(v.Kind()), byte(v.RepetitionLevel()), byte(v.DefinitionLevel())})
					if !v.IsNull() {
						h.Write(v.Bytes())
					}
					h.WriteByte(0xff)
				}
				fps[h.Sum64()]++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				bad("parquet %s: %v", key, err)
				break
			}
		}
		rr.Close()
	}
}

// wmNotAhead is the check after a kill: every watermark names a committed run.
func (s *suite) wmNotAhead(d dest, r *result) {
	ctx := context.Background()
	snk := s.sink(d)
	defer snk.Close()
	for _, g := range s.cur {
		wm, err := runner.ReadWatermark(ctx, snk, g)
		if err != nil {
			r.problems = append(r.problems, fmt.Sprintf("after the kill: watermark of %s: %v", g, err))
			continue
		}
		if wm == nil {
			continue
		}
		m, err := load.ReadManifest(ctx, snk, wm.RunID)
		if err != nil || m.TransactionTime != wm.TransactionTime.UTC().Format(time.RFC3339Nano) {
			r.problems = append(r.problems, fmt.Sprintf("after the kill: watermark of %s is ahead of committed data (%v)", g, err))
		}
	}
}

type killCase struct {
	first, then string // modes of the killed run and of the reruns
	point       string // DPCETL_KILLPOINT, or "" with delay for an external kill -9
	delay       time.Duration
}

func (s *suite) killCase(section string, newDest func() dest, kc killCase) {
	d := newDest()
	state := filepath.Join(s.root, fmt.Sprintf("state-%03d", s.n))
	name := kc.point
	env := append([]string(nil), d.env...)
	var during func(*exec.Cmd, string)
	if kc.point != "" {
		env = append(env, killpoint.Env+"="+kc.point)
	} else {
		name = fmt.Sprintf("kill -9 after %s", kc.delay.Round(time.Millisecond))
		var fired bool
		during = func(cmd *exec.Cmd, _ string) {
			if !fired {
				fired = true
				time.AfterFunc(kc.delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
	}
	if kc.first != kc.then {
		name = fmt.Sprintf("%s (%s → %s)", name, kc.first, kc.then)
	} else {
		name = fmt.Sprintf("%s (%s)", name, kc.first)
	}
	if !want(section, d.kind, name) {
		return
	}
	r := result{section: section, dest: d.kind, name: name}
	p := s.run(s.config(d, state, kc.first), env, during)
	if kc.point == "" && !p.killed && p.code == 0 && kc.delay > 40*time.Millisecond {
		// The run ended before the kill: that tests nothing. Again, sooner, from scratch.
		s.t.Logf("%s: the run ended after %s, before the kill; retrying with half the delay", name, p.duration.Round(time.Millisecond))
		kc.delay /= 2
		s.killCase(section, newDest, kc)
		return
	}
	r.reached = p.killed
	if !p.killed {
		r.problems = append(r.problems, fmt.Sprintf("the run was not killed (exit %d)", p.code))
	}
	s.wmNotAhead(d, &r)
	var last proc
	r.attempts, last = s.complete(s.config(d, state, kc.then), d)
	if last.code != 0 {
		r.problems = append(r.problems, fmt.Sprintf("rerun did not complete: exit %d: %s", last.code, tail(last.stderr)))
	} else {
		s.check(d, &r)
	}
	r.ok = r.reached && len(r.problems) == 0 && r.lost == 0 && r.dup == 0
	s.results = append(s.results, r)
	s.t.Logf("%-5s %-60s reached=%v attempts=%d lost=%d dup=%d %v %v", d.kind, name, r.reached, r.attempts, r.lost, r.dup, r.detail, r.problems)
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-3):], " | ")
}

// The named kill points, by stage (see load/killpoint).
var (
	samePoints = []string{
		"extract.job.kickoff", "extract.job.progress", "extract.job.complete", // polling
		"extract.file.start@2", "extract.file.bytes@3", "extract.file.verified@4", // mid-download
		"transform.batch", "transform.batch@25", // mid-transform (files staging)
		"commit.pending", "publish.intent", "publish.rename", "publish.rename@6", // mid-publish
		"publish.manifest", "publish.success", // after _SUCCESS
		"commit.committed", "commit.watermark", // between commit and watermark
	}
	fullPoints    = []string{"transform.batch@10", "publish.rename@3", "publish.success", "commit.committed"}
	fullToIncPts  = []string{"extract.file.bytes@2", "publish.rename@2", "publish.success", "commit.committed", "commit.watermark"}
	incToFullPts  = []string{"transform.batch@5", "commit.pending", "publish.rename@2", "publish.manifest"}
	randomKills   = 6
	randomSection = "random kill -9"
)

// killScenarios runs every kill point on newDest's destination; with short, a subset
// (the load side, where the destination matters, plus a few of the rest).
func (s *suite) killScenarios(newDest func() dest, short bool) {
	pick := func(pts []string, keep ...string) []string {
		if !short {
			return pts
		}
		var out []string
		for _, p := range pts {
			if slices.Contains(keep, p) {
				out = append(out, p)
			}
		}
		return out
	}
	for _, p := range pick(samePoints, "extract.job.progress", "extract.file.bytes@3", "transform.batch@25", "commit.pending",
		"publish.intent", "publish.rename", "publish.rename@6", "publish.manifest", "publish.success", "commit.committed", "commit.watermark") {
		s.killCase("kill points", newDest, killCase{first: "incremental", then: "incremental", point: p})
	}
	for _, p := range pick(fullPoints, "publish.rename@3", "commit.committed") {
		s.killCase("kill points", newDest, killCase{first: "full", then: "full", point: p})
	}
	for _, p := range pick(fullToIncPts, "publish.rename@2", "publish.success") {
		s.killCase("mode switch", newDest, killCase{first: "full", then: "incremental", point: p})
	}
	// Only kills before the incremental run commits: after it, a full rerun adds a second
	// full snapshot, as full mode is meant to.
	for _, p := range pick(incToFullPts, "commit.pending", "publish.rename@2") {
		s.killCase("mode switch", newDest, killCase{first: "incremental", then: "full", point: p})
	}
	n := randomKills
	if short {
		n /= 2
	}
	for range n {
		// Within the first 60% of a case's expected run time, so the kill lands mid-run.
		delay := time.Duration(s.rng.Int64N(int64(s.runTime)*6/10)) + 20*time.Millisecond
		s.killCase(randomSection, newDest, killCase{first: "incremental", then: "incremental", delay: delay})
	}
}

// s3KillScenarios pause dpcetl at a point, SIGKILL versitygw, let dpcetl go on against the
// dead store, then restart versitygw and rerun to completion.
func (s *suite) s3KillScenarios() {
	for _, p := range []string{"transform.batch@15", "commit.pending", "publish.intent", "publish.rename@2",
		"publish.manifest", "publish.success", "commit.committed", "commit.watermark"} {
		d := s.s3Dest()
		state := filepath.Join(s.root, fmt.Sprintf("state-%03d", s.n))
		resume := filepath.Join(s.root, fmt.Sprintf("resume-%03d", s.n))
		r := result{section: "versitygw killed", dest: "s3", name: "S3 down at " + p}
		if !want(r.section, r.dest, r.name) {
			continue
		}
		env := append(append([]string(nil), d.env...), killpoint.Env+"="+p+":pause", killpoint.ResumeEnv+"="+resume)
		first := s.run(s.config(d, state, "incremental"), env, func(_ *exec.Cmd, line string) {
			if strings.HasPrefix(line, "KILLPOINT ") {
				r.reached = true
				s.s3.Kill()
				os.WriteFile(resume, nil, 0o600)
			}
		})
		if !r.reached {
			r.problems = append(r.problems, fmt.Sprintf("point not reached (exit %d)", first.code))
		}
		s.s3.Kill() // idempotent
		s.s3.Restart()
		s.wmNotAhead(d, &r)
		var last proc
		r.attempts, last = s.complete(s.config(d, state, "incremental"), d)
		if last.code != 0 {
			r.problems = append(r.problems, fmt.Sprintf("rerun did not complete: exit %d: %s", last.code, tail(last.stderr)))
		} else {
			s.check(d, &r)
		}
		r.ok = r.reached && len(r.problems) == 0 && r.lost == 0 && r.dup == 0
		s.results = append(s.results, r)
		s.t.Logf("s3    %-60s reached=%v exit=%d attempts=%d lost=%d dup=%d %v", r.name, r.reached, first.code, r.attempts, r.lost, r.dup, r.problems)
	}
}

// faultScenarios run with every sandbox fault alone, then mixed with each other and with a
// kill: runs repeat (faults on) until one completes, then the output is checked.
func (s *suite) faultScenarios() {
	type fc struct {
		name  string
		rules []dpctest.Fault
		kill  string
	}
	cases := []fc{
		{"429 with Retry-After on /Data/", []dpctest.Fault{{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 4, RetryAfter: time.Second}}, ""},
		{"500 on job polls", []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Jobs/", Count: 3}}, ""},
		{"503 on token requests", []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Token/auth", Count: 2}}, ""},
		{"410 expired file", []dpctest.Fault{{Kind: dpctest.FaultExpired, Path: "/Data/", Count: 1}}, ""},
		{"connection reset mid-body", []dpctest.Fault{{Kind: dpctest.FaultReset, Path: "/Data/", Count: 4}}, ""},
		{"truncated body", []dpctest.Fault{{Kind: dpctest.FaultTruncate, Path: "/Data/", Count: 4}}, ""},
		{"slow body", []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", Count: 3, Delay: 20 * time.Millisecond, ChunkSize: 64 << 10}}, ""},
		{"flipped byte", []dpctest.Fault{{Kind: dpctest.FaultCorrupt, Path: "/Data/", Count: 2}}, ""},
		{"bad manifest checksum", []dpctest.Fault{{Kind: dpctest.FaultBadChecksum, Path: "/Jobs/", Method: "GET", Count: 1}}, ""},
		{"job fails", []dpctest.Fault{{Kind: dpctest.FaultJobFailed, Path: "/Jobs/", Count: 1}}, ""},
		{"mixed (p=0.05 each)", mixed(0.05), ""},
		{"mixed (p=0.05 each) + kill at publish.rename@3", mixed(0.05), "publish.rename@3"},
		{"mixed (p=0.05 each) + kill at extract.file.bytes@5", mixed(0.05), "extract.file.bytes@5"},
	}
	for i, c := range cases {
		dests := []func() dest{s.fileDest}
		if i%3 == 0 || c.kill != "" {
			dests = append(dests, s.s3Dest) // a third of the faults, and the mixed kills, on S3 too
		}
		for _, newDest := range dests {
			d := newDest()
			state := filepath.Join(s.root, fmt.Sprintf("state-%03d", s.n))
			r := result{section: "faults", dest: d.kind, name: c.name}
			if !want(r.section, r.dest, r.name) {
				continue
			}
			s.srv.SetFaults(dpctest.Faults{Rules: c.rules})
			cfg := s.config(d, state, "incremental")
			if c.kill != "" {
				p := s.run(cfg, append(append([]string(nil), d.env...), killpoint.Env+"="+c.kill), nil)
				if !p.killed {
					r.problems = append(r.problems, fmt.Sprintf("the run was not killed (exit %d)", p.code))
				}
			}
			var last proc
			r.attempts, last = s.complete(cfg, d)
			s.srv.SetFaults(dpctest.Faults{})
			if last.code != 0 {
				r.problems = append(r.problems, fmt.Sprintf("no run completed in %d attempts: exit %d: %s", r.attempts, last.code, tail(last.stderr)))
			} else {
				s.check(d, &r)
			}
			r.ok = len(r.problems) == 0 && r.lost == 0 && r.dup == 0
			s.results = append(s.results, r)
			s.t.Logf("%-5s fault %-50s attempts=%d lost=%d dup=%d %v", d.kind, c.name, r.attempts, r.lost, r.dup, r.problems)
		}
	}
}

func mixed(p float64) []dpctest.Fault {
	return []dpctest.Fault{
		{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Probability: p, RetryAfter: time.Second},
		{Kind: dpctest.FaultServerError, Path: "/Jobs/", Probability: p},
		{Kind: dpctest.FaultUnavailable, Path: "/Token/auth", Probability: p},
		{Kind: dpctest.FaultReset, Path: "/Data/", Probability: p},
		{Kind: dpctest.FaultTruncate, Path: "/Data/", Probability: p},
		{Kind: dpctest.FaultCorrupt, Path: "/Data/", Probability: p},
		{Kind: dpctest.FaultSlowBody, Path: "/Data/", Probability: p, Delay: 10 * time.Millisecond, ChunkSize: 64 << 10},
	}
}

func (s *suite) write(total time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos results (`make chaos`)\n\n")
	fmt.Fprintf(&b, "Generated by `pipelines/chaos` (build tag `chaos`) on %s, in %s. Sandbox: %d patients in %d groups "+
		"(extract/dpctest in the test process, 127.0.0.1), S3: versitygw on 127.0.0.1. The clean reference run exports "+
		"every group; each case exports %d of them, in turn, with a fresh state "+
		"directory and destination; the killed run is the real `dpcetl` binary, then `dpcetl run` is repeated until it "+
		"exits 0 (at most 5 attempts). Checks after each case: every table's rows equal a clean run's rows (row "+
		"fingerprints without lineage columns, so lost and duplicated rows are counted), patient/coverage/eob ids equal an "+
		"independent count of the sandbox's NDJSON (plain HTTP export), every file a glob reader sees is in a committed "+
		"manifest and every committed file is there, no unfinished publish left, every group's watermark names a "+
		"committed run with the same transaction time (also checked right after the kill), no pending record left. "+
		"Seed %d. Kill points are named in load/README.md (\"Kill points\"); `reruns` counts the runs after the kill "+
		"until one exited 0.\n\n", time.Now().UTC().Format(time.RFC3339), total.Round(time.Second), *patients, len(s.groups),
		min(*perCase, len(s.groups)), *seed)
	type agg struct{ n, ok, lost, dup int }
	sums := map[[2]string]*agg{}
	var order [][2]string
	for _, r := range s.results {
		k := [2]string{r.section, r.dest}
		if sums[k] == nil {
			sums[k] = &agg{}
			order = append(order, k)
		}
		a := sums[k]
		a.n++
		if r.ok {
			a.ok++
		}
		a.lost += r.lost
		a.dup += r.dup
	}
	fmt.Fprintf(&b, "## Summary\n\n| section | destination | survived | rows lost | duplicates |\n|---|---|---|---|---|\n")
	killN, killOK := map[string]int{}, map[string]int{}
	for _, k := range order {
		a := sums[k]
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %d | %d |\n", k[0], k[1], a.ok, a.n, a.lost, a.dup)
		if k[0] != "faults" && k[0] != "baseline" {
			killN[k[1]] += a.n
			killOK[k[1]] += a.ok
		}
	}
	fmt.Fprintf(&b, "\nKill points (named, mode switches, random kill -9, versitygw killed): file %d/%d, s3 %d/%d survived.\n",
		killOK["file"], killN["file"], killOK["s3"], killN["s3"])
	fmt.Fprintf(&b, "\n## Every case\n\n| section | destination | case | survived | reruns | rows | rows lost | duplicates | problems |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.results {
		ok := "yes"
		if !r.ok {
			ok = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %s |\n", r.section, r.dest, r.name, ok, r.attempts, r.rows, r.lost, r.dup,
			strings.ReplaceAll(strings.Join(append(r.detail, r.problems...), "; "), "|", "\\|"))
	}
	if err := os.MkdirAll(filepath.Dir(*report), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(*report, []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("results written to %s", *report)
}
