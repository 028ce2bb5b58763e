package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// progress turns extract events into a progress line on a terminal (polling %, then
// downloads: bytes, files, rate, ETA) or into log records when stderr is not a terminal.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	log      *slog.Logger
	now      func() time.Time
	start    time.Time
	last     time.Time
	drawn    bool
	closed   bool
	status   string
	percent  float64
	files    int
	skipped  int
	bytes    int64
	total    int64
	expected int // files listed in the manifests seen so far
}

// Plan adds files about to be downloaded (runner.Options.OnDownloadPlan).
func (p *progress) Plan(files int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected += files
}

func newProgress(env *Env, log *slog.Logger) *progress {
	return &progress{w: env.Redactor.Writer(env.Stderr), tty: env.IsTerminal, log: log, now: time.Now}
}

// LogWriter returns w wrapped so that a log record first clears the progress line; the
// line is drawn again with the next event.
func (p *progress) LogWriter(w io.Writer) io.Writer { return &logWriter{p: p, w: w} }

type logWriter struct {
	p *progress
	w io.Writer
}

func (l *logWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.p.clearLocked()
	return l.w.Write(b)
}

// Event is an extract.Progress. Log records are written after the lock is released:
// the log writer takes the same lock to clear the progress line.
func (p *progress) Event(e extract.Event) {
	var logs []func()
	p.mu.Lock()
	defer func() {
		p.mu.Unlock()
		for _, l := range logs {
			l()
		}
	}()
	if p.closed {
		return
	}
	log := func(level slog.Level, msg string, args ...any) {
		logs = append(logs, func() { p.log.Log(context.Background(), level, msg, args...) })
	}
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	switch e.Kind {
	case extract.EventJobKickOff, extract.EventJobRejoin:
		log(slog.LevelInfo, "export job", "event", string(e.Kind), "job", e.JobID, "url", e.URL)
	case extract.EventJobProgress:
		p.status, p.percent = e.Status, e.Percent
		if !p.tty {
			log(slog.LevelDebug, "export job polled", "job", e.JobID, "status", e.Status, "percent", e.Percent)
		}
	case extract.EventJobComplete:
		p.status, p.percent = "COMPLETE", 100
		log(slog.LevelInfo, "export job complete", "job", e.JobID)
	case extract.EventFileStart:
		if e.Total > 0 && e.Attempt <= 1 {
			p.total += e.Total
		}
	case extract.EventFileBytes:
		p.bytes += e.Bytes
	case extract.EventFileVerified:
		p.files++
		if !p.tty {
			log(slog.LevelDebug, "file verified", "url", e.URL, "bytes", e.Bytes)
		}
	case extract.EventFileSkipped:
		p.files++
		p.skipped++
	case extract.EventFileRetry:
		log(slog.LevelWarn, "download retry", "url", e.URL, "attempt", e.Attempt, "err", e.Err)
	case extract.EventFileFailed:
		// A cancelled run aborts every file in flight: its group says so once, not each file.
		if !strings.Contains(e.Err, context.Canceled.Error()) {
			log(slog.LevelError, "download failed", "url", e.URL, "err", e.Err)
		}
	case extract.EventClockSkew:
		log(slog.LevelWarn, "clock skew against the DPC server", "skew", e.Skew.String())
	}
	if p.tty && len(logs) == 0 && now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.drawLocked(now)
	}
}

func (p *progress) drawLocked(now time.Time) {
	var line string
	if p.files == 0 && p.bytes == 0 {
		line = fmt.Sprintf("export: %-8s %s %5.1f%%", p.status, bar(p.percent/100, 24), p.percent)
	} else {
		el := now.Sub(p.start).Seconds()
		rate := 0.0
		if el > 0 {
			rate = float64(p.bytes) / el
		}
		frac, eta := 0.0, "?"
		switch {
		case p.total > 0: // byte totals known
			frac = float64(p.bytes) / float64(p.total)
			if rate > 0 && p.total > p.bytes {
				eta = time.Duration(float64(p.total-p.bytes) / rate * float64(time.Second)).Round(time.Second).String()
			} else if p.total <= p.bytes {
				eta = "0s"
			}
		case p.expected > 0: // file counts from the manifests
			frac = float64(p.files) / float64(p.expected)
			if p.files > 0 && p.files < p.expected {
				eta = time.Duration(el / float64(p.files) * float64(p.expected-p.files) * float64(time.Second)).Round(time.Second).String()
			} else if p.files >= p.expected {
				eta = "0s"
			}
		}
		files := fmt.Sprintf("%d files", p.files)
		if p.expected > 0 {
			files = fmt.Sprintf("%d/%d files", p.files, p.expected)
		}
		size := fmtBytes(p.bytes)
		if p.total > 0 {
			size += " / " + fmtBytes(p.total)
		}
		line = fmt.Sprintf("download: %s %3.0f%%  %s  %s  %s/s  ETA %s",
			bar(frac, 24), frac*100, size, files, fmtBytes(int64(rate)), eta)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

func (p *progress) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Close ends the progress line so that logs and the summary start on a clean line.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	p.closed = true
}

func bar(frac float64, width int) string {
	n := int(min(max(frac, 0), 1) * float64(width))
	return strings.Repeat("█", n) + strings.Repeat("░", width-n)
}
