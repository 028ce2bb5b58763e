// Package killpoint lets the chaos suite (make chaos) stop dpcetl at a named point of its
// work: SIGKILL itself there, or pause until told to go on. Unset, it does nothing.
//
// DPCETL_KILLPOINT=NAME[@N][:pause] acts the N-th time (default the first) the process
// reaches NAME. Without ":pause" the process SIGKILLs itself, exactly as `kill -9` from
// outside at that instant would. With ":pause" it prints "KILLPOINT NAME" to stderr and
// waits until the file named by DPCETL_KILLPOINT_RESUME exists (the suite kills the S3
// server meanwhile). Point names are listed in load/README.md ("Kill points").
package killpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Env and ResumeEnv are the variables read.
const (
	Env       = "DPCETL_KILLPOINT"
	ResumeEnv = "DPCETL_KILLPOINT_RESUME"
)

// The spec is read once per process. This is the one piece of package-level state in
// dpcetl, on purpose: the hooks sit deep in load and runner, and threading a test hook
// through every constructor would put it in the public API.
var (
	once  sync.Once
	spec  point
	count atomic.Int64
)

type point struct {
	name  string
	n     int64
	pause bool
}

func parse(s string) point {
	var p point
	s, p.pause = strings.CutSuffix(s, ":pause")
	name, n, ok := strings.Cut(s, "@")
	p.name, p.n = name, 1
	if ok {
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
			p.n = v
		}
	}
	return p
}

// Enabled reports whether a kill point is set (callers skip building names otherwise).
func Enabled() bool {
	once.Do(func() { spec = parse(os.Getenv(Env)) })
	return spec.name != ""
}

// Reach marks that the process is at point name.
func Reach(name string) {
	if !Enabled() || name != spec.name || count.Add(1) != spec.n {
		return
	}
	fmt.Fprintf(os.Stderr, "KILLPOINT %s\n", name)
	if spec.pause {
		resume := os.Getenv(ResumeEnv)
		for resume != "" {
			if _, err := os.Stat(resume); err == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		_ = p.Kill() // SIGKILL on Unix: no deferred function, no flush, nothing runs after this
	}
	select {} // never return into the code after the point while the signal lands
}
