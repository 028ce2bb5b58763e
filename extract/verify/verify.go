// Package verify proves that a stream of decoded export bytes is what DPC sent:
// sha256 over the decoded bytes and the manifest's file_length, checked at EOF.
package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Sentinel errors; a *Error wraps exactly one of them.
var (
	ErrChecksum = errors.New("checksum mismatch")
	ErrLength   = errors.New("length mismatch")
	// ErrCount means the file's bytes match the checksum but it does not hold
	// as many NDJSON lines as the manifest's count says resources.
	ErrCount = errors.New("resource count mismatch")
	// ErrManifest means the manifest's checksum cannot be used (not sha256:<64 hex>).
	ErrManifest = errors.New("unusable manifest checksum")
)

// Expect is what the job manifest promises about one file.
type Expect struct {
	Name     string // the file (URL or name) named in errors
	Checksum string // "sha256:<hex>" as in the manifest (a bare 64-hex value is accepted too)
	Length   int64  // file_length; <= 0 means the manifest gave none
	Count    int    // the manifest's resource count; <= 0 means not checked
}

// Error is a failed verification of one file.
type Error struct {
	File string
	Err  error // ErrChecksum, ErrLength or ErrManifest
	Want string
	Got  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("verify %s: %v: manifest says %s, received %s", e.File, e.Err, e.Want, e.Got)
}

func (e *Error) Unwrap() error { return e.Err }

// Verifier hashes and counts decoded bytes written to it. It is an io.Writer so
// a resumed download can feed it the prefix already on disk before the rest.
type Verifier struct {
	exp   Expect
	want  []byte
	h     hash.Hash
	n     int64
	lines int64
	last  byte
}

// New returns a verifier for one file. A checksum that is not sha256 fails
// here, before any byte is fetched.
func New(exp Expect) (*Verifier, error) {
	want, err := parseChecksum(exp.Checksum)
	if err != nil {
		return nil, &Error{File: exp.Name, Err: ErrManifest, Want: fmt.Sprintf("%q", exp.Checksum), Got: err.Error()}
	}
	return &Verifier{exp: exp, want: want, h: sha256.New()}, nil
}

func parseChecksum(s string) ([]byte, error) {
	hexs := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if !strings.EqualFold(s[:i], "sha256") {
			return nil, fmt.Errorf("algorithm %q is not sha256", s[:i])
		}
		hexs = s[i+1:]
	}
	b, err := hex.DecodeString(strings.ToLower(hexs))
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("not 64 hex digits")
	}
	return b, nil
}

// Write hashes and counts p; it never fails.
func (v *Verifier) Write(p []byte) (int, error) {
	v.h.Write(p)
	v.n += int64(len(p))
	if len(p) > 0 {
		v.lines += int64(bytes.Count(p, newline))
		v.last = p[len(p)-1]
	}
	return len(p), nil
}

var newline = []byte{'\n'}

// Lines is the number of NDJSON lines seen so far (a last line without a
// newline counts).
func (v *Verifier) Lines() int64 {
	if v.n > 0 && v.last != '\n' {
		return v.lines + 1
	}
	return v.lines
}

// N is the number of decoded bytes seen so far.
func (v *Verifier) N() int64 { return v.n }

// Sum is the hex sha256 of the bytes seen so far.
func (v *Verifier) Sum() string { return hex.EncodeToString(v.h.Sum(nil)) }

// Check compares what was seen with the manifest. raw is the number of bytes
// that came over the wire (the gzip body) or -1 when unknown (a resumed
// transfer). file_length may count either the gzip body or the decoded bytes
// (both occur at DPC), so either match is accepted; the checksum always
// covers the decoded bytes. When raw is unknown and the decoded length does
// not match, the length cannot be checked and the checksum alone decides.
func (v *Verifier) Check(raw int64) error {
	if got := v.h.Sum(nil); !bytesEqual(got, v.want) {
		return &Error{File: v.exp.Name, Err: ErrChecksum, Want: "sha256:" + hex.EncodeToString(v.want), Got: "sha256:" + hex.EncodeToString(got)}
	}
	if v.exp.Length > 0 && v.exp.Length != v.n && raw >= 0 && v.exp.Length != raw {
		return &Error{File: v.exp.Name, Err: ErrLength, Want: fmt.Sprintf("%d bytes", v.exp.Length),
			Got: fmt.Sprintf("%d decoded bytes (%d on the wire)", v.n, raw)}
	}
	if v.exp.Count > 0 && int64(v.exp.Count) != v.Lines() {
		return &Error{File: v.exp.Name, Err: ErrCount, Want: fmt.Sprintf("%d resources", v.exp.Count), Got: fmt.Sprintf("%d lines", v.Lines())}
	}
	return nil
}

func bytesEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// Reader passes decoded bytes through a Verifier and, at EOF, returns the
// verification error instead of io.EOF when the bytes are not the promised ones.
// Errors from the underlying reader are returned as they are and are never
// mistaken for EOF, so a stream cut short can never verify.
type Reader struct {
	r    io.Reader
	v    *Verifier
	raw  func() int64
	err  error // sticky: the verdict or the first error
	done bool
}

// NewReader wraps r. raw, if not nil, reports the wire byte count at EOF
// (for a gzip body); nil means the wire bytes are the decoded bytes.
func NewReader(r io.Reader, v *Verifier, raw func() int64) *Reader {
	return &Reader{r: r, v: v, raw: raw}
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	if n > 0 {
		r.v.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		raw := r.v.n
		if r.raw != nil {
			raw = r.raw()
		}
		if verr := r.v.Check(raw); verr != nil {
			r.err = verr
		} else {
			r.err = io.EOF
			r.done = true
		}
		return n, r.err
	case err != nil:
		r.err = err
	}
	return n, err
}

// Verified reports whether the stream reached EOF and matched the manifest.
func (r *Reader) Verified() bool { return r.done }

// Verifier returns the underlying verifier (for Sum and N).
func (r *Reader) Verifier() *Verifier { return r.v }

// CountingReader counts the bytes read through it (the wire bytes under a
// gzip decoder).
type CountingReader struct {
	R io.Reader
	N int64
}

// Read implements io.Reader.
func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

// Reset forgets every byte seen (a transfer restarting from scratch).
func (v *Verifier) Reset() {
	v.h.Reset()
	v.n, v.lines, v.last = 0, 0, 0
}
