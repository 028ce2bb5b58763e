//go:build !unix

package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// lockFile without flock: an exclusive create. A lock file left by a dead process is not
// detected here and must be removed by hand (the error names it).
func lockFile(path string, self Owner) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		b, _ := os.ReadFile(path)
		return nil, &HeldError{Where: path + " (remove it if that run is gone)", Holder: readOwner(b)}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	b, _ := json.Marshal(self)
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{where: path, release: func(context.Context) error { return os.Remove(path) }}, nil
}

func alive(int) bool { return true }
