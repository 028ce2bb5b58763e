// Package lock keeps two dpcetl runs off one state directory or one destination at a time.
// Local directories use flock(2) on a lock file; S3 uses a lease object created with If-None-Match: *.
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/load/sink"
)

// ErrHeld is wrapped by the error of an acquire that found the lock held by a live owner.
var ErrHeld = errors.New("lock: held by another run")

// ErrLost is returned by Lock.Err once a lease was taken over or could not be renewed
// before it expired: the holder must stop before it publishes anything.
var ErrLost = errors.New("lock: lease lost")

// DefaultTTL is how long an S3 lease lives without renewal; it is renewed every TTL/3.
const DefaultTTL = 2 * time.Minute

// Owner says who holds a lock. It is stored in the lock file or lease object.
type Owner struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	ProcStart string    `json:"proc_start,omitempty"` // kernel start time of PID (Linux): tells pid reuse apart
	Started   time.Time `json:"started_at"`
	Command   string    `json:"command,omitempty"`
	Token     string    `json:"token"`               // random per acquire: who may renew and release
	Expires   time.Time `json:"expires_at,omitzero"` // leases only
}

// Self describes the current process running command.
func Self(command string) Owner {
	host, _ := os.Hostname()
	pid := os.Getpid()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return Owner{PID: pid, Host: host, ProcStart: procStart(pid), Started: time.Now().UTC(), Command: command, Token: hex.EncodeToString(b)}
}

func (o Owner) String() string {
	if o.PID == 0 && o.Host == "" {
		return "a holder whose record is empty (it is starting or ending: retry)"
	}
	s := fmt.Sprintf("pid %d on host %s since %s", o.PID, o.Host, o.Started.UTC().Format(time.RFC3339))
	if o.Command != "" {
		s += " (" + o.Command + ")"
	}
	if !o.Expires.IsZero() {
		s += ", lease expires " + o.Expires.UTC().Format(time.RFC3339)
	}
	return s
}

// dead reports whether the owner is certainly gone: same host, and its pid no longer
// runs (or runs a different process, told by its start time). Another host's owner is
// never presumed dead; its lease expiry decides.
func (o Owner) dead(self Owner) bool {
	if o.Host == "" || o.Host != self.Host || o.PID <= 0 {
		return false
	}
	if !alive(o.PID) {
		return true
	}
	return o.ProcStart != "" && self.ProcStart != "" && procStart(o.PID) != o.ProcStart
}

// HeldError names the holder of a lock.
type HeldError struct {
	Where  string // the lock file or lease object
	Holder Owner
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by another dpcetl run: %s", e.Where, e.Holder)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock. Release it when the run ends.
type Lock struct {
	where   string
	release func(context.Context) error

	mu   sync.Mutex
	lost error
	once sync.Once
}

// Where returns the lock file path or lease URL.
func (l *Lock) Where() string { return l.where }

// Err is nil while the lock is held, and wraps ErrLost once it is not.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *Lock) setLost(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = fmt.Errorf("%w: %s: %v", ErrLost, l.where, err)
	}
}

// Release gives the lock up. Safe to call more than once.
func (l *Lock) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() { err = l.release(ctx) })
	return err
}

// File locks the local file path (creating it and its directory). The kernel drops the
// lock when its holder dies, however it dies, so a stale lock file is simply taken over.
func File(path string, self Owner) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return lockFile(path, self)
}

// Sink locks a destination: through a local lock file at key for a file sink, through a
// lease object at key for S3 (see Lease).
func Sink(ctx context.Context, s sink.Sink, key string, self Owner, ttl time.Duration) (*Lock, error) {
	if err := sink.ValidateKey(key); err != nil {
		return nil, err
	}
	switch v := s.(type) {
	case interface{ Root() string }:
		return File(filepath.Join(v.Root(), filepath.FromSlash(key)), self)
	case *sink.S3:
		return Lease(ctx, v, key, self, ttl)
	}
	return nil, fmt.Errorf("lock: no lock for sink %T at %s", s, s.URL(key))
}

func readOwner(b []byte) Owner {
	var o Owner
	_ = json.Unmarshal(b, &o)
	return o
}
