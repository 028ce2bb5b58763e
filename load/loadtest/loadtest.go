// Package loadtest is the conformance suite every load sink must pass.
// Backends call RunConformance from their tests with a constructor for a fresh, empty sink.
package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/load/sink"
)

// LargeObjectSize is the size of the multi-part object the suite writes; an S3 sink under
// test should use the minimum part size (5 MiB) so that this object takes three parts.
const LargeObjectSize = 2*sink.MinPartSize + 1234567

// RunConformance runs every conformance test against sinks made by newSink, which must
// return an empty sink that is cleaned up when t ends.
func RunConformance(t *testing.T, newSink func(t *testing.T) sink.Sink) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s sink.Sink)
	}{
		{"WriteCommitVisible", testWriteCommit},
		{"NothingVisibleBeforeCommit", testNotVisibleBeforeCommit},
		{"AbortLeavesNothing", testAbort},
		{"Overwrite", testOverwrite},
		{"ListPrefix", testList},
		{"GetMissing", testGetMissing},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"Rename", testRename},
		{"CancelledContextLeavesNothing", testCancelled},
		{"CancelledBeforeCommitNeverCommits", testCancelledMidWrite},
		{"LargeMultiPartObject", testLarge},
		{"ConcurrentWriters", testConcurrent},
		{"KeysWithEqualsAndSlash", testHiveKeys},
		{"EmptyObject", testEmpty},
		{"UseAfterCommit", testUseAfterCommit},
		{"InvalidKeys", testInvalidKeys},
		{"ProbeLeavesNothing", testProbe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newSink(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Put writes and commits data at key, failing t on error.
func Put(t *testing.T, s sink.Sink, key string, data []byte) {
	t.Helper()
	w, err := s.NewWriter(ctxT(t), key)
	if err != nil {
		t.Fatalf("NewWriter(%q): %v", key, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write(%q): %v", key, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

// ReadAll returns the committed object at key, failing t on error.
func ReadAll(t *testing.T, s sink.Sink, key string) []byte {
	t.Helper()
	r, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

// Keys lists the keys under prefix, failing t on error.
func Keys(t *testing.T, s sink.Sink, prefix string) []string {
	t.Helper()
	objs, err := s.List(ctxT(t), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// AssertMissing fails t unless key has no committed object (via Get, Stat and List).
func AssertMissing(t *testing.T, s sink.Sink, key string) {
	t.Helper()
	if _, err := s.Stat(ctxT(t), key); !errors.Is(err, sink.ErrNotExist) {
		t.Errorf("Stat(%q) = %v, want ErrNotExist", key, err)
	}
	if r, err := s.Get(ctxT(t), key); !errors.Is(err, sink.ErrNotExist) {
		if err == nil {
			r.Close()
		}
		t.Errorf("Get(%q) = %v, want ErrNotExist", key, err)
	}
	if slices.Contains(Keys(t, s, ""), key) {
		t.Errorf("List lists %q, which must not be visible", key)
	}
}

func testWriteCommit(t *testing.T, s sink.Sink) {
	data := []byte("hello, parquet\n")
	Put(t, s, "a/b.txt", data)
	if got := ReadAll(t, s, "a/b.txt"); !bytes.Equal(got, data) {
		t.Fatalf("Get = %q, want %q", got, data)
	}
	st, err := s.Stat(ctxT(t), "a/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st.Key != "a/b.txt" || st.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, want key a/b.txt size %d", st, len(data))
	}
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"a/b.txt"}) {
		t.Errorf("List = %q", got)
	}
}

func testNotVisibleBeforeCommit(t *testing.T, s sink.Sink) {
	w, err := s.NewWriter(ctxT(t), "pending/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 1000)); err != nil {
		t.Fatal(err)
	}
	AssertMissing(t, s, "pending/x.bin")
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("List before commit = %q, want nothing", got)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := ReadAll(t, s, "pending/x.bin"); len(got) != 1000 {
		t.Errorf("committed %d bytes, want 1000", len(got))
	}
}

func testAbort(t *testing.T, s sink.Sink) {
	w, err := s.NewWriter(ctxT(t), "ab/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	AssertMissing(t, s, "ab/x.bin")
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("List after abort = %q, want nothing", got)
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	AssertMissing(t, s, "ab/x.bin")
	// Aborting must not disturb an existing object at the key.
	Put(t, s, "ab/x.bin", []byte("v1"))
	w, err = s.NewWriter(ctxT(t), "ab/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("v2-partial"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := ReadAll(t, s, "ab/x.bin"); string(got) != "v1" {
		t.Errorf("after aborted overwrite Get = %q, want v1", got)
	}
}

func testOverwrite(t *testing.T, s sink.Sink) {
	Put(t, s, "o/k", []byte("first version, longer"))
	Put(t, s, "o/k", []byte("second"))
	if got := ReadAll(t, s, "o/k"); string(got) != "second" {
		t.Errorf("Get = %q, want second", got)
	}
	if got := Keys(t, s, "o/"); !slices.Equal(got, []string{"o/k"}) {
		t.Errorf("List = %q", got)
	}
}

func testList(t *testing.T, s sink.Sink) {
	for _, k := range []string{"a/b/1", "a/b/2", "a/c/3", "ab/4", "z"} {
		Put(t, s, k, []byte(k))
	}
	cases := map[string][]string{
		"":      {"a/b/1", "a/b/2", "a/c/3", "ab/4", "z"},
		"a/":    {"a/b/1", "a/b/2", "a/c/3"},
		"a/b/":  {"a/b/1", "a/b/2"},
		"a":     {"a/b/1", "a/b/2", "a/c/3", "ab/4"},
		"a/b/1": {"a/b/1"},
		"nope/": {},
	}
	for prefix, want := range cases {
		if got := Keys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	objs, err := s.List(ctxT(t), "a/c/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Size != 5 || objs[0].ModTime.IsZero() {
		t.Errorf("List(a/c/) = %+v, want one object of 5 bytes with a ModTime", objs)
	}
}

func testGetMissing(t *testing.T, s sink.Sink) {
	AssertMissing(t, s, "no/such/key")
}

func testDelete(t *testing.T, s sink.Sink) {
	Put(t, s, "d/1", []byte("1"))
	Put(t, s, "d/2", []byte("2"))
	if err := s.Delete(ctxT(t), "d/1"); err != nil {
		t.Fatal(err)
	}
	AssertMissing(t, s, "d/1")
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"d/2"}) {
		t.Errorf("List = %q", got)
	}
	if err := s.Delete(ctxT(t), "d/never-existed"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
}

func testDeletePrefix(t *testing.T, s sink.Sink) {
	for _, k := range []string{"p/x/1", "p/x/y/2", "p/xz", "q/1"} {
		Put(t, s, k, []byte(k))
	}
	// A writer that never commits leaves leftovers (temp file, multipart upload) to clean.
	w, err := s.NewWriter(ctxT(t), "p/x/leftover")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte{1}, sink.MinPartSize+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctxT(t), "p/x/"); err != nil {
		t.Fatal(err)
	}
	_ = w.Abort()
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"p/xz", "q/1"}) {
		t.Errorf("after DeletePrefix(p/x/) List = %q", got)
	}
	if err := s.DeletePrefix(ctxT(t), "p/x"); err == nil {
		t.Error("DeletePrefix without trailing slash succeeded")
	}
	if err := s.DeletePrefix(ctxT(t), "missing/"); err != nil {
		t.Errorf("DeletePrefix of an empty prefix: %v", err)
	}
}

func testRename(t *testing.T, s sink.Sink) {
	Put(t, s, "_staging/r1/t/part-0.parquet", []byte("payload"))
	Put(t, s, "t/part-0.parquet", []byte("old"))
	if err := s.Rename(ctxT(t), "_staging/r1/t/part-0.parquet", "t/part-0.parquet"); err != nil {
		t.Fatal(err)
	}
	AssertMissing(t, s, "_staging/r1/t/part-0.parquet")
	if got := ReadAll(t, s, "t/part-0.parquet"); string(got) != "payload" {
		t.Errorf("renamed object = %q", got)
	}
	err := s.Rename(ctxT(t), "_staging/none", "t/other")
	if err == nil {
		t.Fatal("Rename of a missing source succeeded")
	}
	if !errors.Is(err, sink.ErrNotExist) {
		t.Errorf("Rename of a missing source: %v, want ErrNotExist", err)
	}
	AssertMissing(t, s, "t/other")
}

func testCancelled(t *testing.T, s sink.Sink) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := s.NewWriter(ctx, "c/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data before cancel")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after cancel succeeded")
	}
	err = w.Commit()
	if err == nil {
		t.Fatal("Commit after cancel succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel: %v, want context.Canceled", err)
	}
	AssertMissing(t, s, "c/x.bin")
	// A cancelled context also refuses new writers.
	if _, err := s.NewWriter(ctx, "c/y.bin"); err == nil {
		t.Error("NewWriter with a cancelled context succeeded")
	}
}

func testCancelledMidWrite(t *testing.T, s sink.Sink) {
	// Cancel while parts may be in flight, with no Commit or Abort from the caller.
	ctx, cancel := context.WithCancel(context.Background())
	w, err := s.NewWriter(ctx, "c/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("y"), 1<<20)
	for range sink.MinPartSize/len(chunk) + 2 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	// Let the context's cleanup run, then the object must still not exist.
	time.Sleep(100 * time.Millisecond)
	AssertMissing(t, s, "c/big.bin")
	if err := w.Commit(); err == nil {
		t.Fatal("Commit after cancel succeeded")
	}
	AssertMissing(t, s, "c/big.bin")
}

func testLarge(t *testing.T, s sink.Sink) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, LargeObjectSize)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	w, err := s.NewWriter(ctxT(t), "large/obj.bin")
	if err != nil {
		t.Fatal(err)
	}
	// Odd chunk sizes cross part boundaries at arbitrary offsets.
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+rng.IntN(3<<20))
		if _, err := w.Write(data[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	AssertMissing(t, s, "large/obj.bin")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got := ReadAll(t, s, "large/obj.bin")
	if len(got) != len(data) || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("large object: got %d bytes sha %x, want %d bytes sha %x", len(got), sha256.Sum256(got), len(data), sha256.Sum256(data))
	}
}

func testConcurrent(t *testing.T, s sink.Sink) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i) }
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- put(s, fmt.Sprintf("conc/own-%d", i), payload(i))
		}()
		go func() {
			defer wg.Done()
			errs <- put(s, "conc/shared", payload(i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range n {
		if got := ReadAll(t, s, fmt.Sprintf("conc/own-%d", i)); !bytes.Equal(got, payload(i)) {
			t.Errorf("conc/own-%d: wrong content (%d bytes)", i, len(got))
		}
	}
	got := ReadAll(t, s, "conc/shared")
	ok := false
	for i := range n {
		ok = ok || bytes.Equal(got, payload(i))
	}
	if !ok {
		t.Errorf("conc/shared holds %d bytes that match no single writer: writes interleaved", len(got))
	}
	if keys := Keys(t, s, "conc/"); len(keys) != n+1 {
		t.Errorf("List = %d keys, want %d: %q", len(keys), n+1, keys)
	}
}

func put(s sink.Sink, key string, data []byte) error {
	w, err := s.NewWriter(context.Background(), key)
	if err != nil {
		return err
	}
	for off := 0; off < len(data); off += 4096 {
		if _, err := w.Write(data[off:min(off+4096, len(data))]); err != nil {
			_ = w.Abort()
			return err
		}
	}
	return w.Commit()
}

func testHiveKeys(t *testing.T, s sink.Sink) {
	keys := []string{
		"claims/export_date=2026-01-02/group=0f1e2d3c-aaaa/part-00000-run-1.parquet",
		"claims/export_date=2026-01-02/group=0f1e2d3c-aaaa/part-00001-run-1.parquet",
		"claims/export_date=2026-01-03/group=b=c/part-00000-run 2+x.parquet",
	}
	for _, k := range keys {
		Put(t, s, k, []byte(k))
	}
	for _, k := range keys {
		if got := ReadAll(t, s, k); string(got) != k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
	if got := Keys(t, s, "claims/export_date=2026-01-02/"); !slices.Equal(got, keys[:2]) {
		t.Errorf("List(export_date=2026-01-02/) = %q", got)
	}
	if err := s.Rename(ctxT(t), keys[2], "claims/export_date=2026-01-04/group=b=c/p.parquet"); err != nil {
		t.Fatal(err)
	}
	if got := ReadAll(t, s, "claims/export_date=2026-01-04/group=b=c/p.parquet"); string(got) != keys[2] {
		t.Errorf("renamed hive key holds %q", got)
	}
}

func testEmpty(t *testing.T, s sink.Sink) {
	Put(t, s, "_SUCCESS", nil)
	st, err := s.Stat(ctxT(t), "_SUCCESS")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 0 {
		t.Errorf("empty object has size %d", st.Size)
	}
}

func testUseAfterCommit(t *testing.T, s sink.Sink) {
	w, err := s.NewWriter(ctxT(t), "u/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Write after Commit: %v, want ErrClosed", err)
	}
	if err := w.Commit(); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("second Commit: %v, want ErrClosed", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v, want nil (deferred Abort is safe)", err)
	}
	if got := ReadAll(t, s, "u/x"); string(got) != "x" {
		t.Errorf("Abort after Commit changed the object: %q", got)
	}
}

func testInvalidKeys(t *testing.T, s sink.Sink) {
	for _, k := range []string{"", "/abs", "a//b", "../escape", "a/../../b", "a/./b", "trailing/"} {
		if w, err := s.NewWriter(ctxT(t), k); !errors.Is(err, sink.ErrInvalidKey) {
			if err == nil {
				_ = w.Abort()
			}
			t.Errorf("NewWriter(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func testProbe(t *testing.T, s sink.Sink) {
	Put(t, s, "keep/x", []byte("x"))
	for range 2 { // a second probe must not trip over the first one's leftovers
		if err := s.Probe(ctxT(t)); err != nil {
			t.Fatalf("Probe of a usable sink: %v", err)
		}
	}
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"keep/x"}) {
		t.Errorf("after Probe List = %q, want only keep/x", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Probe(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe with a cancelled context = %v, want context.Canceled", err)
	}
}
