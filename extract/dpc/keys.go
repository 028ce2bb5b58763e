package dpc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Snippet is the text DPC has every uploaded public key prove itself over.
const Snippet = "This is the snippet used to verify a key pair in DPC."

// DefaultKeyBits is the RSA size DPC requires.
const DefaultKeyBits = 4096

// GenerateKey makes an RSA key of bits (DefaultKeyBits when 0).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits == 0 {
		bits = DefaultKeyBits
	}
	if bits < 1024 {
		return nil, fmt.Errorf("RSA key size %d is too small: %w", bits, ErrInvalid)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// PrivateKeyPEM encodes k as a PKCS#8 "PRIVATE KEY" block, as `openssl genrsa` writes in OpenSSL 3.
func PrivateKeyPEM(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicKeyPEM encodes the public half of k as a PKIX "PUBLIC KEY" block (what DPC wants pasted).
func PublicKeyPEM(k *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// SignSnippet signs text with SHA256withRSA (PKCS#1 v1.5) and returns the raw signature: the same
// bytes as `openssl dgst -sign private.pem -sha256 -out snippet.txt.sig snippet.txt`.
func SignSnippet(k *rsa.PrivateKey, text []byte) ([]byte, error) {
	sum := sha256.Sum256(text)
	return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
}

// KeyUpload is the body of POST /Key: a PEM public key and the base64 SHA256withRSA signature of
// the Snippet made with its private half.
type KeyUpload struct {
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// NewKeyUpload builds the upload body for k: its public PEM and signed snippet.
func NewKeyUpload(k *rsa.PrivateKey) (KeyUpload, error) {
	pub, err := PublicKeyPEM(&k.PublicKey)
	if err != nil {
		return KeyUpload{}, err
	}
	sig, err := SignSnippet(k, []byte(Snippet))
	if err != nil {
		return KeyUpload{}, err
	}
	return KeyUpload{Key: string(pub), Signature: base64.StdEncoding.EncodeToString(sig)}, nil
}

// Key is a public key registered with DPC; its ID is the JWT kid.
type Key struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"`
	CreatedAt string `json:"createdAt"`
	Label     string `json:"label"`
}

// collection is DPC's JSON list answer (GET /Key, /Token): {"created_at", "count", "entities"}.
type collection[T any] struct {
	Entities []T `json:"entities"`
}

// spki rewrites a PKCS#1 "RSA PUBLIC KEY" PEM as the PKIX "PUBLIC KEY" DPC's signature check
// understands (it strips only those markers); any other text is sent as it is.
func (up KeyUpload) spki() KeyUpload {
	block, _ := pem.Decode([]byte(up.Key))
	if block == nil || block.Type != "RSA PUBLIC KEY" {
		return up
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		return up
	}
	if b, err := PublicKeyPEM(k); err == nil {
		up.Key = string(b)
	}
	return up
}

// UploadKey registers a public key under label. A PKCS#1 PEM is sent as PKIX, the only
// form DPC verifies.
func (c *Client) UploadKey(ctx context.Context, label string, up KeyUpload) (Key, error) {
	return c.uploadKey(ctx, "/Key", label, up)
}

func (c *Client) uploadKey(ctx context.Context, path, label string, up KeyUpload) (Key, error) {
	var out Key
	err := c.do(ctx, request{method: http.MethodPost, path: path, query: url.Values{"label": {label}},
		body: up.spki(), ctype: "application/json", accept: "application/json"}, &out)
	return out, err
}

// Keys lists the organization's public keys.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	var out collection[Key]
	err := c.do(ctx, request{method: http.MethodGet, path: "/Key", accept: "application/json"}, &out)
	return out.Entities, err
}

// Key fetches one public key.
func (c *Client) Key(ctx context.Context, id string) (Key, error) {
	return get[Key](ctx, c, "/Key/"+url.PathEscape(id), "application/json")
}

// DeleteKey removes a public key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/Key/" + url.PathEscape(id), accept: "application/json"}, nil)
}

// Token is a client token's record. Token (the secret) is set only in the answer to its creation.
type Token struct {
	ID        string `json:"id"`
	TokenType string `json:"tokenType,omitempty"`
	Label     string `json:"label"`
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
	Token     string `json:"token,omitempty"`
}

// UnmarshalJSON also accepts "token:" for the secret, as the guide's example shows it.
func (t *Token) UnmarshalJSON(b []byte) error {
	type plain Token
	var v struct {
		plain
		Colon string `json:"token:"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Token(v.plain)
	if t.Token == "" {
		t.Token = v.Colon
	}
	return nil
}

// CreateToken makes a new client token; a zero expiration leaves the server's default.
func (c *Client) CreateToken(ctx context.Context, label string, expiration time.Time) (Token, error) {
	return c.createToken(ctx, "/Token", label, expiration)
}

func (c *Client) createToken(ctx context.Context, path, label string, expiration time.Time) (Token, error) {
	q := url.Values{}
	if label != "" {
		q.Set("label", label)
	}
	if !expiration.IsZero() {
		q.Set("expiration", expiration.Format(time.RFC3339))
	}
	var out Token
	err := c.do(ctx, request{method: http.MethodPost, path: path, query: q, accept: "application/json"}, &out)
	return out, err
}

// Tokens lists the organization's client tokens (never their secrets).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out collection[Token]
	err := c.do(ctx, request{method: http.MethodGet, path: "/Token", accept: "application/json"}, &out)
	return out.Entities, err
}

// DeleteToken revokes a client token.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/Token/" + url.PathEscape(id), accept: "application/json"}, nil)
}

// ValidateToken asks DPC to check the claims of a client-assertion JWT (/Token/validate). It
// never checks the signature. A nil error means the claims are acceptable; an *APIError
// wrapping ErrInvalid carries the server's reason.
func (c *Client) ValidateToken(ctx context.Context, jwt string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/Token/validate", rawBody: []byte(jwt),
		ctype: "text/plain", accept: "application/json"}, nil)
}
