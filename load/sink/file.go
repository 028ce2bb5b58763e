package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tempMarker is part of every temporary file name; List never reports such files.
const tempMarker = ".tmp-"

// File is a Sink on a local directory. Objects are written to a hidden temp file in the
// target directory, fsynced, then renamed into place, so a crash leaves either the old
// object, the new one, or a hidden ".{name}.tmp-*" file that readers ignore.
type File struct {
	root string
}

// NewFile returns a sink rooted at dir, creating it if needed.
func NewFile(dir string) (*File, error) {
	if dir == "" {
		return nil, errors.New("sink: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sink: %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("sink: create root: %w", err)
	}
	return &File{root: abs}, nil
}

// Root returns the absolute directory of the sink.
func (s *File) Root() string { return s.root }

func (s *File) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// URL implements Sink.
func (s *File) URL(key string) string {
	return "file://" + filepath.ToSlash(s.path(key))
}

// Close implements Sink.
func (s *File) Close() error { return nil }

// Probe implements Sink: a probe file written, read back and deleted proves the directory
// is writable by this process.
func (s *File) Probe(ctx context.Context) error { return probe(ctx, s) }

// NewWriter implements Sink.
func (s *File) NewWriter(ctx context.Context, key string) (Writer, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.URL(key), err)
	}
	final := s.path(key)
	dir := filepath.Dir(final)
	var f *os.File
	var err error
	// A concurrent Delete may prune the directory between MkdirAll and CreateTemp; retry.
	for attempt := 0; attempt < 5; attempt++ {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			continue
		}
		if f, err = os.CreateTemp(dir, "."+filepath.Base(final)+tempMarker+"*"); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", s.URL(key), err)
	}
	w := &fileWriter{ctx: ctx, f: f, final: final, url: s.URL(key)}
	// Cancelling ctx aborts even if the caller is blocked elsewhere and never calls Abort.
	w.watch(ctx, w.discardLocked)
	return w, nil
}

type fileWriter struct {
	abortable
	ctx   context.Context
	f     *os.File
	final string
	url   string
	err   error // first write error; makes Commit fail
}

func (w *fileWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.url, ErrClosed)
	}
	if err := w.ctx.Err(); err != nil {
		return 0, fmt.Errorf("write %s: %w", w.url, err)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.url, err)
		return n, w.err
	}
	return n, nil
}

func (w *fileWriter) Commit() error {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.closedErr(w.url)
	}
	fail := func(err error) error {
		w.discardLocked()
		return fmt.Errorf("commit %s: %w", w.url, err)
	}
	if w.err != nil {
		w.discardLocked()
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return fail(err)
	}
	// CreateTemp makes 0600 files; published data must be readable by the engines' users.
	if err := w.f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		return fail(err)
	}
	w.done = true
	// Persist the rename itself; without this a power loss could forget the new name.
	if err := syncDir(filepath.Dir(w.final)); err != nil {
		return fmt.Errorf("commit %s: sync directory: %w", w.url, err)
	}
	return nil
}

func (w *fileWriter) discardLocked() error {
	w.done = true
	_ = w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort %s: %w", w.url, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get implements Sink.
func (s *File) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("get %s: %w", s.URL(key), ErrNotExist)
		}
		return nil, fmt.Errorf("get %s: %w", s.URL(key), err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", s.URL(key), ErrNotExist)
	}
	return f, nil
}

// Stat implements Sink.
func (s *File) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	st, err := os.Stat(s.path(key))
	if err != nil || st.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return Object{}, fmt.Errorf("stat %s: %w", s.URL(key), ErrNotExist)
		}
		return Object{}, fmt.Errorf("stat %s: %w", s.URL(key), err)
	}
	return Object{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// List implements Sink.
func (s *File) List(ctx context.Context, prefix string) ([]Object, error) {
	// Walk the deepest directory that the prefix fully names.
	dir := path.Dir(prefix + "x")
	if dir == "." {
		dir = ""
	}
	if dir != "" {
		if err := ValidateKey(dir); err != nil {
			return nil, err
		}
	}
	start := filepath.Join(s.root, filepath.FromSlash(dir))
	var out []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || isTemp(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while listing
			}
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.URL(prefix), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// Delete implements Sink. Empty parent directories are removed so deleted partitions vanish.
func (s *File) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", s.URL(key), err)
	}
	s.pruneDirs(path.Dir(key))
	return nil
}

// pruneDirs removes empty directories from dir upwards, stopping at the root or a non-empty one.
func (s *File) pruneDirs(dir string) {
	for dir != "." && dir != "/" && dir != "" {
		if os.Remove(s.path(dir)) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

// DeletePrefix implements Sink.
func (s *File) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a non-empty prefix", ErrInvalidKey)
	}
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.RemoveAll(s.path(strings.TrimSuffix(prefix, "/"))); err != nil {
		return fmt.Errorf("delete %s: %w", s.URL(prefix), err)
	}
	s.pruneDirs(path.Dir(strings.TrimSuffix(prefix, "/")))
	return nil
}

// Rename implements Sink.
func (s *File) Rename(ctx context.Context, src, dst string) error {
	if err := ValidateKey(src); err != nil {
		return err
	}
	if err := ValidateKey(dst); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	target := s.path(dst)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			continue
		}
		if err = os.Rename(s.path(src), target); err == nil {
			break
		}
		if _, serr := os.Stat(s.path(src)); serr != nil {
			break // the source is missing, not the target directory
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w (%v)", ErrNotExist, err)
		}
		return fmt.Errorf("rename %s to %s: %w", s.URL(src), s.URL(dst), err)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return fmt.Errorf("rename %s to %s: sync directory: %w", s.URL(src), s.URL(dst), err)
	}
	s.pruneDirs(path.Dir(src))
	return nil
}
