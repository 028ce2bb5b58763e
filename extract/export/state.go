package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// State is what a state directory remembers about one group's export job, so
// that a rerun joins the running or finished job instead of starting another.
type State struct {
	JobURL                string    `json:"job_url"`
	Level                 Level     `json:"level,omitempty"`
	GroupID               string    `json:"group_id"`
	Types                 []string  `json:"types,omitempty"`
	Since                 time.Time `json:"since,omitzero"`
	OutputFormat          string    `json:"output_format,omitempty"`
	TypeFilter            []string  `json:"type_filter,omitempty"`
	Elements              []string  `json:"elements,omitempty"`
	IncludeAssociatedData []string  `json:"include_associated_data,omitempty"`
	KickOff               time.Time `json:"kick_off"`
	Completed             time.Time `json:"completed,omitzero"`
	Expires               time.Time `json:"expires,omitzero"` // when the server deletes the files (Expires header)
	Manifest              *Manifest `json:"manifest,omitempty"`
}

// NewState is the state of job jobURL, kicked off at kickOff for r.
func NewState(jobURL string, r Request, kickOff time.Time) *State {
	return &State{JobURL: jobURL, Level: r.Level, GroupID: r.GroupID, Types: r.Types, Since: r.Since, OutputFormat: r.OutputFormat,
		TypeFilter: r.TypeFilter, Elements: r.Elements, IncludeAssociatedData: r.IncludeAssociatedData, KickOff: kickOff.UTC()}
}

// Request is the request s was started for.
func (s *State) Request() Request {
	return Request{Level: s.Level, GroupID: s.GroupID, Types: s.Types, Since: s.Since, OutputFormat: s.OutputFormat,
		TypeFilter: s.TypeFilter, Elements: s.Elements, IncludeAssociatedData: s.IncludeAssociatedData}
}

// Matches reports whether s was started for the same request as r.
func (s *State) Matches(r Request) bool {
	q := s.Request()
	sorted := func(v []string) []string { v = slices.Clone(v); slices.Sort(v); return v }
	return q.level() == r.level() && q.GroupID == r.GroupID && slices.Equal(sorted(q.Types), sorted(r.Types)) &&
		q.Since.Equal(r.Since) && q.OutputFormat == r.OutputFormat && slices.Equal(q.TypeFilter, r.TypeFilter) &&
		slices.Equal(sorted(q.Elements), sorted(r.Elements)) && slices.Equal(sorted(q.IncludeAssociatedData), sorted(r.IncludeAssociatedData))
}

// StateKey names r's state file: the group id, or "_patient" / "_system" for
// the other levels ('_' is not in a FHIR id, so no group can take these).
func StateKey(r Request) string {
	if r.level() == LevelGroup {
		return r.GroupID
	}
	return "_" + string(r.Level)
}

// StatePath is the state file of a job in dir, by StateKey (a group id).
func StatePath(dir, groupID string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, groupID)
	return filepath.Join(dir, "export-"+safe+".json")
}

// LoadState reads the group's state file; (nil, nil) if there is none. A job
// id that is not one safe path element is an error.
func LoadState(dir, groupID string) (*State, error) {
	b, err := os.ReadFile(StatePath(dir, groupID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("export: state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("export: state %s is corrupt (delete it to start a new job): %w", StatePath(dir, groupID), err)
	}
	if s.JobURL != "" {
		// Every reader of the state builds paths from the job id.
		if err := extract.CheckName("job id", JobID(s.JobURL)); err != nil {
			return nil, fmt.Errorf("export: state %s (delete it to start a new job): %w", StatePath(dir, groupID), err)
		}
	}
	return &s, nil
}

// SaveState writes s atomically (temp file, fsync, rename).
func SaveState(dir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("export: state: %w", err)
	}
	return WriteFileAtomic(StatePath(dir, StateKey(s.Request())), b)
}

// RemoveState forgets the group's job.
func RemoveState(dir, groupID string) error {
	err := os.Remove(StatePath(dir, groupID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// WriteFileAtomic writes data to path so that readers see the old or the new
// content, never a part: temp file in the same directory, fsync, rename.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; best effort
		d.Close()
	}
	return nil
}

// Job is a completed export job.
type Job struct {
	URL      string
	ID       string
	Manifest *Manifest
	Rejoined bool // true when the job came from the state file
}

// Run returns the completed job for r, joining the job saved in stateDir when
// it was started for the same request, and otherwise kicking off a new one
// (saved before polling, so a crash while waiting rejoins it). When the saved
// job has expired or is unknown to the server, the state is removed and the
// error says so (wrapping ErrJobExpired or ErrJobNotFound); the next Run
// starts a new job. A saved job past its Expires time is not joined.
// Callers remove the state (RemoveState) once they have loaded the job's
// data, so that the next run of the same request exports afresh.
func (c *Client) Run(ctx context.Context, stateDir string, r Request) (*Job, error) {
	key := StateKey(r)
	if err := extract.CheckName("group id", key); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	st, err := LoadState(stateDir, key)
	if err != nil {
		return nil, err
	}
	rejoined := false
	expired := st != nil && !st.Expires.IsZero() && !c.now().Before(st.Expires)
	if st != nil && st.Matches(r) && st.JobURL != "" && !expired {
		rejoined = true
		c.progress.Emit(extract.Event{Kind: extract.EventJobRejoin, JobID: JobID(st.JobURL), URL: st.JobURL})
		if st.Manifest != nil {
			return &Job{URL: st.JobURL, ID: JobID(st.JobURL), Manifest: st.Manifest, Rejoined: true}, nil
		}
	} else {
		u, err := c.KickOff(ctx, r)
		if err != nil {
			return nil, err
		}
		st = NewState(u, r, c.now())
		if err := SaveState(stateDir, st); err != nil {
			return nil, fmt.Errorf("export: saving job state (job %s is running): %w", u, err)
		}
	}
	m, exp, err := c.wait(ctx, st.JobURL)
	if err != nil {
		if errors.Is(err, ErrJobExpired) || errors.Is(err, ErrJobNotFound) || errors.Is(err, ErrJobFailed) {
			if rerr := RemoveState(stateDir, key); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return nil, err
	}
	st.Manifest = m
	st.Expires = exp
	st.Completed = c.now().UTC()
	if err := SaveState(stateDir, st); err != nil {
		return nil, fmt.Errorf("export: saving manifest of job %s: %w", st.JobURL, err)
	}
	return &Job{URL: st.JobURL, ID: JobID(st.JobURL), Manifest: m, Rejoined: rejoined}, nil
}
