package lock_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/load/lock"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

const helperEnv = "DPCETL_LOCK_HELPER_DIR"

// TestHelperProcess is not a test: it is the child process that takes a lock and is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	if _, err := lock.File(filepath.Join(dir, "dpcetl.lock"), lock.Self("helper")); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("LOCKED")
	time.Sleep(time.Minute)
	os.Exit(0)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestDirLockRefusesSecondHolderAndNamesIt(t *testing.T) {
	dir := t.TempDir()
	self := lock.Self("dpcetl run")
	l, err := lock.File(filepath.Join(dir, "dpcetl.lock"), self)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lock.File(filepath.Join(dir, "dpcetl.lock"), lock.Self("dpcetl load"))
	var he *lock.HeldError
	if !errors.As(err, &he) || !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("second lock = %v, want a HeldError", err)
	}
	if he.Holder.PID != os.Getpid() || he.Holder.Host != self.Host || he.Holder.Token != self.Token {
		t.Errorf("holder = %+v, want %+v", he.Holder, self)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "dpcetl run", filepath.Join(dir, "dpcetl.lock")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	l2, err := lock.File(filepath.Join(dir, "dpcetl.lock"), self)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release(ctxT(t))
}

func TestDirLockOfKilledProcessIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "LOCKED" {
		t.Fatalf("helper: %q", sc.Text())
	}
	_, err := lock.File(filepath.Join(dir, "dpcetl.lock"), lock.Self("dpcetl run"))
	var he *lock.HeldError
	if !errors.As(err, &he) || he.Holder.PID != cmd.Process.Pid {
		t.Fatalf("lock held by a live helper = %v, want a HeldError naming pid %d", err, cmd.Process.Pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	var stale lock.Owner
	b, _ := os.ReadFile(filepath.Join(dir, "dpcetl.lock"))
	if err := json.Unmarshal(b, &stale); err != nil || stale.PID != cmd.Process.Pid {
		t.Fatalf("the killed holder's record should remain: %s (%v)", b, err)
	}
	self := lock.Self("dpcetl run")
	l, err := lock.File(filepath.Join(dir, "dpcetl.lock"), self)
	if err != nil {
		t.Fatalf("stale lock of a killed process not taken over: %v", err)
	}
	defer l.Release(ctxT(t))
	var now lock.Owner
	b, _ = os.ReadFile(filepath.Join(dir, "dpcetl.lock"))
	if err := json.Unmarshal(b, &now); err != nil || now.Token != self.Token {
		t.Errorf("lock file after takeover = %s", b)
	}
}

func TestFileSinkLockUsesAFileLock(t *testing.T) {
	s, err := sink.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.Sink(ctxT(t), s, "_state/lock.json", lock.Self("a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Sink(ctxT(t), s, "_state/lock.json", lock.Self("b"), 0); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("second lock = %v, want ErrHeld", err)
	}
	l.Release(ctxT(t))
	if _, err := lock.Sink(ctxT(t), s, "../x", lock.Self("b"), 0); !errors.Is(err, sink.ErrInvalidKey) {
		t.Errorf("key ../x = %v, want ErrInvalidKey", err)
	}
}

func putOwner(t *testing.T, s sink.Sink, key string, o lock.Owner) {
	t.Helper()
	w, err := s.NewWriter(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o)
	w.Write(b)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestS3Lease(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "lake", 0)
	const key = "_state/lock.json"
	self := lock.Self("dpcetl run")

	// Acquire; a second run (another host) is refused and told who holds it.
	l, err := lock.Sink(ctxT(t), s, key, self, 600*time.Millisecond)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	other := lock.Self("dpcetl run")
	other.Host = "worker-2"
	time.Sleep(time.Second) // past the first ttl: renewal must have kept it
	_, err = lock.Lease(ctxT(t), s, key, other, time.Minute)
	var he *lock.HeldError
	if !errors.As(err, &he) || he.Holder.Token != self.Token {
		t.Fatalf("second lease = %v, want a HeldError naming the holder", err)
	}
	if !strings.Contains(err.Error(), "s3://dpcetl-test/lake/_state/lock.json") || !strings.Contains(err.Error(), self.Host) {
		t.Errorf("error %q does not name the lease and holder", err)
	}
	if err := l.Err(); err != nil {
		t.Errorf("held lease reports %v", err)
	}
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := sink.Exists(ctxT(t), s, key); ok {
		o, _ := s.Stat(ctxT(t), key)
		t.Errorf("released lease object remains %+v", o)
	}

	// A live holder on another host, not expired: refused. Expired: taken over.
	far := lock.Owner{PID: 4242, Host: "far-away", Started: time.Now(), Token: "t1", Expires: time.Now().Add(time.Hour)}
	putOwner(t, s, key, far)
	if _, err := lock.Lease(ctxT(t), s, key, other, time.Minute); !errors.As(err, &he) || he.Holder.Host != "far-away" {
		t.Fatalf("lease held by far-away = %v", err)
	}
	far.Expires = time.Now().Add(-time.Second)
	putOwner(t, s, key, far)
	l, err = lock.Lease(ctxT(t), s, key, other, time.Minute)
	if err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
	l.Release(ctxT(t))

	// A dead process on this host: taken over at once, long before its lease expires.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := lock.Owner{PID: cmd.Process.Pid, Host: self.Host, Started: time.Now(), Token: "t2", Expires: time.Now().Add(time.Hour)}
	putOwner(t, s, key, dead)
	l, err = lock.Lease(ctxT(t), s, key, self, time.Minute)
	if err != nil {
		t.Fatalf("lease of a dead local process not taken over: %v", err)
	}

	// Someone overwrites our lease: the next renewal notices and the lock reports lost.
	l.Release(ctxT(t))
	l, err = lock.Lease(ctxT(t), s, key, self, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	putOwner(t, s, key, far)
	deadline := time.Now().Add(5 * time.Second)
	for l.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(l.Err(), lock.ErrLost) {
		t.Fatalf("overwritten lease: Err = %v, want ErrLost", l.Err())
	}
	l.Release(ctxT(t))
	if ok, _ := sink.Exists(ctxT(t), s, key); !ok {
		t.Error("releasing a lost lease deleted the new holder's object")
	}
}

func TestS3LeaseRaceHasOneWinner(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "race", 0)
	const n = 8
	errs := make(chan error, n)
	locks := make(chan *lock.Lock, n)
	for i := range n {
		go func() {
			o := lock.Self("racer")
			o.Host = fmt.Sprintf("host-%d", i)
			l, err := lock.Lease(ctxT(t), s, "_state/lock.json", o, time.Minute)
			if err == nil {
				locks <- l
			}
			errs <- err
		}()
	}
	won := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lock.ErrHeld):
			t.Errorf("racer: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers won the lease, want exactly 1", won)
	}
	(<-locks).Release(ctxT(t))
}
