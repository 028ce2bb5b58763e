package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

// Run does every stage for every group: export, download, transform, load, commit and
// then the watermark. Transform streams straight into load (no intermediate files).
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	if err := r.Preflight(ctx); err != nil {
		return sum, r.finish(ctx, err)
	}
	release, err := r.lock(ctx, "dpcetl run")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		job, err := r.export(ctx, group, gs)
		if err != nil {
			return err
		}
		files, err := r.download(ctx, job, gs)
		if err != nil {
			return err
		}
		return r.transformLoad(ctx, group, job.ID, job.Manifest, files, gs)
	})
	return sum, r.finish(ctx, err)
}

// finish turns a cancelled context into ErrInterrupted and a deadline (the configured
// timeout) into a retryable error, so the exit code says which.
func (r *Runner) finish(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out (timeout %s): %w: %w", time.Duration(r.cfg.Timeout), err, extract.ErrRetryable)
	}
	return err
}

// ExportStart starts each group's export job, or keeps the one already saved for the
// same request (idempotent: calling it twice starts one job).
func (r *Runner) ExportStart(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	// The stage-split path starts its export here: a destination that cannot take the output
	// must fail now, not after the export, download and transform.
	if err := r.Preflight(ctx); err != nil {
		return sum, r.finish(ctx, err)
	}
	release, err := r.lock(ctx, "dpcetl export start")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		req, err := r.request(ctx, group, gs)
		if err != nil {
			return err
		}
		st, err := export.LoadState(r.jobsDir(), group)
		if err != nil {
			return err
		}
		if st != nil && st.Matches(req) && (st.Expires.IsZero() || r.now().Before(st.Expires)) {
			r.log.Info("export job already started", "group", group, "job", export.JobID(st.JobURL))
			gs.JobID = export.JobID(st.JobURL)
			gs.JobState = "STARTED"
			if st.Manifest != nil {
				r.noteJob(gs, gs.JobID, st.Manifest)
			}
			return nil
		}
		u, err := r.exportClient().KickOff(ctx, req)
		if err != nil {
			return classify(err)
		}
		st = &export.State{JobURL: u, Level: req.Level, GroupID: req.GroupID, Types: req.Types, Since: req.Since, OutputFormat: req.OutputFormat,
			TypeFilter: req.TypeFilter, Elements: req.Elements, IncludeAssociatedData: req.IncludeAssociatedData, KickOff: r.now().UTC()}
		if err := export.SaveState(r.jobsDir(), st); err != nil {
			return fmt.Errorf("save job state (job %s is running): %w", u, err)
		}
		gs.JobID, gs.JobState = export.JobID(u), "STARTED"
		return nil
	})
	return sum, r.finish(ctx, err)
}

// savedJob returns the group's saved job, or a config error telling which command to run.
func (r *Runner) savedJob(group string) (*export.State, error) {
	st, err := export.LoadState(r.jobsDir(), group)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("%w: no export job for group %s in state directory %s: run 'dpcetl export start' first (with the same --state-dir)",
			config.ErrInvalid, group, r.stateDir)
	}
	return st, nil
}

// ExportStatus checks each group's job once. It returns ErrStillRunning (exit 11) while any
// job runs, and saves the manifest of a completed job for the download stage.
func (r *Runner) ExportStatus(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	release, err := r.lock(ctx, "dpcetl export status")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		st, err := r.savedJob(group)
		if err != nil {
			return err
		}
		gs.JobID = export.JobID(st.JobURL)
		if st.Manifest != nil {
			r.noteJob(gs, gs.JobID, st.Manifest)
			return nil
		}
		s, err := r.exportClient().Status(ctx, st.JobURL)
		if err != nil {
			if isGone(err) {
				export.RemoveState(r.jobsDir(), group)
			}
			return classify(err)
		}
		if !s.Done {
			gs.JobState = fmt.Sprintf("%s %.1f%%", s.State, max(s.Percent, 0))
			return fmt.Errorf("job %s: %s: %w", gs.JobID, gs.JobState, ErrStillRunning)
		}
		st.Manifest, st.Expires, st.Completed = s.Manifest, s.Expires, r.now().UTC()
		if err := export.SaveState(r.jobsDir(), st); err != nil {
			return err
		}
		r.noteJob(gs, gs.JobID, s.Manifest)
		return nil
	})
	if err != nil && r.allStillRunning(sum) {
		return sum, ErrStillRunning
	}
	return sum, r.finish(ctx, err)
}

func (r *Runner) allStillRunning(sum *Summary) bool {
	for _, g := range sum.Groups {
		if g.Status == "failed" && (g.JobState == "" || g.JobState == "COMPLETED") {
			return false
		}
	}
	return true
}

func isGone(err error) bool {
	return errorsIs(err, export.ErrJobExpired, export.ErrJobNotFound, export.ErrJobFailed)
}

// ExportWait waits for each group's job, starting it when none is saved.
func (r *Runner) ExportWait(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	release, err := r.lock(ctx, "dpcetl export wait")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		_, err := r.export(ctx, group, gs)
		return err
	})
	return sum, r.finish(ctx, err)
}

// completedJob returns the saved, completed job of a group.
func (r *Runner) completedJob(group string, gs *GroupSummary) (*export.Job, error) {
	st, err := r.savedJob(group)
	if err != nil {
		return nil, err
	}
	if st.Manifest == nil {
		return nil, fmt.Errorf("job %s of group %s has not completed: run 'dpcetl export status' or 'dpcetl export wait' first: %w",
			export.JobID(st.JobURL), group, ErrStillRunning)
	}
	if !st.Since.IsZero() {
		gs.Since = st.Since.UTC().Format(time.RFC3339Nano)
	}
	job := &export.Job{URL: st.JobURL, ID: export.JobID(st.JobURL), Manifest: st.Manifest, Rejoined: true}
	r.noteJob(gs, job.ID, job.Manifest)
	return job, nil
}

// Download fetches and verifies the files of each group's completed job (resumable).
func (r *Runner) Download(ctx context.Context) (*Summary, error) {
	sum := r.newSummary()
	release, err := r.lock(ctx, "dpcetl download")
	if err != nil {
		return sum, err
	}
	defer release()
	err = r.forEachGroup(ctx, sum, func(ctx context.Context, group string, gs *GroupSummary) error {
		job, err := r.completedJob(group, gs)
		if err != nil {
			return err
		}
		_, err = r.download(ctx, job, gs)
		return err
	})
	return sum, r.finish(ctx, err)
}
