package verify_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract/verify"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func ndjson(lines int) []byte {
	var b bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&b, `{"resourceType":"Patient","id":"%d","name":[{"family":"Doe%d"}]}`+"\n", i, i)
	}
	return b.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stream is a source with its verifier, drained by readAll the way download does.
type stream struct {
	src io.Reader
	v   *verify.Verifier
	raw func() int64
	ok  bool
}

func newReader(src io.Reader, v *verify.Verifier, raw func() int64) *stream {
	return &stream{src: src, v: v, raw: raw}
}

func (s *stream) Verified() bool { return s.ok }

func readAll(s *stream) ([]byte, error) {
	var out bytes.Buffer
	_, err := verify.Copy(&out, s.src, s.v, s.raw, make([]byte, 512))
	s.ok = err == nil
	return out.Bytes(), err
}

func TestReaderPlain(t *testing.T) {
	data := ndjson(500)
	wrap := map[string]func(io.Reader) io.Reader{
		"direct":          func(r io.Reader) io.Reader { return r },
		"onebyte":         iotest.OneByteReader,
		"half":            iotest.HalfReader,
		"dataerr":         iotest.DataErrReader,
		"onebyte+dataerr": func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) },
	}
	tests := []struct {
		name    string
		data    []byte
		sum     string
		length  int64
		wantErr error
	}{
		{"ok", data, sum(data), int64(len(data)), nil},
		{"ok no length", data, sum(data), 0, nil},
		{"ok uppercase hex", data, strings.ToUpper(sum(data)[7:]), int64(len(data)), nil},
		{"flipped byte", flip(data, 1000), sum(data), int64(len(data)), verify.ErrChecksum},
		{"truncated", data[:len(data)-1], sum(data), int64(len(data)), verify.ErrChecksum},
		{"extra byte", append(append([]byte{}, data...), '\n'), sum(data), int64(len(data)), verify.ErrChecksum},
		{"wrong length", data, sum(data), int64(len(data)) + 1, verify.ErrLength},
		{"empty ok", nil, sum(nil), 0, nil},
	}
	for _, tc := range tests {
		for wn, w := range wrap {
			t.Run(tc.name+"/"+wn, func(t *testing.T) {
				v, err := verify.New(verify.Expect{Name: "x.ndjson", Checksum: tc.sum, Length: tc.length})
				if err != nil {
					t.Fatal(err)
				}
				r := newReader(w(bytes.NewReader(tc.data)), v, nil)
				got, err := readAll(r)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if r.Verified() != (tc.wantErr == nil) {
					t.Fatalf("Verified() = %v with err %v", r.Verified(), err)
				}
				if !bytes.Equal(got, tc.data) {
					t.Fatal("bytes passed through changed")
				}
				if err != nil {
					var ve *verify.Error
					if !errors.As(err, &ve) || ve.File != "x.ndjson" || !strings.Contains(err.Error(), "x.ndjson") {
						t.Fatalf("error does not name the file: %v", err)
					}
				}
			})
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0x01
	return c
}

// Errors in the middle of the stream pass through and never verify.
func TestReaderMidStreamErrors(t *testing.T) {
	data := ndjson(200)
	boom := errors.New("connection reset by peer")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"err after half", io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(boom)), boom},
		{"timeout", iotest.TimeoutReader(bytes.NewReader(data)), iotest.ErrTimeout},
		{"unexpected eof", io.MultiReader(bytes.NewReader(data[:10]), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := verify.New(verify.Expect{Name: "f", Checksum: sum(data), Length: int64(len(data))})
			r := newReader(tc.r, v, nil)
			_, err := readAll(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if r.Verified() {
				t.Fatal("a stream cut short verified")
			}
		})
	}
}

// file_length may be the gzip body's size or the decoded size; both verify,
// anything else does not.
func TestReaderGzipLength(t *testing.T) {
	data := ndjson(1000)
	z := gz(t, data)
	tests := []struct {
		name   string
		length int64
		want   error
	}{
		{"gzip length", int64(len(z)), nil},
		{"decoded length", int64(len(data)), nil},
		{"neither", int64(len(z)) + 7, verify.ErrLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{R: iotest.HalfReader(bytes.NewReader(z))}
			zr, err := gzip.NewReader(cr)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := verify.New(verify.Expect{Name: "g", Checksum: sum(data), Length: tc.length})
			r := newReader(iotest.OneByteReader(zr), v, func() int64 { return cr.N })
			if _, err := readAll(r); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// A corrupted or truncated gzip body fails in the decoder and never verifies.
func TestReaderCorruptGzip(t *testing.T) {
	data := ndjson(1000)
	z := gz(t, data)
	for name, body := range map[string][]byte{
		"truncated": z[:len(z)-20],
		"flipped":   flip(z, len(z)/2),
	} {
		t.Run(name, func(t *testing.T) {
			cr := &countingReader{R: bytes.NewReader(body)}
			zr, err := gzip.NewReader(cr)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := verify.New(verify.Expect{Name: "g", Checksum: sum(data), Length: int64(len(z))})
			r := newReader(zr, v, func() int64 { return cr.N })
			_, err = readAll(r)
			if err == nil || r.Verified() {
				t.Fatalf("corrupt gzip verified (err %v)", err)
			}
		})
	}
}

// A resumed transfer feeds the prefix already on disk, then the rest; the wire
// length is unknown (-1), so only the checksum and decoded length can decide.
func TestVerifierResume(t *testing.T) {
	data := ndjson(300)
	z := gz(t, data)
	for _, tc := range []struct {
		name   string
		rest   []byte
		length int64
		want   error
	}{
		{"ok gzip length", data[1000:], int64(len(z)), nil},
		{"ok decoded length", data[1000:], int64(len(data)), nil},
		{"wrong rest", flip(data, 2000)[1000:], int64(len(z)), verify.ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := verify.New(verify.Expect{Name: "r", Checksum: sum(data), Length: tc.length})
			v.Write(data[:1000])
			r := newReader(bytes.NewReader(tc.rest), v, func() int64 { return -1 })
			if _, err := readAll(r); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if v.N() != int64(len(data)) {
				t.Fatalf("N = %d", v.N())
			}
		})
	}
}

func TestNewBadChecksum(t *testing.T) {
	for _, c := range []string{"md5:abcd", "sha256:xyz", "sha256:" + strings.Repeat("a", 62)} {
		if _, err := verify.New(verify.Expect{Name: "m", Checksum: c}); !errors.Is(err, verify.ErrManifest) {
			t.Errorf("%q: err = %v, want ErrManifest", c, err)
		}
	}
}

func ExampleCopy() {
	data := []byte(`{"resourceType":"Patient","id":"1"}` + "\n")
	v, _ := verify.New(verify.Expect{Name: "1.patient.ndjson", Checksum: sum(data), Length: int64(len(data))})
	_, err := verify.Copy(io.Discard, bytes.NewReader(data), v, nil, nil)
	fmt.Println(err, v.N())

	v, _ = verify.New(verify.Expect{Name: "1.patient.ndjson", Checksum: sum(data)})
	_, err = verify.Copy(io.Discard, bytes.NewReader(data[:10]), v, nil, nil)
	fmt.Println(errors.Is(err, verify.ErrChecksum))
	// Output:
	// <nil> 36
	// true
}

func TestCount(t *testing.T) {
	data := ndjson(10)
	noNL := data[:len(data)-1]
	for _, tc := range []struct {
		name  string
		data  []byte
		count int
		want  error
	}{
		{"match", data, 10, nil},
		{"not checked", data, 0, nil},
		{"last line without newline", noNL, 10, nil},
		{"fewer lines than count", data, 11, verify.ErrCount},
		{"more lines than count", data, 9, verify.ErrCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := verify.New(verify.Expect{Name: "c", Checksum: sum(tc.data), Count: tc.count})
			_, err := readAll(newReader(iotest.HalfReader(bytes.NewReader(tc.data)), v, nil))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if v.Lines() != 10 {
				t.Fatalf("Lines = %d", v.Lines())
			}
		})
	}
}

// countingReader counts the wire bytes under a gzip decoder.
type countingReader struct {
	R io.Reader
	N int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
