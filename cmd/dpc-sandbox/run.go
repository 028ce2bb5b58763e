package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// run parses flags, starts the sandbox and serves until ctx is done. It returns
// the process exit code: 0 after a clean stop, 1 when the server cannot start,
// 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dpc-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr          = fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port)")
		patients      = fs.Int("patients", 0, "seed one organization with this many patients (0: no seed data)")
		practitioners = fs.Int("practitioners", 0, "practitioners (one attribution group each) for --patients; 0: one per 5000 patients")
		seed          = fs.Int64("seed", 1, "seed of the synthetic data and of random faults")
		fhirVersion   = fs.String("fhir-version", "STU3", "resource shapes to serve: STU3 (as DPC) or R4")
		tokenLifetime = fs.Duration("token-lifetime", 300*time.Second, "access token lifetime")
		jobDuration   = fs.Duration("job-duration", 5*time.Second, "least time an export job takes")
		faults        = fs.String("faults", "", `faults to inject, e.g. "429@/Data/:count=3:retry-after=2s;reset@/Data/:p=0.05" (see package dpctest)`)
		dataDir       = fs.String("data-dir", "", "where export files are written (default: a temporary directory removed at exit)")
		minKeyBits    = fs.Int("min-key-bits", 4096, "smallest RSA key accepted at /Key")
		credsDir      = fs.String("credentials-dir", "", "with --patients: write ready credentials here (private.pem, key_id, client_token, base_url, org_id, groups.json)")
		fileResources = fs.Int("file-resources", 5000, "resources per export file")
		batchSize     = fs.Int("batch-size", 100, "patients per export batch")
		rfc7233       = fs.Bool("rfc7233-ranges", false, "serve standard RFC 7233 byte ranges instead of DPC's end-exclusive ones")
		jobRetryAfter = fs.Duration("job-retry-after", 0, "send this Retry-After (whole seconds) on 202 job polls (default none, as DPC)")
		rosterLimit   = fs.Int("roster-limit", dpctest.DefaultRosterLimit, "most patients per group, inactive members included (DPC production: 1350; 0: none)")
		practLimit    = fs.Int("practitioner-limit", 0, "most practitioners per organization (0: none, DPC's default configuration)")
		suppressed    = fs.Float64("suppressed-share", dpctest.DefaultSuppressedShare, "share of patients served only as OperationOutcome (opt-out ~2% plus lookback failures)")
		dialectName   = fs.String("dialect", "dpc", "API to speak besides DPC's: dpc, smart, bcda or ab2d (see extract/dpctest/DIALECTS.md); non-DPC needs --patients")
		standard      = fs.Bool("standard", false, "standard behaviour instead of DPC's peculiarities (see the fidelity table in extract/dpctest/README.md); later flags still apply")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "dpc-sandbox: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dpc-sandbox: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	f, err := dpctest.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintf(stderr, "dpc-sandbox: --faults: %v\n", err)
		return 2
	}
	dialect, err := dpctest.ParseDialect(*dialectName)
	if err != nil {
		fmt.Fprintf(stderr, "dpc-sandbox: --dialect: %v\n", err)
		return 2
	}
	if dialect != dpctest.DialectDPC && *patients <= 0 {
		fmt.Fprintln(stderr, "dpc-sandbox: --dialect needs --patients")
		return 2
	}
	if *credsDir != "" && *patients <= 0 {
		fmt.Fprintln(stderr, "dpc-sandbox: --credentials-dir needs --patients")
		return 2
	}
	var opts []dpctest.Option
	if *standard {
		opts = append(opts, dpctest.WithStandardBehaviour())
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !*standard || set["roster-limit"] {
		opts = append(opts, dpctest.WithRosterLimit(*rosterLimit))
	}
	if !*standard || set["suppressed-share"] {
		opts = append(opts, dpctest.WithSuppressedShare(*suppressed))
	}
	opts = append(opts, dpctest.WithPractitionerLimit(*practLimit),
		dpctest.WithSeed(*seed), dpctest.WithFHIRVersion(*fhirVersion), dpctest.WithTokenLifetime(*tokenLifetime),
		dpctest.WithJobDuration(*jobDuration), dpctest.WithFaults(f), dpctest.WithMinKeyBits(*minKeyBits),
		dpctest.WithFileResources(*fileResources), dpctest.WithBatchSize(*batchSize),
		dpctest.WithJobRetryAfter(*jobRetryAfter),
	)
	if *dataDir != "" {
		opts = append(opts, dpctest.WithDataDir(*dataDir))
	}
	if *rfc7233 {
		opts = append(opts, dpctest.WithRFC7233Ranges())
	}
	if *patients > 0 {
		opts = append(opts, dpctest.WithSeedOrganization(dpctest.SeedOrganization{
			Name: "Sandbox Organization", Patients: *patients, Practitioners: *practitioners}))
	}
	opts = append(opts, dialectOptions(dialect, set, *fhirVersion, *tokenLifetime, *jobRetryAfter, *suppressed)...)
	srv, err := dpctest.Listen(*addr, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "dpc-sandbox: %v\n", err)
		return 1
	}
	defer srv.Close()

	// Credentials are written before the "listening" line, which scripts wait for.
	sd := srv.Seeded()
	if sd != nil && *credsDir != "" && dialect != dpctest.DialectDPC {
		if err := writeDialectCredentials(srv, dialect, *credsDir, *minKeyBits); err != nil {
			fmt.Fprintf(stderr, "dpc-sandbox: credentials: %v\n", err)
			return 1
		}
	} else if sd != nil && *credsDir != "" {
		if err := writeCredentials(srv, sd, *credsDir, *minKeyBits); err != nil {
			fmt.Fprintf(stderr, "dpc-sandbox: credentials: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "dpc-sandbox listening on %s\nDPC API base URL: %s\n", srv.URL, srv.BaseURL())
	if sd != nil {
		fmt.Fprintf(stdout, "seeded organization %s: %d patients in %d groups\n", sd.OrgID, sd.Patients, len(sd.Groups))
		if *credsDir != "" {
			fmt.Fprintf(stdout, "credentials written to %s (private.pem, key_id, client_token, base_url, org_id, groups.json)\n", *credsDir)
		}
	}
	if dialect != dpctest.DialectDPC {
		printDialect(stdout, srv, dialect, *credsDir)
	}
	orgID, createOrg := "ORG_ID", fmt.Sprintf("  curl -s -X POST %s/portal/Organization -d '{\"name\":\"My Clinic\"}'   # → {\"id\":ORG_ID,...}\n", srv.URL)
	if sd != nil {
		orgID, createOrg = sd.OrgID, "" // the seeded organization takes keys and tokens from the portal too
	}
	fmt.Fprintf(stdout, `
Get credentials the way a DPC user does (the portal is the sandbox's stand-in for dpc.cms.gov):
%[5]s  openssl genrsa -out private.pem %[2]d
  openssl rsa -in private.pem -pubout -out public.pem
  printf '%%s' '%[3]s' > snippet.txt
  openssl dgst -sign private.pem -sha256 snippet.txt | openssl base64 -A > signature.txt
  jq -n --rawfile key public.pem --rawfile sig signature.txt '{key:$key,signature:$sig}' |
    curl -s -X POST '%[1]s/portal/Organization/%[6]s/Key?label=mykey' --data-binary @-   # → {"id":KEY_ID,...}
  curl -s -X POST '%[1]s/portal/Organization/%[6]s/Token?label=mytoken'                 # → {"token":CLIENT_TOKEN,...}
Then sign a JWT (iss=sub=CLIENT_TOKEN, aud=%[4]s/Token/auth, kid=KEY_ID) and POST it to %[4]s/Token/auth.
Press Ctrl-C to stop.
`, srv.URL, *minKeyBits, dpctest.Snippet, srv.BaseURL(), createOrg, orgID)

	<-ctx.Done()
	fmt.Fprintln(stdout, "dpc-sandbox: stopping")
	return 0
}

// writeCredentials registers a key and a client token for the seeded organization and
// writes them where a client (or make demo) can pick them up.
func writeCredentials(srv *dpctest.Server, sd *dpctest.Seeded, dir string, bits int) error {
	creds, err := srv.NewCredentials(sd.OrgID, max(bits, 2048))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	groups, err := json.MarshalIndent(sd.Groups, "", "  ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"private.pem", creds.PrivateKeyPEM, 0o600},
		{"client_token", []byte(creds.ClientToken + "\n"), 0o600},
		{"key_id", []byte(creds.KeyID + "\n"), 0o644},
		{"base_url", []byte(creds.BaseURL + "\n"), 0o644},
		{"org_id", []byte(creds.OrgID + "\n"), 0o644},
		{"groups.json", append(groups, '\n'), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil { // WriteFile keeps an existing file's mode
			return err
		}
	}
	return nil
}
