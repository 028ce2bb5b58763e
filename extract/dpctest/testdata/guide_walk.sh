#!/usr/bin/env bash
# Walks the DPC API guide's curl sequence (docs/dpc-api-guide.md) against a running sandbox:
# portal org, openssl key pair + snippet signature, first key and client token, a JWT
# assembled and signed with openssl, /Token/validate, /Token/auth, Organization,
# practitioner, patients, X-Provenance attestation, group, $export, job polling and
# downloads verified against the manifest. Every answer is checked; any failure exits non-zero.
#
# Usage: DPC_ROOT=http://127.0.0.1:8080 guide_walk.sh
# Env: DPC_ROOT (server root, required), KEY_BITS (default 4096), WORKDIR (default: a temp dir),
#      NPI (a valid practitioner NPI), MBIS (space-separated patient MBIs).
set -euo pipefail

: "${DPC_ROOT:?set DPC_ROOT to the sandbox root URL, e.g. http://127.0.0.1:8080}"
KEY_BITS="${KEY_BITS:-4096}"
NPI="${NPI:-1234567893}"
MBIS="${MBIS:-1EG4TE5MK73 2EG4TE5MK73 3EG4TE5MK73}"
API="$DPC_ROOT/api/v1"
WORKDIR="${WORKDIR:-$(mktemp -d)}"
cd "$WORKDIR"

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# req METHOD URL [curl args...]: sets STATUS and BODY; headers go to headers.txt.
req() {
  local method=$1 url=$2; shift 2
  STATUS=$(curl -sS -o body.txt -D headers.txt -w '%{http_code}' -X "$method" "$url" "$@")
  BODY=$(tr -d '\000' < body.txt)
}
expect() { [ "$STATUS" = "$1" ] || fail "$2: status $STATUS, want $1: $BODY"; }
header() { grep -i "^$1:" headers.txt | tail -1 | cut -d' ' -f2- | tr -d '\r'; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

step "portal: create organization"
req POST "$DPC_ROOT/portal/Organization" -H 'Content-Type: application/json' -d '{"name":"Guide Walk Clinic","npi":"'"$NPI"'"}'
expect 201 "create organization"
ORG_ID=$(jq -r .id <<<"$BODY")

step "keys: openssl genrsa / rsa -pubout / dgst -sign / base64"
openssl genrsa -out ./private.pem "$KEY_BITS" 2>/dev/null
chmod 600 private.pem
openssl rsa -in ./private.pem -outform PEM -pubout -out ./public.pem 2>/dev/null
printf '%s' 'This is the snippet used to verify a key pair in DPC.' > snippet.txt
openssl dgst -sign private.pem -sha256 -out snippet.txt.sig snippet.txt
openssl dgst -sha256 -verify public.pem -signature snippet.txt.sig snippet.txt | grep -q 'Verified OK' || fail "local signature check"
openssl base64 -in snippet.txt.sig -out signature.txt

step "portal: upload public key"
jq -n --rawfile key public.pem --rawfile sig signature.txt '{key:$key, signature:$sig}' > key.json
req POST "$DPC_ROOT/portal/Organization/$ORG_ID/Key?label=guide-walk" -H 'Content-Type: application/json' --data-binary @key.json
expect 200 "upload key"
KEY_ID=$(jq -r .id <<<"$BODY")

step "portal: first client token"
req POST "$DPC_ROOT/portal/Organization/$ORG_ID/Token?label=guide-walk"
expect 200 "client token"
CLIENT_TOKEN=$(jq -r .token <<<"$BODY")
case "$CLIENT_TOKEN" in W3sidiI6Mi*) ;; *) fail "client token is not a macaroon";; esac

make_jwt() {
  local now header payload signing
  now=$(date +%s)
  header=$(printf '{"alg":"RS384","kid":"%s","typ":"JWT"}' "$KEY_ID" | b64url)
  payload=$(jq -cn --arg t "$CLIENT_TOKEN" --arg aud "$API/Token/auth" --arg jti "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
    --argjson exp $((now + 240)) --argjson iat "$now" '{iss:$t, sub:$t, aud:$aud, exp:$exp, iat:$iat, jti:$jti}' | b64url)
  signing="$header.$payload"
  printf '%s.%s' "$signing" "$(printf '%s' "$signing" | openssl dgst -sha384 -sign private.pem | b64url)"
}

step "JWT: validate"
JWT=$(make_jwt)
req POST "$API/Token/validate" -H 'Accept: application/json' -H 'Content-Type: text/plain' -d "$JWT"
expect 200 "Token/validate"

step "access token: /Token/auth"
FORM="grant_type=client_credentials&scope=system%2F*.*&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$JWT"
req POST "$API/Token/auth" -H 'Content-Type: application/x-www-form-urlencoded' -H 'Accept: application/json' -d "$FORM"
expect 200 "Token/auth"
ACCESS_TOKEN=$(jq -r .access_token <<<"$BODY")
[ "$(jq -r .token_type <<<"$BODY")" = bearer ] || fail "token_type"
[ "$(jq -r .scope <<<"$BODY")" = 'system/*.*' ] || fail "scope"
AUTH="Authorization: Bearer $ACCESS_TOKEN"

step "access token: a replayed JWT is refused"
req POST "$API/Token/auth" -H 'Content-Type: application/x-www-form-urlencoded' -d "$FORM"
expect 401 "replayed JWT"
[ "$(jq -r .message <<<"$BODY")" = "Invalid JWT" ] || fail "replay message: $BODY"

step "metadata and version (public)"
req GET "$API/metadata" -H 'Accept: application/fhir+json'
expect 200 "metadata"
[ "$(jq -r .resourceType <<<"$BODY")" = CapabilityStatement ] || fail "metadata is not a CapabilityStatement"
[ "$(jq -r .fhirVersion <<<"$BODY")" = 3.0.2 ] || fail "metadata fhirVersion"
req GET "$API/version"
expect 200 "version"
[ -n "$BODY" ] || fail "empty version"

step "organization (a Bundle, as DPC's GET /Organization answers)"
req GET "$API/Organization" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 200 "Organization"
[ "$(jq -r .resourceType <<<"$BODY")" = Bundle ] || fail "GET /Organization is not a Bundle"
[ "$(jq -r '.entry[0].resource.id' <<<"$BODY")" = "$ORG_ID" ] || fail "organization id"
req GET "$API/Organization/$ORG_ID" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 200 "Organization/{id}"
[ "$(jq -r .id <<<"$BODY")" = "$ORG_ID" ] || fail "organization/{id} id"

step "practitioner"
jq -n --arg npi "$NPI" '{resourceType:"Practitioner", identifier:[{system:"http://hl7.org/fhir/sid/us-npi", value:$npi}], name:[{family:"Holguin", given:["Alejandro"]}]}' > practitioner.json
req POST "$API/Practitioner" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/json' -d @practitioner.json
expect 415 "create practitioner with a non-FHIR Content-Type"
req POST "$API/Practitioner" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/fhir+json' -d @practitioner.json
expect 201 "create practitioner"
PRACT_ID=$(jq -r .id <<<"$BODY")
req GET "$API/Practitioner?identifier=$NPI" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 200 "find practitioner"
[ "$(jq -r '.entry[0].resource.id' <<<"$BODY")" = "$PRACT_ID" ] || fail "practitioner search"

step "patients"
MEMBERS="[]"
for MBI in $MBIS; do
  jq -n --arg mbi "$MBI" --arg org "Organization/$ORG_ID" '{resourceType:"Patient", identifier:[{system:"http://hl7.org/fhir/sid/us-mbi", value:$mbi}],
    name:[{family:"Wyman", given:["Cruz"]}], gender:"male", birthDate:"1956-02-08", managingOrganization:{reference:$org}}' > patient.json
  req POST "$API/Patient" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/fhir+json' -d @patient.json
  expect 201 "create patient $MBI"
  MEMBERS=$(jq -c --arg ref "Patient/$(jq -r .id <<<"$BODY")" '. + [{entity:{reference:$ref}}]' <<<"$MEMBERS")
done
FIRST_MBI=${MBIS%% *}
req GET "$API/Patient?identifier=$FIRST_MBI" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 200 "find patient"
[ "$(jq -r .total <<<"$BODY")" = 1 ] || fail "patient search"

step "attestation (X-Provenance) and group"
PROVENANCE=$(jq -cn --arg org "Organization/$ORG_ID" --arg pr "Practitioner/$PRACT_ID" '{resourceType:"Provenance",
  meta:{profile:["https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"]}, recorded:"1990-01-01T00:00:00.000-05:00",
  reason:[{system:"http://hl7.org/fhir/v3/ActReason", code:"TREAT"}],
  agent:[{role:[{coding:[{system:"http://hl7.org/fhir/v3/RoleClass", code:"AGNT"}]}], whoReference:{reference:$org}, onBehalfOfReference:{reference:$pr}}]}')
jq -n --arg npi "$NPI" --argjson members "$MEMBERS" '{resourceType:"Group", type:"person", actual:true,
  characteristic:[{code:{coding:[{code:"attributed-to"}]}, valueCodeableConcept:{coding:[{system:"http://hl7.org/fhir/sid/us-npi", code:$npi}]}}],
  member:$members}' > group.json
req POST "$API/Group" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/fhir+json' -d @group.json
expect 400 "group without X-Provenance"
req POST "$API/Group" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/fhir+json' -H "X-Provenance: $PROVENANCE" -d @group.json
expect 201 "create group"
GROUP_ID=$(jq -r .id <<<"$BODY")
req POST "$API/Group" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Content-Type: application/fhir+json' -H "X-Provenance: $PROVENANCE" -d @group.json
expect 403 "second group for the same practitioner"
req GET "$API/Group?characteristic-value=attributed-to\$$NPI" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 200 "find group"
[ "$(jq -r '.entry[0].resource.id' <<<"$BODY")" = "$GROUP_ID" ] || fail "group search"

step "export"
req GET "$API/Group/$GROUP_ID/\$export" -H "$AUTH" -H 'Accept: application/fhir+json' -H 'Prefer: respond-async'
expect 202 "kick-off"
JOB_URL=$(header Content-Location)
[ -n "$JOB_URL" ] || fail "no Content-Location"

step "job status"
for _ in $(seq 1 600); do
  req GET "$JOB_URL" -H "$AUTH"
  [ "$STATUS" = 200 ] && break
  expect 202 "job status"
  [ -n "$(header X-Progress)" ] || fail "202 without X-Progress"
  sleep 0.2
done
expect 200 "job complete"
echo "$BODY" > manifest.json
req GET "$JOB_URL" -H "$AUTH" -H 'Accept: application/fhir+json'
expect 406 "job status with a FHIR Accept"
req DELETE "$JOB_URL" -H "$AUTH"
expect 405 "DELETE on a job"
[ "$(jq '.output | length' manifest.json)" -gt 0 ] || fail "no output files"

step "download and verify every file"
FILES=0
while IFS=$'\t' read -r url count sum len; do
  req GET "$url" -H "$AUTH"
  expect 200 "download $url"
  [ "$(sha256sum body.txt | cut -d' ' -f1)" = "${sum#sha256:}" ] || fail "checksum of $url"
  [ "$(wc -l < body.txt | tr -d ' ')" = "$count" ] || fail "line count of $url"
  req GET "$url" -H "$AUTH" -H 'Accept-Encoding: gzip'
  expect 200 "gzip download $url"
  [ "$(header Content-Encoding)" = gzip ] || fail "gzip pass-through"
  [ "$(wc -c < body.txt | tr -d ' ')" = "$len" ] || fail "file_length of $url"
  [ "$(gzip -dc body.txt | sha256sum | cut -d' ' -f1)" = "${sum#sha256:}" ] || fail "gzip checksum of $url"
  FILES=$((FILES + 1))
done < <(jq -r '(.output + .error)[] | [.url, .count,
  (.extension[] | select(.url=="https://dpc.cms.gov/checksum") | .valueString),
  (.extension[] | select(.url=="https://dpc.cms.gov/file_length") | .valueDecimal)] | @tsv' manifest.json)

echo "guide walk: OK ($FILES files verified)"
