// Package dpctest is a local DPC (Data at the Point of Care) API server for tests and demos,
// in the style of net/http/httptest: real auth, attribution, bulk export and faults on 127.0.0.1.
//
// # Using it
//
//	srv := dpctest.NewServer(dpctest.WithMinKeyBits(2048), dpctest.WithJobDuration(time.Second))
//	defer srv.Close()
//	base := srv.BaseURL() // what a DPC client configures, e.g. http://127.0.0.1:41234/api/v1
//
// A user starts at the "portal" (unauthenticated, outside /api/v1), the sandbox's stand-in for
// the DPC web portal: POST {URL}/portal/Organization {"name","npi"} → 201 {"id","name","npi"};
// POST {URL}/portal/Organization/{id}/Token?label=&expiration= → the first client token;
// POST {URL}/portal/Organization/{id}/Key?label= {"key":PEM,"signature":base64} → the first key.
// Server.NewCredentials does the same in one call for tests that are not about onboarding.
// Everything under /api/v1 follows docs/dpc-api-guide.md and, where the real server differs,
// docs/dpc-server-behaviour.md.
//
// # Auth
//
// Client tokens are macaroons (base64url JSON array of v2 macaroons, "W3sidiI6Mi…") whose
// HMAC-SHA256 chain over the caveats dpc_macaroon_version, expires and organization_id is keyed
// by a per-server random secret: they cannot be forged or altered, and deleting a token
// (DELETE /Token/{id}) revokes it. POST /Token/auth checks, in this order, and answers:
//   - a missing form field: 400 {"id":…,"errors":["<field> must not be empty"]}
//   - grant_type ≠ client_credentials, scope ≠ system/*.*, wrong client_assertion_type:
//     400 {"code":400,"message":…}
//   - an unparseable JWT: 401 "Invalid JWT"; iss missing or ≠ sub: 400 "Issuer and Subject must be identical"
//   - a client token that is forged, expired or deleted: 401 "Invalid client token"
//   - a kid that is not a key of the token's organization: 401 "Cannot find public key"
//   - bad signature, alg other than RS256/384/512, missing or past exp, aud ≠ {BaseURL}/Token/auth:
//     401 "Invalid JWT"
//   - exp more than 5 minutes ahead: 401 "Token expiration cannot be more than 5 minutes in the future"
//   - missing or reused jti (remembered 5 minutes): 401 "Invalid JWT"
//
// JWT times are judged by the server Clock: a test that advances the clock must sign its
// assertions with Clock().Now(), or let the client measure the skew from the Date header,
// which every response takes from the same Clock. Access tokens live WithTokenLifetime (default 300s) on the
// same clock. A failed bearer check (Authorization: Bearer or ?token=) is 401 with an
// OperationOutcome. Keys: RSA only (EC/Ed25519 422), at least WithMinKeyBits (default 4096;
// smaller 400), label at most 25 characters (400), signature = base64 SHA256withRSA of Snippet
// (400 if it does not verify).
//
// # Attribution
//
// Practitioner and Patient POST (201, or 200 with the existing resource for an NPI/MBI already
// registered), $submit (Parameters wrapping a Bundle), list with _count/_offset paging
// (self/first/prev/next links; _count=0 gives only the total) and ?identifier= search; profile
// violations (invalid NPI Luhn or MBI format, missing name or birth date) are 422
// OperationOutcomes. Group POST/PUT/$add need X-Provenance: missing or unparseable 400;
// wrong profile, no recorded, reason other than ActReason#TREAT, role other than AGNT,
// whoReference not the caller's organization, or a practitioner whose NPI differs from the
// group's: 422. $remove needs none and marks members inactive. A second POST for an NPI that
// already has a group answers 200 with that group. Every attribution ends 90 days (on the
// Clock) after it was made or renewed; inactive members are left out of exports.
//
// # Export
//
// GET /Group/{id}/$export checks Accept (415), Prefer: respond-async (400), _type, _since (offset
// required, not in the future) and _outputFormat (400), a group of another organization (404)
// and a group with no active member (406). A job writes its files while it runs, batch by
// batch (WithBatchSize, default 100 patients), a new file every WithFileResources resources
// (default 5000), named {batchId}-{seq}.{patient|coverage|explanationofbenefit|operationoutcome}.ndjson,
// gzipped to the data dir with sha256 and lengths computed on the way, never holding the data set
// in memory. Opted-out patients (synth OptedOut) get one OperationOutcome line each in error[]
// files and no resources. _since keeps resources with lastUpdated in (_since, transactionTime].
// GET /Jobs/{id} is 202 with X-Progress until the work is done and WithJobDuration (default 2s on
// the clock) has passed, then 200 with the manifest and Expires; 410 after WithFileExpiry
// (default 24h); DELETE cancels (202). Like DPC, a 202 carries no Retry-After unless
// WithJobRetryAfter asks for one. At most WithJobWorkers jobs run at once; others are QUEUED.
// GET /Data/{file}: stored gzip passed through only with Accept-Encoding: gzip, else decoded;
// ETag = hex sha256, If-None-Match → 304, Last-Modified in epoch ms, HEAD; Range is DPC's
// end-exclusive "bytes=a-b" (open end: at most 1 MiB, always decoded bytes; Content-Range
// states what was sent) unless WithRFC7233Ranges; other organizations' files 404; expired 410.
//
// # Faults
//
// Faults (WithFaults, Server.SetFaults, or ParseFaults for the CLI's --faults) inject, per
// endpoint path prefix and optionally method, scripted ("skip S, then the next N requests")
// or random (probability p from a seeded RNG) failures: 429 with or without Retry-After,
// 500 and 503 bursts (503 on "/Token/auth" is a token endpoint outage), 410 expired,
// connection reset or truncation mid-body (headers with the real Content-Length, then part of
// the body, then RST or FIN), slow bodies, a flipped body byte (corrupt: in the stored gzip
// stream when the client accepts gzip, in the decoded NDJSON otherwise), a wrong checksum for the first output of a manifest,
// and a job that fails (500 on every poll). See FaultKind for the exact answers.
package dpctest
