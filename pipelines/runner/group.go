package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/verify"
	"github.com/dpcetl/dpcetl/load/killpoint"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

// Local state layout, under the state directory:
//
//	jobs/export-{group}.json         the group's export job (E1's state file: rejoin after a crash)
//	files/{job id}/...               verified downloads (resume: verified files are not fetched again)
//	tables/{group}/{job id}/...      Arrow IPC tables between `dpcetl transform` and `dpcetl load`
//	quarantine/{group}/{job id}.ndjson   input lines that failed to transform
func (r *Runner) jobsDir() string  { return filepath.Join(r.stateDir, "jobs") }
func (r *Runner) filesDir() string { return filepath.Join(r.stateDir, "files") }
func (r *Runner) tablesDir(group, jobID string) string {
	return filepath.Join(r.stateDir, "tables", safe(group), safe(jobID))
}
func (r *Runner) quarantinePath(group, jobID string) string {
	return filepath.Join(r.stateDir, "quarantine", safe(group), safe(jobID)+".ndjson")
}

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '/' || c == '\\' || c == ':' || c == 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

func (r *Runner) retryPolicy() retry.Policy {
	p := retry.Default()
	if r.cfg.MaxAttempts > 0 {
		p.MaxAttempts = r.cfg.MaxAttempts
	}
	return p
}

// limiter is shared by export and download: a 429 slows everyone.
func (r *Runner) limiter() *retry.Limiter {
	r.limOnce.Do(func() { r.lim = retry.NewLimiter(0, time.Minute) })
	return r.lim
}

func (r *Runner) exportClient() *export.Client {
	pi := time.Duration(r.cfg.PollInterval)
	if r.cfg.Embedded() {
		pi = min(pi, 100*time.Millisecond)
	}
	return export.New(r.creds.BaseURL, r.hc,
		export.WithProgress(r.progress()),
		export.WithLimiter(r.limiter()),
		export.WithClock(r.now),
		export.WithPollBackoff(retry.Policy{Base: pi, Max: max(pi, 4*pi), Jitter: 0.2}),
		export.WithRetry(r.retryPolicy()),
	)
}

func (r *Runner) downloader() *download.Downloader {
	return download.New(r.hc, r.filesDir(),
		download.WithConcurrency(r.cfg.Concurrency),
		download.WithLimiter(r.limiter()),
		download.WithProgress(r.progress()),
		download.WithClock(r.now),
		download.WithRetry(r.retryPolicy()),
	)
}

// progress is the configured progress callback, with kill points "extract.{event kind}"
// (extract.job.progress, extract.file.bytes, …) when the chaos suite asks for them.
func (r *Runner) progress() extract.Progress {
	p := r.opts.Progress
	if !killpoint.Enabled() {
		return p
	}
	return func(e extract.Event) {
		killpoint.Reach("extract." + string(e.Kind))
		if p != nil {
			p(e)
		}
	}
}

// request is the export request of a group: its since is the committed watermark in
// incremental mode, so a failed run repeats the same window.
func (r *Runner) request(ctx context.Context, group string, gs *GroupSummary) (export.Request, error) {
	if err := r.recoverPending(ctx, group); err != nil {
		return export.Request{}, err
	}
	req := r.exportRequest(group)
	if t, ok := r.cfg.SinceInstant(); ok { // a backfill from a scheduler's data interval
		req.Since = t
		gs.Since = t.Format(time.RFC3339Nano)
	}
	if r.cfg.Since == "incremental" {
		wm, err := ReadWatermark(ctx, r.sink, group)
		if err != nil {
			return req, err
		}
		if wm != nil {
			req.Since = wm.TransactionTime
			gs.Since = wm.TransactionTime.Format(time.RFC3339Nano)
			gs.Watermark = gs.Since
		}
	}
	return req, nil
}

// classify makes the export lifecycle's typed errors tell the CLI what to do.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, extract.ErrRetryable), errors.Is(err, extract.ErrAuth):
		return err
	case errors.Is(err, export.ErrEmptyGroup):
		// Attributions end 90 days after they were made; DPC then answers 406.
		return fmt.Errorf("%w: %w: re-attest the group's patients (dpcetl groups add, or dpcetl roster sync) or drop the group from the config", config.ErrInvalid, err)
	case errors.Is(err, export.ErrJobExpired), errors.Is(err, export.ErrJobNotFound),
		errors.Is(err, export.ErrJobFailed), errors.Is(err, export.ErrDeadline),
		errors.Is(err, download.ErrFileExpired):
		// A new job fixes these: the state was dropped, a rerun starts afresh.
		return fmt.Errorf("%w (%w)", err, extract.ErrRetryable)
	}
	return err
}

// export joins or starts the group's job and waits for it.
func (r *Runner) export(ctx context.Context, group string, gs *GroupSummary) (*export.Job, error) {
	start := r.now()
	req, err := r.request(ctx, group, gs)
	if err != nil {
		return nil, err
	}
	job, err := r.exportClient().Run(ctx, r.jobsDir(), req)
	gs.Durations["export"] += r.now().Sub(start).Seconds()
	if err != nil {
		return nil, classify(err)
	}
	r.noteJob(gs, job.ID, job.Manifest)
	r.log.Info("export complete", "group", group, "job", job.ID, "rejoined", job.Rejoined,
		"transaction_time", job.Manifest.TransactionTime, "files", len(job.Manifest.Files()))
	return job, nil
}

func (r *Runner) noteJob(gs *GroupSummary, jobID string, m *export.Manifest) {
	gs.JobID = jobID
	if m == nil {
		return
	}
	gs.JobState = "COMPLETED"
	gs.TransactionTime = m.TransactionTime.UTC().Format(time.RFC3339Nano)
	for _, o := range m.Files() {
		gs.Resources[o.Type] += o.Count
	}
}

// download fetches and verifies every file of the job (resuming what an earlier run verified).
func (r *Runner) download(ctx context.Context, job *export.Job, gs *GroupSummary) ([]extract.File, error) {
	start := r.now()
	if r.opts.OnDownloadPlan != nil {
		r.opts.OnDownloadPlan(len(job.Manifest.Files()))
	}
	files, err := r.downloader().Download(ctx, job.ID, job.Manifest.Files())
	gs.Durations["download"] += r.now().Sub(start).Seconds()
	if err != nil {
		if errorsIs(err, download.ErrFileExpired, extract.ErrUnsafeName, verify.ErrChecksum, verify.ErrLength, verify.ErrCount, verify.ErrStructure, verify.ErrManifest) {
			// The job's files are gone, unusable or failed verification twice: forget
			// the job so the rerun exports afresh instead of rejoining it forever.
			export.RemoveState(r.jobsDir(), gs.Group)
		}
		return nil, classify(err)
	}
	for _, f := range files {
		gs.Files++
		gs.Bytes += f.Bytes
		gs.VerifiedBy = addCounts(gs.VerifiedBy, map[string]int{f.VerifiedBy: 1})
	}
	return files, nil
}

// forEachGroup runs fn for every group, a few at a time, and folds the results into sum.
// Every group runs even when another fails; the errors are joined.
func (r *Runner) forEachGroup(ctx context.Context, sum *Summary, fn func(ctx context.Context, group string, gs *GroupSummary) error) error {
	var g errgroup.Group
	g.SetLimit(max(1, min(len(r.groups), r.cfg.Concurrency, 4)))
	var mu sync.Mutex
	var errs []error
	for _, group := range r.groups {
		g.Go(func() error {
			gs := newGroupSummary(group)
			err := fn(ctx, group, gs)
			if err != nil {
				gs.Status = "failed"
				gs.Error = r.red.String(err.Error())
				switch {
				case errors.Is(err, ErrStillRunning): // a sensor's "not yet", not a failure
					r.log.Info("export job still running", "group", group, "job", gs.JobID, "state", gs.JobState)
				case errors.Is(err, context.Canceled) || errors.Is(err, ErrInterrupted):
					r.log.Warn("group interrupted; a rerun resumes", "group", group)
				default:
					r.log.Error("group failed", "group", group, "err", err)
				}
				mu.Lock()
				errs = append(errs, fmt.Errorf("group %s: %w", group, err))
				mu.Unlock()
			}
			sum.add(gs)
			return nil
		})
	}
	g.Wait()
	return errors.Join(errs...)
}

func (r *Runner) newSummary() *Summary {
	s := newSummary()
	s.API = r.creds.BaseURL
	s.Destination = r.sink.URL("")
	if r.provSecs > 0 {
		s.Durations["provision"] = r.provSecs
	}
	return s
}

// removeLocal forgets a group's finished job: its state file, downloads and tables.
func (r *Runner) removeLocal(group, jobID string) {
	export.RemoveState(r.jobsDir(), group)
	// Names from the server: never let ".." turn a RemoveAll onto the state dir.
	if extract.CheckName("group id", group) != nil || extract.CheckName("job id", jobID) != nil {
		return
	}
	if dir, err := r.downloader().Dir(jobID); err == nil {
		os.RemoveAll(dir)
	}
	os.RemoveAll(r.tablesDir(group, jobID))
}

func errorsIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
