package download

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// fetch downloads, verifies and renames one file under the shared retry loop:
// transient failures are retried (an attempt that saved new bytes does not
// count), a verification failure is downloaded once more from scratch, and a
// second one moves the bytes to ".bad".
func (d *Downloader) fetch(ctx context.Context, jobID, final string, o export.Output) (extract.File, error) {
	exp := verify.Expect{Name: o.URL, Checksum: o.Checksum, Length: o.FileLength, Count: o.Count, Max: d.maxBytes, LooseCount: o.List == extract.ListError}
	done := func(p verify.Proof) extract.File {
		return extract.File{Type: o.Type, URL: o.URL, Path: final, SHA256: p.SHA256, Bytes: p.Bytes, Count: o.Count, Lines: p.Lines, JobID: jobID,
			List: o.List, VerifiedBy: p.By}
	}
	if !o.RequiresAccessToken {
		ctx = auth.WithoutBearer(ctx)
	}
	if _, err := verify.New(exp); err != nil {
		return extract.File{}, d.failed(jobID, o.URL, err, "")
	}
	if p, ok := d.skip(final, exp); ok {
		d.progress.Emit(extract.Event{Kind: extract.EventFileSkipped, JobID: jobID, URL: o.URL, Bytes: p.Bytes})
		return done(p), nil
	}
	t := &transfer{d: d, jobID: jobID, part: final + partSuffix, exp: exp, failedAt: -1}
	mismatches, tries := 0, 0
	var last error
	err := retry.Do(ctx, d.policy, d.limiter, func(n int) retry.Attempt {
		tries = n
		if last != nil {
			d.progress.Emit(extract.Event{Kind: extract.EventFileRetry, JobID: jobID, URL: o.URL, Attempt: n - 1, Err: last.Error()})
		}
		d.progress.Emit(extract.Event{Kind: extract.EventFileStart, JobID: jobID, URL: o.URL, Attempt: n})
		a := t.attempt(ctx)
		last = a.Err
		var ve *verify.Error
		if a.Err == nil || ctx.Err() != nil || !(errors.As(a.Err, &ve) && !errors.Is(a.Err, verify.ErrManifest) || errors.Is(a.Err, errDecode)) {
			return a
		}
		if mismatches++; mismatches > 1 {
			bad := final + badSuffix
			os.Remove(bad)
			if err := os.Rename(t.part, bad); err != nil {
				return retry.Attempt{Err: retry.Stop(d.failed(jobID, o.URL, errors.Join(a.Err, err), ""))}
			}
			return retry.Attempt{Err: retry.Stop(d.failed(jobID, o.URL, a.Err, bad))}
		}
		// Once more from scratch: the bytes may have been damaged in transit.
		os.Remove(t.part)
		a.Now = true
		return a
	})
	var fe *FileError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		return extract.File{}, err
	case ctx.Err() != nil:
		return extract.File{}, &FileError{URL: o.URL, Err: errors.Join(err, ctx.Err())}
	case errors.Is(err, extract.ErrRetryable):
		return extract.File{}, d.failed(jobID, o.URL, fmt.Errorf("giving up after %d attempts: %w", tries, err), "")
	default:
		return extract.File{}, d.failed(jobID, o.URL, err, "")
	}
	if err := verify.SaveProof(final, exp, t.proof); err != nil {
		return extract.File{}, d.failed(jobID, o.URL, err, "")
	}
	if err := d.finish(t.part, final); err != nil {
		return extract.File{}, d.failed(jobID, o.URL, err, "")
	}
	d.progress.Emit(extract.Event{Kind: extract.EventFileVerified, JobID: jobID, URL: o.URL, Bytes: t.proof.Bytes})
	return done(t.proof), nil
}

// skip proves a file an earlier run verified again, byte for byte, from disk.
// A file that no longer matches is removed and downloaded again.
func (d *Downloader) skip(final string, exp verify.Expect) (verify.Proof, bool) {
	if _, err := os.Stat(final); err != nil {
		return verify.Proof{}, false
	}
	sc := d.getScratch()
	defer d.putScratch(sc)
	p, err := verify.File(final, exp, sc.buf)
	if err != nil {
		os.Remove(final)
		return verify.Proof{}, false
	}
	return p, true
}

// finish renames the verified part into place; with sync on, the directory
// is synced so that the rename survives a crash.
func (d *Downloader) finish(part, final string) error {
	if err := os.Rename(part, final); err != nil {
		return err
	}
	if !d.sync {
		return nil
	}
	dir, err := os.Open(filepath.Dir(final))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
