// Package scrub turns a server's error body into text that is safe in an error, a log
// line or a summary (no secrets, no claims data, bounded valid UTF-8), and defines secret shapes.
package scrub

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds the text kept from a body, in bytes.
const MaxLen = 300

// Mask replaces every secret.
const Mask = "[redacted]"

// secretRE matches secrets by shape: PEM private keys, JWTs, DPC client tokens
// (base64 of a JSON array of macaroons: "W3sid…"), and the values of bearer
// credentials and token-like keys ("token=…", "access_token": "…").
var secretRE = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)` +
	`|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*` +
	`|W3sid[A-Za-z0-9_=+/-]*`)

var keyedRE = regexp.MustCompile(`(?i)((?:bearer\s+)+|\b` + secretKeys + `=|\b` + tokenKeys + `"?\s*:\s*"?)[^&\s"',;})[\]]+` +
	`|("` + secretKeys + `"\s*:\s*")[^"]*`)

const (
	tokenKeys  = `(?:access_token|refresh_token|id_token|client_assertion|client_token)`
	secretKeys = `(?:` + tokenKeys + `|assertion|token|password|secret)`
)

// Secrets replaces every secret-shaped part of s with mask (the log redactor
// uses it too: one definition of what a secret looks like).
func Secrets(s, mask string) string {
	s = keyedRE.ReplaceAllString(s, "${1}${2}"+mask)
	return secretRE.ReplaceAllString(s, mask)
}

// Body is the message of an error response: the text of a FHIR OperationOutcome,
// an OAuth error or DPC's {"message"}/{"errors"} shapes. Other JSON is not shown
// (on a data URL it could be claims); an HTML page says nothing useful; plain
// text is kept. Secrets are masked either way.
func Body(b []byte) string {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return ""
	case s[0] == '{' || s[0] == '[':
		s = jsonMessage([]byte(s))
	case s[0] == '<':
		return ""
	}
	return Text(s)
}

// Text masks secret-shaped text in s, makes it one line of valid UTF-8 without
// control characters and bounds it to MaxLen bytes.
func Text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(Secrets(s, Mask)), " ")
	if len(s) > MaxLen {
		cut := MaxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// jsonMessage is the human explanation inside a JSON error body, or a note that
// the body is not shown.
func jsonMessage(b []byte) string {
	var m struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Details struct {
				Text string `json:"text"`
			} `json:"details"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
		Error       any      `json:"error"`
		Description string   `json:"error_description"`
		Message     string   `json:"message"`
		Errors      []string `json:"errors"`
	}
	if json.Unmarshal(b, &m) == nil {
		var parts []string
		switch {
		case m.ResourceType == "OperationOutcome":
			for _, is := range m.Issue {
				if t := strings.TrimSpace(is.Details.Text + " " + is.Diagnostics); t != "" {
					parts = append(parts, t)
				}
			}
		case m.ResourceType == "":
			if e, ok := m.Error.(string); ok && e != "" {
				parts = append(parts, strings.TrimSpace(e+" "+m.Description))
			}
			if m.Message != "" {
				parts = append(parts, m.Message)
			}
			parts = append(parts, m.Errors...)
		}
		if s := strings.Join(parts, "; "); s != "" {
			return s
		}
	}
	return fmt.Sprintf("(%d-byte JSON body not shown: it could be claims data)", len(b))
}
