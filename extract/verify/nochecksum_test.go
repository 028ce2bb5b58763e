package verify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// TestStructure checks the JSON-per-line proof against encoding/json on each
// line, feeding the bytes whole and one at a time (every chunk boundary).
func TestStructure(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		ok   bool
	}{
		{"empty file", "", true},
		{"one line", `{"a":1}` + "\n", true},
		{"no final newline", `{"a":1}`, true},
		{"crlf", "{\"a\":1}\r\n{\"b\":2}\r\n", true},
		{"all kinds", `{"s":"x\"\\\/\b\f\n\r\tä\u00e9","n":[-0,0.5,1e3,-2E-7,12.5e+2],"t":true,"f":false,"z":null,"o":{},"a":[],"d":{"e":[{"f":[1,[2]]}]}}` + "\n", true},
		{"spaces around", "  { \"a\" : [ 1 , 2 ] }  \n", true},
		{"blank line", `{"a":1}` + "\n\n" + `{"a":2}` + "\n", false},
		{"array line", `[1]` + "\n", false},
		{"two objects", `{"a":1}{"a":2}` + "\n", false},
		{"pretty printed", "{\n\"a\":1}\n", false},
		{"cut in a string", `{"a":"abc`, false},
		{"cut after a value", `{"a":1`, false},
		{"trailing comma", `{"a":1,}` + "\n", false},
		{"missing colon", `{"a" 1}` + "\n", false},
		{"bad literal", `{"a":tru}` + "\n", false},
		{"bad number", `{"a":01}` + "\n", false},
		{"bad number 2", `{"a":1.}` + "\n", false},
		{"bad number 3", `{"a":-}` + "\n", false},
		{"bad escape", `{"a":"\x"}` + "\n", false},
		{"bad unicode", `{"a":"\u12g4"}` + "\n", false},
		{"control byte", "{\"a\":\"\t\"}\n", false},
		{"mismatched close", `{"a":[1}}` + "\n", false},
		{"key not a string", `{a:1}` + "\n", false},
		{"garbage after", `{"a":1} x` + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if want := jsonPerLine(tc.data); want != tc.ok {
				t.Fatalf("test table disagrees with encoding/json: %v", want)
			}
			for _, src := range []io.Reader{strings.NewReader(tc.data), iotest.OneByteReader(strings.NewReader(tc.data))} {
				v, err := verify.New(verify.Expect{Name: "s"})
				if err != nil {
					t.Fatal(err)
				}
				_, err = readAll(newReader(src, v, nil))
				if (err == nil) != tc.ok || (err != nil && !errors.Is(err, verify.ErrStructure)) {
					t.Fatalf("%T: err = %v, want ok=%v", src, err, tc.ok)
				}
				if err == nil && v.Proof().By != extract.VerifiedStructure {
					t.Fatalf("By = %q", v.Proof().By)
				}
			}
		})
	}
}

// jsonPerLine is the reference: every '\n'-separated line (a final one may be
// empty) is one JSON object.
func jsonPerLine(s string) bool {
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m == nil {
			return false
		}
	}
	return true
}

// TestVerifiedBy: each level is claimed only when the manifest promised it and it held.
func TestVerifiedBy(t *testing.T) {
	data := ndjson(5)
	zipped := gz(t, data)
	for _, tc := range []struct {
		name string
		exp  verify.Expect
		raw  int64
		want string
		err  error
	}{
		{"checksum", verify.Expect{Checksum: sum(data), Length: int64(len(data)), Count: 5}, -1, extract.VerifiedChecksum, nil},
		{"decoded length", verify.Expect{Length: int64(len(data)), Count: 5}, -1, extract.VerifiedLength, nil},
		{"gzip length on the wire", verify.Expect{Length: int64(len(zipped))}, int64(len(zipped)), extract.VerifiedLength, nil},
		{"gzip length not observable", verify.Expect{Length: int64(len(zipped)), Count: 5}, -1, extract.VerifiedCount, nil},
		{"length wrong", verify.Expect{Length: 7}, int64(len(zipped)), "", verify.ErrLength},
		{"count only", verify.Expect{Count: 5}, -1, extract.VerifiedCount, nil},
		{"count wrong", verify.Expect{Count: 6}, -1, "", verify.ErrCount},
		{"error file count wrong", verify.Expect{Count: 4, LooseCount: true}, -1, extract.VerifiedStructure, nil},
		{"nothing", verify.Expect{}, -1, extract.VerifiedStructure, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.exp.Name = "f"
			v, err := verify.New(tc.exp)
			if err != nil {
				t.Fatal(err)
			}
			_, err = readAll(newReader(bytes.NewReader(data), v, func() int64 { return tc.raw }))
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if p := v.Proof(); err == nil && (p.By != tc.want || p.Lines != 5 || p.SHA256 != sum(data)[len("sha256:"):]) {
				t.Fatalf("proof = %+v, want By %q, 5 lines, own sha256", p, tc.want)
			}
		})
	}
	if v, _ := verify.New(verify.Expect{Name: "f"}); v.Resumable() || v.Complete() {
		t.Fatal("a verifier without a checksum must not resume or call a prefix complete")
	}
}

// TestFileWithoutChecksum: a file verified without a checksum is skipped by a
// later process only with its saved proof, for the same bytes and URL.
func TestFileWithoutChecksum(t *testing.T) {
	data := ndjson(3)
	dir := t.TempDir()
	path := filepath.Join(dir, "f.ndjson")
	exp := verify.Expect{Name: "http://h/f.ndjson", Count: 3}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := verify.File(path, exp, nil); err == nil {
		t.Fatal("no saved proof: want an error")
	}
	v, _ := verify.New(exp)
	if _, err := readAll(newReader(bytes.NewReader(data), v, func() int64 { return 99 })); err != nil {
		t.Fatal(err)
	}
	if err := verify.SaveProof(path, exp, v.Proof()); err != nil {
		t.Fatal(err)
	}
	p, err := verify.File(path, exp, make([]byte, 64))
	if err != nil || p.By != extract.VerifiedCount || p.SHA256 != v.Proof().SHA256 {
		t.Fatalf("File = %+v, %v", p, err)
	}
	other := exp
	other.Name = "http://h/other.ndjson"
	if _, err := verify.File(path, other, nil); err == nil {
		t.Fatal("proof of another URL accepted")
	}
	// Same length, same lines, other bytes: only the saved sha256 tells.
	if err := os.WriteFile(path, bytes.Replace(data, []byte("Doe1"), []byte("Doe9"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := verify.File(path, exp, nil); !errors.Is(err, verify.ErrChecksum) {
		t.Fatalf("changed bytes: err = %v, want ErrChecksum", err)
	}
	// With a checksum no proof file is written or needed.
	sumExp := verify.Expect{Name: "x", Checksum: sum(data)}
	if err := verify.SaveProof(filepath.Join(dir, "g"), sumExp, verify.Proof{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(verify.ProofPath(filepath.Join(dir, "g"))); err == nil {
		t.Fatal("proof written for a file with a checksum")
	}
}

// FuzzStructure: the streaming check agrees with encoding/json on every input,
// whole or fed one byte at a time.
func FuzzStructure(f *testing.F) {
	for _, s := range []string{"", "{}\n", `{"a":[1,-2.5e3,"x\u00e9"],"b":{"c":null}}` + "\n{}", "{\"a\":\"\\q\"}", "[1]\n", "{}{}", "{\n}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := jsonPerLine(s)
		for _, src := range []io.Reader{strings.NewReader(s), iotest.OneByteReader(strings.NewReader(s))} {
			v, _ := verify.New(verify.Expect{Name: "f"})
			_, err := readAll(newReader(src, v, nil))
			if (err == nil) != want {
				t.Fatalf("%q: err = %v, encoding/json says valid=%v", s, err, want)
			}
		}
	})
}
