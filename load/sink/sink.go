// Package sink stores objects on local disk or S3 behind one small interface.
// Writers make nothing visible until Commit, so a failed or cancelled write never leaves a partial object.
package sink

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is returned (wrapped) by Get and Stat when the key has no committed object.
var ErrNotExist = errors.New("object does not exist")

// ErrInvalidKey is returned (wrapped) when a key is empty, absolute, or contains "." / ".." / empty segments.
var ErrInvalidKey = errors.New("invalid object key")

// Why a store refused an operation, for exit codes and retry decisions. Errors from the
// store wrap at most one of them; an unclassified error is a bug or an unknown failure.
var (
	// ErrAccessDenied: the store refused the credentials or the permission (wrong key or
	// secret, bad signature, expired token, a policy). Retrying does not help.
	ErrAccessDenied = errors.New("access denied")
	// ErrMisconfigured: the destination is not what the configuration says: no such bucket,
	// wrong region, unknown AWS profile, no credentials found. Fix the configuration.
	ErrMisconfigured = errors.New("destination misconfigured")
	// ErrUnavailable: throttling, a server error or the network. Retry later.
	ErrUnavailable = errors.New("destination unavailable")
)

// ErrClosed is returned by a Writer used after Commit or Abort.
var ErrClosed = errors.New("writer already committed or aborted")

// Object describes a committed object.
type Object struct {
	Key     string    // slash-separated, relative to the sink root
	Size    int64     // bytes
	ModTime time.Time // last modification (commit) time
}

// Sink is a store of objects addressed by slash-separated keys relative to the sink's root.
// Implementations must be safe for concurrent use. A new store needs one file implementing it.
type Sink interface {
	// NewWriter starts an object. Nothing is visible at key until Commit returns nil.
	// Cancelling ctx aborts the write; it never commits.
	NewWriter(ctx context.Context, key string) (Writer, error)
	// Get opens a committed object; a missing key gives an error wrapping ErrNotExist.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes a committed object; a missing key gives an error wrapping ErrNotExist.
	Stat(ctx context.Context, key string) (Object, error)
	// List returns every committed object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes an object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object under prefix (which must end in "/"), including
	// leftovers of writes that never committed (temp files, incomplete multipart uploads).
	DeletePrefix(ctx context.Context, prefix string) error
	// Rename moves a committed object to dst, replacing dst. On disk it is atomic;
	// on S3 it is a server-side copy followed by a delete of src.
	Rename(ctx context.Context, src, dst string) error
	// URL returns the location of key as a URL (for errors, logs and manifests).
	URL(key string) string
	// Probe checks, before any work starts, that the sink can be used: it writes a probe
	// object, reads it back and deletes it. Failures wrap the classification errors above.
	Probe(ctx context.Context) error
	// Close releases resources held by the sink.
	Close() error
}

// probeDir holds probe objects; readers such as Spark and Hive skip "_" names.
const probeDir = "_dpcetl_probe"

// probe writes, reads back and deletes a small uniquely named object through s.
func probe(ctx context.Context, s Sink) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	key := fmt.Sprintf("%s/%d-%x", probeDir, time.Now().UnixNano(), id)
	want := []byte("dpcetl destination probe " + key + "\n")
	fail := func(step string, err error) error { return fmt.Errorf("probe %s: %s: %w", s.URL(key), step, err) }
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		return fail("write", err)
	}
	defer w.Abort()
	if _, err := w.Write(want); err != nil {
		return fail("write", err)
	}
	if err := w.Commit(); err != nil {
		return fail("write", err)
	}
	r, err := s.Get(ctx, key)
	if err != nil {
		return fail("read", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return fail("read", err)
	}
	if !bytes.Equal(got, want) {
		return fail("read", fmt.Errorf("read back %d bytes that differ from the %d written", len(got), len(want)))
	}
	if err := s.Delete(ctx, key); err != nil {
		return fail("delete", err)
	}
	return nil
}

// Writer receives the bytes of one object.
// Commit makes the object visible at its key (replacing any previous object) only if every
// byte was written; Abort discards it. Exactly one of them should be called; calling Abort
// after Commit is a no-op, so `defer w.Abort()` is safe.
type Writer interface {
	io.Writer
	Commit() error
	Abort() error
}

// abortable is the close-once state the file and S3 writers share. mu serialises Write, Commit
// and Abort; done is set by whichever of Commit, Abort or the end of the writer's context comes
// first. It provides the writers' Abort.
type abortable struct {
	mu      sync.Mutex
	done    bool
	cause   error        // why the writer was aborted by its context
	stop    func() bool  // stops watching the context
	discard func() error // throws the object away and sets done; called with mu held
}

// watch makes the end of ctx abort the writer even if its caller is blocked elsewhere and never
// calls Abort; discard is the writer's own abort, run with mu held.
func (a *abortable) watch(ctx context.Context, discard func() error) {
	a.discard = discard
	a.stop = context.AfterFunc(ctx, func() { a.abortCause(context.Cause(ctx)) })
}

// abortCause aborts because the writer's context ended, remembering why for Commit's error.
func (a *abortable) abortCause(cause error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return
	}
	a.cause = cause
	_ = a.discard()
}

// Abort discards the object unless the writer is already committed or aborted.
func (a *abortable) Abort() error {
	a.stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return nil
	}
	return a.discard()
}

// closedErr is Commit's error once the writer is done: why its context aborted it, or ErrClosed.
func (a *abortable) closedErr(url string) error {
	if a.cause != nil {
		return fmt.Errorf("commit %s: aborted: %w", url, a.cause)
	}
	return fmt.Errorf("commit %s: %w", url, ErrClosed)
}

// Options configure Open. Zero values mean defaults.
type Options struct {
	S3 S3Options
}

// Option configures Open.
type Option func(*Options)

// WithS3Options sets the S3 options; fields set in the URL query take precedence.
func WithS3Options(o S3Options) Option { return func(opts *Options) { opts.S3 = o } }

// Open returns the sink for a URL: "file:///abs/dir", a plain local path, or "s3://bucket/prefix".
// S3 URLs accept query parameters region, endpoint, path_style (true/false), sse (AES256|aws:kms),
// kms_key_id, part_size (bytes), concurrency and max_attempts.
func Open(ctx context.Context, rawURL string, opts ...Option) (Sink, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if rawURL == "" {
		return nil, errors.New("sink: empty URL")
	}
	// Plain paths, including Windows-ish ones, are local directories.
	if !strings.Contains(rawURL, "://") {
		return NewFile(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sink: parse %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("sink: file URL %q must not name a host (use file:///abs/path)", rawURL)
		}
		return NewFile(filepath.FromSlash(u.Path))
	case "s3":
		s3o, err := o.S3.fromQuery(u.Query())
		if err != nil {
			return nil, fmt.Errorf("sink: %s: %w", rawURL, err)
		}
		return NewS3(ctx, u.Host, strings.Trim(u.Path, "/"), s3o)
	default:
		return nil, fmt.Errorf("sink: unsupported URL scheme %q (want file:// or s3://)", u.Scheme)
	}
}

// ValidateKey reports whether key is a well-formed relative object key.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w %q: leading or trailing slash", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "", ".", "..":
			return fmt.Errorf("%w %q: empty, . or .. segment", ErrInvalidKey, key)
		}
		if strings.ContainsAny(seg, "\x00\\") {
			return fmt.Errorf("%w %q: NUL or backslash", ErrInvalidKey, key)
		}
	}
	return nil
}

func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("%w: prefix %q must end in /", ErrInvalidKey, prefix)
	}
	return ValidateKey(strings.TrimSuffix(prefix, "/"))
}

// Exists reports whether key has a committed object.
func Exists(ctx context.Context, s Sink, key string) (bool, error) {
	_, err := s.Stat(ctx, key)
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
