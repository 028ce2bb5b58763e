package dpctest

import (
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	clock          *Clock
	seed           int64
	jobDuration    time.Duration
	tokenLifetime  time.Duration
	clientTokenMax time.Duration
	minKeyBits     int
	fileResources  int
	batchSize      int
	rfc7233        bool
	fhirVersion    string
	dataDir        string
	faults         Faults
	epoch          time.Time
	jobWorkers     int
	fileExpiry     time.Duration
	jobRetryAfter  time.Duration
	seedOrg        *SeedOrganization

	// Non-DPC dialects (dialect.go, DIALECTS.md).
	dialect     Dialect
	openFiles   bool     // SMART: requiresAccessToken false
	fileHost    string   // file URLs on this host instead of the request's
	signingAlgs []string // SMART: accepted assertion algorithms (default RS384, ES384)

	// DPC's behaviour, each with a standard alternative (see the fidelity table in README.md).
	rosterLimit       int     // 0: none
	practitionerLimit int     // 0: none
	suppressedShare   float64 // share of patients served only as an OperationOutcome
	duplicateGroupOK  bool    // a second Group POST answers 200 with the existing group
	checkTokenAtAuth  bool    // /Token/auth refuses expired, revoked and forged client tokens
	jobDelete         bool    // DELETE /Jobs/{id} cancels a job
	lenientMedia      bool    // no 406 on /Jobs Accept, no 415 on FHIR write Content-Type
	version           string  // what GET /version answers
}

func defaultConfig() config {
	return config{
		seed:            1,
		jobDuration:     2 * time.Second,
		tokenLifetime:   300 * time.Second,
		clientTokenMax:  365 * 24 * time.Hour,
		minKeyBits:      4096,
		fileResources:   5000,
		batchSize:       100,
		fhirVersion:     "STU3",
		epoch:           time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		jobWorkers:      2,
		fileExpiry:      24 * time.Hour,
		rosterLimit:     DefaultRosterLimit,
		suppressedShare: DefaultSuppressedShare,
		version:         "dpctest",
	}
}

// WithClock makes the server read time from c (default: a fresh clock following real time).
func WithClock(c *Clock) Option { return func(cf *config) { cf.clock = c } }

// WithSeed seeds the synthetic data generator and the fault RNG (default 1).
func WithSeed(seed int64) Option { return func(cf *config) { cf.seed = seed } }

// WithJobDuration sets the least time an export job takes, measured on the server
// clock (default 2s). A job is never complete before it has written all its files.
func WithJobDuration(d time.Duration) Option { return func(cf *config) { cf.jobDuration = d } }

// WithTokenLifetime sets how long access tokens from /Token/auth live (default 300s).
func WithTokenLifetime(d time.Duration) Option { return func(cf *config) { cf.tokenLifetime = d } }

// WithMinKeyBits sets the smallest RSA key /Key accepts (default 4096, as DPC).
// Tests use 1024 or 2048 so that key generation stays fast.
func WithMinKeyBits(n int) Option { return func(cf *config) { cf.minKeyBits = n } }

// WithFileResources makes a job start a new file every n resources (default 5000).
func WithFileResources(n int) Option { return func(cf *config) { cf.fileResources = n } }

// WithBatchSize sets how many patients one job batch holds (default 100).
func WithBatchSize(n int) Option { return func(cf *config) { cf.batchSize = n } }

// WithRFC7233Ranges serves standard (end-inclusive, uncapped) byte ranges instead of
// DPC's end-exclusive ranges capped at 1 MiB.
func WithRFC7233Ranges() Option { return func(cf *config) { cf.rfc7233 = true } }

// WithFHIRVersion selects the served shapes: "STU3" (default, as DPC) or "R4".
func WithFHIRVersion(v string) Option { return func(cf *config) { cf.fhirVersion = v } }

// WithDataDir makes jobs write their files under dir (default: a temporary
// directory removed by Close). Files in a given dir are left in place.
func WithDataDir(dir string) Option { return func(cf *config) { cf.dataDir = dir } }

// WithFaults installs faults from the start (see Faults and Server.SetFaults).
func WithFaults(f Faults) Option { return func(cf *config) { cf.faults = f } }

// WithEpoch sets the synthetic data epoch: resources are last updated over
// [epoch-3y, epoch+1y] (default 2026-01-01 UTC).
func WithEpoch(t time.Time) Option { return func(cf *config) { cf.epoch = t } }

// SeedOrganization describes an organization created at start-up through the
// same store the API uses: Patients patients (MBIs synth.MBI(0..n-1)) spread
// round-robin over Practitioners practitioners (NPIs synth.NPI(0..)), one
// attribution group per practitioner, all attributed at server start.
type SeedOrganization struct {
	Name          string
	NPI           string // default: a valid synthetic NPI
	Patients      int
	Practitioners int // 0: one per 5000 patients (or per roster limit, if smaller), at least 1, at most 100
}

// WithSeedOrganization creates an organization with practitioners, patients and
// groups at start-up (see Server.Seeded for its ids).
func WithSeedOrganization(o SeedOrganization) Option {
	return func(cf *config) { cp := o; cf.seedOrg = &cp }
}

// WithPatients is WithSeedOrganization with n patients and the default rest.
func WithPatients(n int) Option {
	return WithSeedOrganization(SeedOrganization{Name: "Sandbox Organization", Patients: n})
}

// WithJobRetryAfter makes GET /Jobs/{id} send Retry-After: <d in whole seconds,
// rounded up> with every 202 (default 0: none, as the real DPC), to test that a
// client polls no faster than the server asks.
func WithJobRetryAfter(d time.Duration) Option { return func(cf *config) { cf.jobRetryAfter = d } }

// DefaultRosterLimit is the patient limit of one group in production DPC ("we're currently
// capped at 1350 patients per group", dpc-attribution GroupResource.verifyAndGetMembers).
const DefaultRosterLimit = 1350

// DefaultSuppressedShare is the share of patients a sandbox export serves only as an
// OperationOutcome line (opted out or failing the 18-month lookback). Real exports from
// practices with many new patients can be mostly such lines; 10% is a realistic floor.
const DefaultSuppressedShare = 0.10

// WithRosterLimit sets the most distinct members a group may have (default
// DefaultRosterLimit). A Group POST/PUT or $add beyond it answers 400 "Roster limit
// reached"; $add counts existing members, inactive ones included, as DPC does. n <= 0
// removes the limit (standard behaviour, and DPC's own default configuration).
func WithRosterLimit(n int) Option { return func(cf *config) { cf.rosterLimit = max(n, 0) } }

// WithPractitionerLimit sets the most practitioners an organization may register
// (default none, as DPC's default configuration); a POST /Practitioner beyond it
// answers 422 with an OperationOutcome "Provider limit reached".
func WithPractitionerLimit(n int) Option {
	return func(cf *config) { cf.practitionerLimit = max(n, 0) }
}

// WithSuppressedShare sets the share of patients served only as an OperationOutcome line
// (default DefaultSuppressedShare): the ~2% who opted out, the rest failing the lookback.
// 0 leaves only the opt-outs (what a bulk server without DPC's lookback does).
func WithSuppressedShare(f float64) Option { return func(cf *config) { cf.suppressedShare = f } }

// WithDuplicateGroupReturnsExisting makes a second Group POST for an NPI answer 200 with
// the existing group instead of DPC's 403.
func WithDuplicateGroupReturnsExisting() Option {
	return func(cf *config) { cf.duplicateGroupOK = true }
}

// WithClientTokenCheckedAtAuth makes /Token/auth refuse (401 "Invalid client token") a
// client token that is expired, deleted or forged. DPC does not: it issues an access token
// for any parseable client token and then answers 401 on every call made with it.
func WithClientTokenCheckedAtAuth() Option { return func(cf *config) { cf.checkTokenAtAuth = true } }

// WithJobDelete makes DELETE /Jobs/{id} cancel the job (202), as the bulk data spec
// allows; DPC has no DELETE there (405).
func WithJobDelete() Option { return func(cf *config) { cf.jobDelete = true } }

// WithLenientMediaTypes accepts any Accept on /Jobs (DPC: 406 unless application/json)
// and any Content-Type on FHIR writes (DPC: 415 unless application/fhir+json).
func WithLenientMediaTypes() Option { return func(cf *config) { cf.lenientMedia = true } }

// WithVersion sets what GET /version answers (default "dpctest").
func WithVersion(v string) Option { return func(cf *config) { cf.version = v } }

// WithStandardBehaviour turns every DPC peculiarity the sandbox reproduces into the
// standard behaviour: RFC 7233 ranges, no roster limit, opt-outs only, duplicate Group
// POST answered with the existing group, client tokens checked at /Token/auth, job
// DELETE, lenient media types. For tests about something else; options after it win.
func WithStandardBehaviour() Option {
	return func(cf *config) {
		for _, o := range []Option{WithRFC7233Ranges(), WithRosterLimit(0), WithSuppressedShare(0),
			WithDuplicateGroupReturnsExisting(), WithClientTokenCheckedAtAuth(), WithJobDelete(), WithLenientMediaTypes()} {
			o(cf)
		}
	}
}
