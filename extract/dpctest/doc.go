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
// (DELETE /Token/{id}, 204) revokes it. POST /Token/auth checks, in DPC's order, and answers:
//   - a missing form field: 400 {"id":…,"errors":["<field> must not be empty"]}
//   - grant_type ≠ client_credentials, wrong client_assertion_type, scope ≠ system/*.*:
//     400 {"code":400,"message":…}
//   - an unparseable JWT: 401 "Invalid JWT"; no sub: 401 "JWT must have client_id"
//   - a client token that does not deserialize: 500 (DPC's unhandled BakeryException)
//   - a kid that is not a key of the token's organization: 401 "Cannot find public key with id: <kid>"
//   - bad signature, alg other than RS256/384/512, past exp, aud ≠ {BaseURL}/Token/auth: 401 "Invalid JWT"
//   - no iss: 400 "Claim issuer must be present"; iss ≠ sub: 400 "Issuer and Subject must be identical"
//   - no jti: 400 "Claim id must be present"; a reused jti (remembered 5 minutes): 401 "Invalid JWT"
//   - no exp: 400 "Claim expiration must be present"; exp more than 5 minutes ahead: 401 "Not authorized"
//
// Like DPC, /Token/auth only reads organization_id from the client token: an expired, deleted
// or forged one still gets an access token, and every call made with it is 401 (the macaroon is
// checked on each call). WithClientTokenCheckedAtAuth refuses them at /Token/auth instead.
// /Token/validate applies DPC's TokenValidator (kid a UUID, exp, iss, jti not used at
// /Token/auth, sub = iss, aud, and iss a deserializable client token, not a token id).
//
// JWT times are judged by the server Clock: a test that advances the clock must sign its
// assertions with Clock().Now(), or let the client measure the skew from the Date header,
// which every response takes from the same Clock. Access tokens live WithTokenLifetime (default 300s) on the
// same clock. A failed bearer check (Authorization: Bearer or ?token=) is 401 with an
// OperationOutcome. Keys: RSA only (EC/Ed25519 422), at least WithMinKeyBits (default 4096;
// smaller 400), label at most 25 characters (400), signature = base64 SHA256withRSA of Snippet
// (400 if it does not verify; a PKCS#1 "RSA PUBLIC KEY" never verifies, as in DPC).
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
// group's: 422. $remove needs none and marks members inactive; removing a patient that is not
// a member is 400. A member that is not a patient of the organization is 400 "All patients in
// group must exist". A second POST for an NPI that already has a group is 403, as DPC
// (WithDuplicateGroupReturnsExisting: 200 with that group). A group past WithRosterLimit
// (default 1350; $add counts every stored member, inactive ones too) is 400 "Roster limit
// reached"; a practitioner past WithPractitionerLimit (default none) is 422 "Provider limit
// reached". Patients need a gender. FHIR writes with a Content-Type other than
// application/fhir+json are 415. GET /Organization is a collection Bundle. Every attribution
// ends 90 days (on the Clock) after it was made or renewed; inactive members are left out of
// exports. GET /metadata (CapabilityStatement) and /version are public; GET
// /Patient/{id}/$everything (X-Provenance required) answers a searchset Bundle, or 403 with the
// OperationOutcome for a suppressed patient.
//
// # Export
//
// GET /Group/{id}/$export checks Accept (415), Prefer: respond-async (400), _type, _since (offset
// required, not in the future) and _outputFormat (400), a group of another organization (404)
// and a group with no active member (406). A job writes its files while it runs, batch by
// batch (WithBatchSize, default 100 patients), a new file every WithFileResources resources
// (default 5000), named {batchId}-{seq}.{patient|coverage|explanationofbenefit|operationoutcome}.ndjson,
// gzipped to the data dir with sha256 and lengths computed on the way, never holding the data set
// in memory. Suppressed patients (synth Suppressed: the ~2% who opted out, code exception, and
// lookback failures, code suppressed, up to WithSuppressedShare, default 10%) get one
// OperationOutcome line each in error[] files, with DPC's reason text, and no resources. _since keeps resources with lastUpdated in (_since, transactionTime].
// GET /Jobs/{id} is 202 with X-Progress until the work is done and WithJobDuration (default 2s on
// the clock) has passed, then 200 with the manifest and Expires; 410 after 24 h.
// It wants Accept: application/json (406 otherwise); another organization's job
// is 401 and an unknown one 404, both plain text; a non-UUID id is 500. There is no DELETE
// (405; WithJobDelete cancels with 202). Like DPC, a 202 carries no Retry-After unless
// WithJobRetryAfter asks for one. At most 2 jobs run at once; others are QUEUED.
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
// and a job that fails (500 on every poll). See FaultKind for the exact answers. With a
// dialect, rules also match its paths relative to its FHIR base ("/jobs/", "/data/",
// "/files/", "/Job/"); see DIALECTS.md.
package dpctest
