package admin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

// parseDuration accepts Go durations plus a days suffix ("14d", "90d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
	}
	return d, nil
}

// parseTime accepts an RFC 3339 instant, a date, or a duration from now ("30d"); "" is no time.
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := parseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO date-time, a date or a duration such as 30d", s)
}

// writeSecretFile writes data to path with mode, refusing to replace an existing file unless
// force: a key or token overwritten by accident is gone for good.
func writeSecretFile(path string, data []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return cmdkit.Usagef("%s exists; remove it or pass --force", path)
		}
		return err
	}
	if err := f.Chmod(mode); err != nil { // O_TRUNC keeps an existing file's mode
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readAllLimited reads standard input, refusing more than 1 MiB (a JWT is far smaller).
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, cmdkit.Usagef("standard input is larger than 1 MiB")
	}
	return b, nil
}

// fileErr reports an unreadable input file as a configuration problem. The cause is kept as
// text only: a wrapped syscall.Errno would look like a network error to the exit code.
func fileErr(flagName string, err error) error {
	return fmt.Errorf("%w: --%s: %v", config.ErrInvalid, flagName, err)
}

// readResources reads FHIR resources of one type from a Bundle, a Parameters-wrapped Bundle
// (DPC's sample files) or a JSON array.
func readResources[T any](path, resourceType string) ([]T, error) {
	if path == "" {
		return nil, cmdkit.Usagef("--file is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr("file", err)
	}
	out, err := dpc.DecodeResources[T](b, resourceType)
	if err != nil {
		return nil, cmdkit.Usagef("%s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, cmdkit.Usagef("%s: no %s resources", path, resourceType)
	}
	return out, nil
}
