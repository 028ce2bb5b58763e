package synth

import "time"

// FHIRVersion selects the resource shapes the generator emits.
type FHIRVersion int

const (
	// STU3 emits Blue Button v1 (BFD STU3) shapes, what DPC serves.
	STU3 FHIRVersion = iota
	// R4 emits Blue Button v2 (BFD R4 / CARIN BB) shapes.
	R4
)

// String returns "STU3" or "R4".
func (v FHIRVersion) String() string {
	if v == R4 {
		return "R4"
	}
	return "STU3"
}

// Options configure a Generator.
type Options struct {
	Seed    int64       // all data derives from (Seed, MBI)
	Version FHIRVersion // STU3 (default) or R4
	// Epoch anchors time: lastUpdated is spread over [Epoch-3y, Epoch+1y] and
	// claim dates lie before Epoch. Zero means 2026-01-01T00:00:00Z.
	Epoch time.Time
	// SuppressedShare is the share of beneficiaries DPC serves only as an OperationOutcome
	// (opted out or failing the lookback); see Suppressed. Zero: only the ~2% opt-outs.
	SuppressedShare float64
}

// Generator produces synthetic data. It holds no per-beneficiary state and is
// safe for concurrent use.
type Generator struct {
	opts Options
}

// New returns a Generator for the options.
func New(opts Options) *Generator {
	if opts.Epoch.IsZero() {
		opts.Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	opts.Epoch = opts.Epoch.UTC()
	return &Generator{opts: opts}
}

// Options returns the options the generator was built with (Epoch defaulted).
func (g *Generator) Options() Options { return g.opts }
