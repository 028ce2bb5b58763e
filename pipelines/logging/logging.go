// Package logging builds dpcetl's slog loggers: text on a terminal, JSON lines otherwise, and
// a redactor in front of both so that no secret ever reaches a log line, an error or stdout.
package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract/scrub"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// sensitiveKeys are attribute keys whose values are always masked, whatever they look like.
var sensitiveKeys = map[string]bool{
	"token": true, "access_token": true, "client_token": true, "bearer": true,
	"authorization": true, "assertion": true, "client_assertion": true, "jwt": true,
	"private_key": true, "key_pem": true, "pem": true, "password": true, "secret": true,
	"macaroon": true,
}

// Redactor masks secrets in strings: known values registered with Add, and secret-shaped text.
// It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a redactor that also masks the given exact values.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers exact secret values (a client token read from a file, an access token).
// Values shorter than 8 bytes are ignored: masking them would mangle ordinary words.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) >= 8 {
			r.secrets = append(r.secrets, s)
		}
	}
	// Longest first so that a secret containing another is masked whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// String masks every secret in s.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.secrets {
			s = strings.ReplaceAll(s, sec, Mask)
		}
		r.mu.RUnlock()
	}
	// Secret shapes (PEM, JWT, client tokens, Bearer, token=…) as extract's error scrubber knows them.
	return scrub.Secrets(s, Mask)
}

// Writer wraps w so that everything written through it is redacted. Each Write is
// redacted on its own: callers write whole lines (slog handlers and fmt.Fprintln do).
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts keys and values.
func (r *Redactor) ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if sensitiveKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, Mask)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, r.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, r.String(x.String()))
		case []byte:
			return slog.String(a.Key, r.String(string(x)))
		}
		// Maps and lists (rows per table, file lists) would otherwise pass the redactor unseen
		// and print as Go's map[...] syntax; as JSON they are redacted, sorted and readable.
		switch reflect.ValueOf(v.Any()).Kind() {
		case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
			b, err := json.Marshal(v.Any())
			if err != nil {
				return slog.String(a.Key, r.String(fmt.Sprint(v.Any())))
			}
			if red := r.String(string(b)); json.Valid([]byte(red)) {
				return slog.Any(a.Key, json.RawMessage(red))
			}
			return slog.String(a.Key, Mask)
		}
	}
	return a
}

// Options for New.
type Options struct {
	Format     string // auto, text, json
	Level      string // debug, info, warn, error
	IsTerminal bool   // where the logs go is a terminal (auto → text)
	Redactor   *Redactor
}

// New returns a logger writing to w. JSON lines unless the format is text, or auto on a terminal.
func New(w io.Writer, o Options) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(o.Level)) // invalid levels are caught by config validation; default info
	r := o.Redactor
	if r == nil {
		r = NewRedactor()
	}
	text := o.Format == "text" || (o.Format != "json" && o.IsTerminal)
	if text {
		h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl, ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
			if len(g) == 0 && a.Key == slog.TimeKey {
				return slog.String(a.Key, a.Value.Time().Format(time.TimeOnly))
			}
			a = r.ReplaceAttr(g, a)
			if raw, ok := a.Value.Any().(json.RawMessage); ok && a.Value.Kind() == slog.KindAny {
				return slog.String(a.Key, string(raw))
			}
			return a
		}})
		return slog.New(h)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl, ReplaceAttr: r.ReplaceAttr}))
}
