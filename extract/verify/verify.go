// Package verify holds every proof that bytes are what the server sent: sha256, length,
// count and JSON structure against the manifest, and re-proving files on disk.
package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/extract"
)

// Sentinel errors; a *Error wraps exactly one of them. All but ErrManifest also
// wrap extract.ErrRetryable: bytes damaged in transit may arrive whole next time.
var (
	ErrChecksum = errors.New("checksum mismatch")
	ErrLength   = errors.New("length mismatch")
	// ErrCount means the file's bytes match the checksum but it does not hold
	// as many NDJSON lines as the manifest's count says resources.
	ErrCount = errors.New("resource count mismatch")
	// ErrManifest means the manifest's checksum cannot be used (not sha256:<64 hex>).
	ErrManifest = errors.New("unusable manifest checksum")
	// ErrStructure means a file without a checksum is not one JSON object per line.
	ErrStructure = errors.New("not one JSON resource per line")
)

// MaxRatio bounds decoded bytes per byte of file_length. file_length counts the
// gzip body or the decoded bytes; FHIR NDJSON compresses about 10-30:1 (deflate's
// limit is 1032:1), so more than this is a gzip bomb or an endless body, not the file.
const MaxRatio = 256

// Expect is what the job manifest promises about one file.
type Expect struct {
	Name     string // the file (URL or name) named in errors
	Checksum string // "sha256:<hex>" as in the manifest (a bare 64-hex value is accepted too)
	Length   int64  // file_length; <= 0 means the manifest gave none
	Count    int    // the manifest's resource count; <= 0 means not checked
	Max      int64  // decoded bytes allowed (0: MaxRatio x Length, unbounded without Length)
	// LooseCount makes Count informative (error files): lines that disagree are
	// reported in Proof.Lines, not a failure.
	LooseCount bool
}

// Error is a failed verification of one file.
type Error struct {
	File string
	Err  error // ErrChecksum, ErrLength, ErrCount, ErrStructure or ErrManifest
	Want string
	Got  string
}

func (e *Error) Error() string {
	if e.Err == ErrStructure { // the manifest said nothing: the rule is NDJSON's
		return fmt.Sprintf("verify %s: %v: %s", e.File, e.Err, e.Got)
	}
	return fmt.Sprintf("verify %s: %v: manifest says %s, received %s", e.File, e.Err, e.Want, e.Got)
}

// Unwrap gives the sentinel and, for data damaged in transit, extract.ErrRetryable.
func (e *Error) Unwrap() []error {
	if e.Err == ErrManifest {
		return []error{e.Err}
	}
	return []error{e.Err, extract.ErrRetryable}
}

// Proof is what a verified file was proven to be.
type Proof struct {
	URL    string `json:"url"`    // the file's URL (Expect.Name)
	SHA256 string `json:"sha256"` // hex sha256 of the decoded bytes (equal to the manifest's when it has one)
	Bytes  int64  `json:"bytes"`  // decoded length
	Lines  int64  `json:"lines"`  // NDJSON lines
	By     string `json:"by"`     // extract.VerifiedChecksum, VerifiedLength, VerifiedCount or VerifiedStructure
}

// Verifier hashes and counts decoded bytes written to it. It is an io.Writer so
// a resumed download can feed it the prefix already on disk before the rest.
type Verifier struct {
	exp   Expect
	want  []byte
	max   int64
	h     hash.Hash
	n     int64
	lines int64
	last  byte
	json  *jsonLines // without a checksum: the structure check
	by    string     // set by Check
}

// New returns a verifier for one file. A checksum that is not sha256 fails
// here, before any byte is fetched. Without a checksum the verifier also
// checks that every line is one JSON object: a checksum makes that the
// transform's concern (the bytes are the server's), its absence makes it the
// one proof of a whole file that a length or count cannot give.
func New(exp Expect) (*Verifier, error) {
	var want []byte
	var js *jsonLines
	if exp.Checksum == "" {
		js = &jsonLines{}
	} else if w, err := ParseChecksum(exp.Checksum); err != nil {
		return nil, &Error{File: exp.Name, Err: ErrManifest, Want: fmt.Sprintf("%q", exp.Checksum), Got: err.Error()}
	} else {
		want = w
	}
	limit := exp.Max
	if l := exp.Length * MaxRatio; exp.Length > 0 && (limit <= 0 || l < limit) {
		limit = l
	}
	return &Verifier{exp: exp, want: want, max: limit, h: NewHash(), json: js}, nil
}

// NewHash is the sha256 of every proof, for the sandbox's files as for the checks:
// the one place the project constructs one (issue 17).
func NewHash() hash.Hash { return sha256.New() }

// Sum is the hex sha256 of b.
func Sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// MAC is HMAC-SHA256 of msg under key (the sandbox's macaroon signatures).
func MAC(key, msg []byte) []byte {
	m := hmac.New(NewHash, key)
	m.Write(msg)
	return m.Sum(nil)
}

// ParseChecksum reads a manifest checksum, "sha256:<64 hex>" or bare hex.
func ParseChecksum(s string) ([]byte, error) {
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

// Write hashes and counts p. It fails once the bytes are more than the
// manifest allows (Max, or more lines than resources), so that a gzip bomb
// or an endless body stops early instead of filling the disk.
func (v *Verifier) Write(p []byte) (int, error) {
	v.h.Write(p)
	v.n += int64(len(p))
	if len(p) > 0 {
		v.lines += int64(bytes.Count(p, newline))
		v.last = p[len(p)-1]
	}
	if v.json != nil {
		if v.json.write(p); v.json.err != nil {
			return len(p), v.structureError()
		}
	}
	switch {
	case v.max > 0 && v.n > v.max:
		return len(p), &Error{File: v.exp.Name, Err: ErrLength, Want: fmt.Sprintf("%d bytes (file_length %d)", v.max, v.exp.Length), Got: fmt.Sprintf("more than %d bytes", v.max)}
	case v.exp.Count > 0 && !v.exp.LooseCount && v.lines > int64(v.exp.Count):
		return len(p), &Error{File: v.exp.Name, Err: ErrCount, Want: fmt.Sprintf("%d resources", v.exp.Count), Got: fmt.Sprintf("more than %d lines", v.exp.Count)}
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

// Proof is what the bytes seen so far are; valid as a proof after Check.
func (v *Verifier) Proof() Proof {
	return Proof{URL: v.exp.Name, SHA256: hex.EncodeToString(v.h.Sum(nil)), Bytes: v.n, Lines: v.Lines(), By: v.by}
}

func (v *Verifier) structureError() error {
	return &Error{File: v.exp.Name, Err: ErrStructure, Got: v.json.err.Error()}
}

// Check compares what was seen with the manifest. raw is the number of bytes
// that came over the wire (the gzip body) or -1 when unknown (a resumed
// transfer). file_length may count either the gzip body or the decoded bytes
// (both occur at DPC), so either match is accepted; the checksum always
// covers the decoded bytes. When raw is unknown and the decoded length does
// not match, the length cannot be checked: the checksum alone decides, and
// without one the file is not length-verified (Proof.By says what was).
func (v *Verifier) Check(raw int64) error {
	if got := v.h.Sum(nil); v.want != nil && !bytesEqual(got, v.want) {
		return &Error{File: v.exp.Name, Err: ErrChecksum, Want: "sha256:" + hex.EncodeToString(v.want), Got: "sha256:" + hex.EncodeToString(got)}
	}
	if v.json != nil && v.json.end() != nil {
		return v.structureError()
	}
	lengthOK := v.exp.Length > 0 && (v.exp.Length == v.n || raw >= 0 && v.exp.Length == raw)
	if v.exp.Length > 0 && !lengthOK && raw >= 0 {
		return &Error{File: v.exp.Name, Err: ErrLength, Want: fmt.Sprintf("%d bytes", v.exp.Length),
			Got: fmt.Sprintf("%d decoded bytes (%d on the wire)", v.n, raw)}
	}
	countOK := v.exp.Count > 0 && !v.exp.LooseCount
	if countOK && int64(v.exp.Count) != v.Lines() {
		return &Error{File: v.exp.Name, Err: ErrCount, Want: fmt.Sprintf("%d resources", v.exp.Count), Got: fmt.Sprintf("%d lines", v.Lines())}
	}
	switch {
	case v.want != nil:
		v.by = extract.VerifiedChecksum
	case lengthOK:
		v.by = extract.VerifiedLength
	case countOK:
		v.by = extract.VerifiedCount
	default:
		v.by = extract.VerifiedStructure
	}
	return nil
}

// Resumable reports whether a cut transfer may continue where it stopped:
// only with a checksum, since nothing else finds the end of a file whose
// ranged answers do not tell its size (DPC's), nor proves the joined bytes.
func (v *Verifier) Resumable() bool { return v.want != nil }

// Complete reports whether the bytes seen so far are the whole file: how a
// resumed download learns it reached the end, since DPC's ranged answers do
// not tell the file size. Without a checksum it is never sure.
func (v *Verifier) Complete() bool { return v.want != nil && v.Check(-1) == nil }

// Reset forgets every byte seen (a transfer restarting from scratch).
func (v *Verifier) Reset() {
	v.h.Reset()
	v.n, v.lines, v.last, v.by = 0, 0, 0, ""
	if v.json != nil {
		v.json.reset()
	}
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

// File re-hashes a file on disk against the manifest: a file verified by an
// earlier process is proven again, byte for byte, before it is used. Without a
// checksum the manifest cannot tell the bytes are the ones that process
// verified, so they must also hash to the proof it saved (SaveProof), for the
// same URL; its By stands, since the bytes are the same.
func File(path string, exp Expect, buf []byte) (Proof, error) {
	v, err := New(exp)
	if err != nil {
		return Proof{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Proof{}, err
	}
	defer f.Close()
	if err := v.Load(f, buf); err != nil {
		return Proof{}, err
	}
	if err := v.Check(-1); err != nil {
		return Proof{}, err
	}
	p := v.Proof()
	if v.want != nil {
		return p, nil
	}
	var saved Proof
	b, err := os.ReadFile(ProofPath(path))
	if err == nil {
		err = json.Unmarshal(b, &saved)
	}
	switch {
	case err != nil:
		return Proof{}, fmt.Errorf("verify %s: no saved proof for a file without a checksum: %w", exp.Name, err)
	case saved.URL != p.URL || saved.SHA256 != p.SHA256 || saved.Bytes != p.Bytes:
		return Proof{}, &Error{File: exp.Name, Err: ErrChecksum, Want: "sha256:" + saved.SHA256 + " (saved proof)", Got: "sha256:" + p.SHA256}
	case saved.By == extract.VerifiedLength && exp.Length > 0, saved.By == extract.VerifiedCount && exp.Count > 0 && !exp.LooseCount:
		p.By = saved.By
	}
	return p, nil
}

// ProofPath is where SaveProof keeps the proof of the verified file at path.
func ProofPath(path string) string { return path + ".proof" }

// SaveProof records p beside the verified file at path when the manifest has
// no checksum, for File to check in a later process. Write it before the file
// is renamed into place: a file without its proof is downloaded again.
func SaveProof(path string, exp Expect, p Proof) error {
	if exp.Checksum != "" {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(ProofPath(path), b, 0o600)
}

// Load feeds everything r holds to v (the prefix of a resumed download).
func (v *Verifier) Load(r io.Reader, buf []byte) error {
	// struct{ io.Reader } hides os.File's WriteTo, which allocates a buffer.
	_, err := io.CopyBuffer(v, struct{ io.Reader }{r}, buf)
	return err
}

// RangeStart is the first byte of a 206 answer's Content-Range
// ("bytes S-E/LEN"). Only S is trusted: DPC's LEN is the range length, not the
// file size, and its E is where the range would end if the file were longer.
func RangeStart(contentRange string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(contentRange), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	s, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	return s, err == nil && s >= 0
}

// Copy streams src into dst and v, then checks v against the manifest; raw,
// if not nil, reports the wire byte count (a gzip body's) for Check. A stream
// that ends in an error (cut, reset, corrupt gzip) returns that error and
// never verifies: only a clean EOF is checked.
func Copy(dst io.Writer, src io.Reader, v *Verifier, raw func() int64, buf []byte) (int64, error) {
	n, err := io.CopyBuffer(io.MultiWriter(dst, v), src, buf)
	if err != nil {
		return n, err
	}
	wire := v.n
	if raw != nil {
		wire = raw()
	}
	return n, v.Check(wire)
}
