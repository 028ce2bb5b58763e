//go:build unix

package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on path and writes self into it. The lock belongs to
// the open file description, so even a second open in the same process is refused.
func lockFile(path string, self Owner) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Where: path, Holder: readOwner(b)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// We hold it: whatever the file says is a dead holder's record.
	b, _ := json.MarshalIndent(self, "", "  ")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return &Lock{where: path, release: func(context.Context) error {
		// Empty the record before unlocking, so it never names a finished run; the file
		// itself stays (removing it would race with a waiter that opened it).
		_ = f.Truncate(0)
		return f.Close()
	}}, nil
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
