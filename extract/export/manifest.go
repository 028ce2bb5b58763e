package export

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// Extension URLs DPC puts on every output entry, and AB2D's own for the same
// (api/.../controller/common/StatusCommon.java generateValueOutputs).
const (
	ChecksumExtension       = "https://dpc.cms.gov/checksum"
	FileLengthExtension     = "https://dpc.cms.gov/file_length"
	AB2DChecksumExtension   = "https://ab2d.cms.gov/checksum"
	AB2DFileLengthExtension = "https://ab2d.cms.gov/file_length"
)

// Manifest is the body of a completed job: what to download and how to check it.
type Manifest struct {
	TransactionTime     time.Time `json:"transactionTime"`
	Request             string    `json:"request"`
	RequiresAccessToken bool      `json:"requiresAccessToken"`
	Output              []Output  `json:"output"`
	Error               []Output  `json:"error"`
	Deleted             []Output  `json:"deleted,omitempty"` // Bundles of DELETE entries (Bulk Data IG)
	OutputOrganizedBy   string    `json:"outputOrganizedBy,omitempty"`
}

// Output is one file of a completed job.
type Output struct {
	List string `json:"-"` // extract.ListOutput, ListError or ListDeleted, set by Manifest.Files
	// RequiresAccessToken is the manifest's, set by Manifest.Files: without it
	// the download sends no bearer at all.
	RequiresAccessToken bool   `json:"-"`
	Type                string `json:"type"`
	URL                 string `json:"url"`
	Count               int    `json:"count,omitempty"`
	Checksum            string `json:"checksum,omitempty"`    // "sha256:<hex>" of the decoded bytes
	FileLength          int64  `json:"file_length,omitempty"` // size of the gzip body or of the decoded bytes
}

// maxCount is more resources than any one file can hold (DPC writes at most
// 10,000 a file); a larger count is a broken or hostile server.
const maxCount = 1 << 40

// ParseManifest reads a completed job's body. Errors name the output entry and field.
func ParseManifest(b []byte, m *Manifest) error {
	if err := json.Unmarshal(b, m); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

type wireOutput struct {
	Type      string      `json:"type"`
	URL       string      `json:"url"`
	Count     json.Number `json:"count"`
	Extension []struct {
		URL          string      `json:"url"`
		ValueString  string      `json:"valueString"`
		ValueDecimal json.Number `json:"valueDecimal"`
		ValueInteger json.Number `json:"valueInteger"`
	} `json:"extension"`
	// Our own state files store the flattened form.
	Checksum   string      `json:"checksum"`
	FileLength json.Number `json:"file_length"`
}

// UnmarshalJSON reads both DPC's extension form and the flattened form this
// package writes into its state file.
func (o *Output) UnmarshalJSON(b []byte) error {
	var w wireOutput
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*o = Output{Type: w.Type, URL: w.URL, Checksum: w.Checksum}
	var err error
	if o.Count, err = intOf(w.Count); err != nil {
		return fmt.Errorf("output %q: count: %w", w.URL, err)
	} else if o.Count < 0 || o.Count > maxCount {
		return fmt.Errorf("output %q: count %d is impossible", w.URL, o.Count)
	}
	if n, err := int64Of(w.FileLength); err != nil {
		return fmt.Errorf("output %q: file_length: %w", w.URL, err)
	} else if n > 0 {
		o.FileLength = n
	}
	for _, e := range w.Extension {
		switch e.URL {
		case ChecksumExtension, AB2DChecksumExtension:
			o.Checksum = e.ValueString
		case FileLengthExtension, AB2DFileLengthExtension:
			v := e.ValueDecimal
			if v == "" {
				v = e.ValueInteger
			}
			n, err := int64Of(v)
			if err != nil {
				return fmt.Errorf("output %q: file_length: %w", w.URL, err)
			}
			if n < 0 {
				return fmt.Errorf("output %q: file_length %d is negative", w.URL, n)
			}
			o.FileLength = n
		}
	}
	return nil
}

func intOf(n json.Number) (int, error) {
	v, err := int64Of(n)
	return int(v), err
}

// int64Of accepts integers written as decimals ("2468" or "2468.0").
func int64Of(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if v, err := n.Int64(); err == nil {
		return v, nil
	}
	s := string(n)
	if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
		var v int64
		_, err := fmt.Sscanf(s[:i], "%d", &v)
		return v, err
	}
	return 0, fmt.Errorf("%q is not a whole number", s)
}

// Files returns the output, error and deleted entries together, each with its
// List and RequiresAccessToken set (all are verified and downloaded alike).
func (m *Manifest) Files() []Output {
	out := make([]Output, 0, len(m.Output)+len(m.Error)+len(m.Deleted))
	for _, l := range []struct {
		name string
		outs []Output
	}{{extract.ListOutput, m.Output}, {extract.ListError, m.Error}, {extract.ListDeleted, m.Deleted}} {
		for _, o := range l.outs {
			o.List, o.RequiresAccessToken = l.name, m.RequiresAccessToken
			out = append(out, o)
		}
	}
	return out
}
