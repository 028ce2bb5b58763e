package dpctest

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/verify"
)

// Client tokens are macaroons in DPC's wire format: the base64url (padded) JSON
// array of v2 JSON macaroons, so they start "W3sidiI6Mi". The signature is the
// HMAC-SHA256 chain over the identifier and every caveat, keyed by a per-server
// secret, so no caveat can be added, removed or changed without the secret.

type macaroonV2 struct {
	V   int        `json:"v"`
	L   string     `json:"l,omitempty"`
	I   string     `json:"i"`
	C   []caveatV2 `json:"c,omitempty"`
	S64 string     `json:"s64"`
}

type caveatV2 struct {
	I string `json:"i"`
}

const (
	caveatVersion = "dpc_macaroon_version = 2"
	caveatExpires = "expires = "
	caveatOrg     = "organization_id = "
)

func macaroonSig(secret []byte, id string, caveats []string) []byte {
	// libmacaroons derives the HMAC key from the root key this way.
	sig := verify.MAC(verify.MAC([]byte("macaroons-key-generator"), secret), []byte(id))
	for _, c := range caveats {
		sig = verify.MAC(sig, []byte(c))
	}
	return sig
}

// mintClientToken returns the macaroon for token id of organization orgID.
func mintClientToken(secret []byte, location, id, orgID string, expires time.Time) string {
	caveats := []string{
		caveatVersion,
		caveatExpires + expires.UTC().Format(time.RFC3339),
		caveatOrg + orgID,
	}
	m := macaroonV2{V: 2, L: location, I: id, S64: base64.RawURLEncoding.EncodeToString(macaroonSig(secret, id, caveats))}
	for _, c := range caveats {
		m.C = append(m.C, caveatV2{I: c})
	}
	b, _ := json.Marshal([]macaroonV2{m}) // cannot fail: plain strings
	return base64.URLEncoding.EncodeToString(b)
}

var errBadClientToken = errors.New("invalid client token")

// parseClientToken checks the signature chain and the caveats of a client token
// and returns its token id, organization id and expiry. It does not look the
// token id up (the caller checks it was not deleted).
func parseClientToken(secret []byte, tok string, now time.Time) (id, orgID string, expires time.Time, err error) {
	tok = strings.TrimSpace(tok)
	raw, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(tok); err != nil {
			return "", "", time.Time{}, errBadClientToken
		}
	}
	var ms []macaroonV2
	if err := json.Unmarshal(raw, &ms); err != nil || len(ms) != 1 || ms[0].V != 2 {
		return "", "", time.Time{}, errBadClientToken
	}
	m := ms[0]
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(m.S64, "="))
	if err != nil {
		return "", "", time.Time{}, errBadClientToken
	}
	caveats := make([]string, len(m.C))
	for i, c := range m.C {
		caveats[i] = c.I
	}
	if !hmac.Equal(got, macaroonSig(secret, m.I, caveats)) {
		return "", "", time.Time{}, errBadClientToken
	}
	var version bool
	for _, c := range caveats {
		switch {
		case c == caveatVersion:
			version = true
		case strings.HasPrefix(c, caveatExpires):
			t, err := time.Parse(time.RFC3339, strings.TrimPrefix(c, caveatExpires))
			if err != nil {
				return "", "", time.Time{}, errBadClientToken
			}
			expires = t
		case strings.HasPrefix(c, caveatOrg):
			orgID = strings.TrimPrefix(c, caveatOrg)
		default:
			// An unknown first-party caveat cannot be satisfied.
			return "", "", time.Time{}, errBadClientToken
		}
	}
	if !version || orgID == "" || expires.IsZero() || !now.Before(expires) {
		return "", "", time.Time{}, errBadClientToken
	}
	return m.I, orgID, expires, nil
}

// peekClientToken reads a client token the way DPC's /Token/auth does: deserialize only,
// no signature, expiry or revocation check. ok is false when it does not deserialize.
func peekClientToken(tok string) (id, orgID string, ok bool) {
	tok = strings.TrimSpace(tok)
	raw, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(tok); err != nil {
			return "", "", false
		}
	}
	var ms []macaroonV2
	if err := json.Unmarshal(raw, &ms); err != nil || len(ms) == 0 {
		return "", "", false
	}
	for _, c := range ms[0].C {
		if v, found := strings.CutPrefix(c.I, caveatOrg); found {
			orgID = v
		}
	}
	return ms[0].I, orgID, true
}
