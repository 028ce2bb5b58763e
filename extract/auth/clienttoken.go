package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// ClientToken is what a DPC client token says about itself: the macaroon's identifier (the
// token id GET /Token lists, safe to print) and its caveats. It is read, not verified: only
// DPC holds the key that signs macaroons.
type ClientToken struct {
	ID             string
	OrganizationID string
	Expires        time.Time // zero when the token carries no expires caveat
}

// ErrMalformedClientToken marks a client token that is not a DPC macaroon. DPC's /Token/auth
// answers such a token with a bare 500, which looks retryable but never heals; the token
// source refuses it before sending. It wraps extract.ErrAuth.
var ErrMalformedClientToken = fmt.Errorf("client token is not a DPC macaroon: %w", extract.ErrAuth)

// ParseClientToken reads a client token (base64url of a JSON array of v2 macaroons, as the
// DPC portal hands them out: "W3sidiI6Mi…"). Errors never contain the token.
func ParseClientToken(tok string) (ClientToken, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return ClientToken{}, fmt.Errorf("empty: %w", ErrMalformedClientToken)
	}
	// As DPC's MacaroonBakery.deserializeMacaroon: a token starting e, W or T is base64url
	// (padded or not), anything else is taken as the JSON itself.
	raw := []byte(tok)
	if c := tok[0]; c == 'e' || c == 'W' || c == 'T' {
		var err error
		if raw, err = base64.URLEncoding.DecodeString(tok); err != nil {
			if raw, err = base64.RawURLEncoding.DecodeString(tok); err != nil {
				return ClientToken{}, fmt.Errorf("not base64url (%d characters): %w", len(tok), ErrMalformedClientToken)
			}
		}
	}
	type field struct {
		I   string `json:"i"`
		I64 string `json:"i64"`
	}
	type macaroon struct {
		V int `json:"v"`
		field
		C []field `json:"c"`
	}
	var ms []macaroon
	if err := json.Unmarshal(raw, &ms); err != nil {
		var one macaroon
		if json.Unmarshal(raw, &one) != nil || one.V == 0 {
			return ClientToken{}, fmt.Errorf("does not decode to a list of macaroons: %w", ErrMalformedClientToken)
		}
		ms = append(ms, one)
	}
	if len(ms) == 0 {
		return ClientToken{}, fmt.Errorf("an empty list of macaroons: %w", ErrMalformedClientToken)
	}
	text := func(f field) string {
		if f.I != "" || f.I64 == "" {
			return f.I
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(f.I64, "="))
		if err != nil {
			return ""
		}
		return string(b)
	}
	ct := ClientToken{ID: text(ms[0].field)}
	for _, c := range ms[0].C {
		k, v, ok := strings.Cut(text(c), " = ")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "organization_id":
			ct.OrganizationID = strings.TrimSpace(v)
		case "expires":
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err == nil {
				ct.Expires = t
			}
		}
	}
	if ct.OrganizationID == "" {
		return ct, fmt.Errorf("client token %s has no organization_id caveat: %w", ct.Name(), ErrMalformedClientToken)
	}
	return ct, nil
}

// Name is how messages refer to the token: by its id, never its value.
func (c ClientToken) Name() string {
	if c.ID == "" {
		return "(without id)"
	}
	return c.ID
}

// ErrClientTokenExpired marks a client token whose expires caveat has passed. DPC still
// issues access tokens for it, then refuses every call with 401; the token source says so
// up front. It wraps extract.ErrAuth.
var ErrClientTokenExpired = errors.New("client token expired")

// checkClientToken is what the token source knows before asking DPC.
func checkClientToken(tok string, serverNow time.Time) error {
	ct, err := ParseClientToken(tok)
	if err != nil {
		return err
	}
	if !ct.Expires.IsZero() && !serverNow.Before(ct.Expires) {
		return fmt.Errorf("client token %s expired at %s: create a new one in the DPC portal (or dpcetl tokens create): %w: %w",
			ct.Name(), ct.Expires.UTC().Format(time.RFC3339), ErrClientTokenExpired, extract.ErrAuth)
	}
	return nil
}
