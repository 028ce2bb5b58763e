// Package transform runs SQL on FHIR v2 ViewDefinitions over NDJSON and emits typed Arrow
// record batches: one parse per line, every view of that resource type evaluated on it.
//
// # Column types
//
// A view's name is the table name. A column's `type` is a FHIR primitive type name or its
// StructureDefinition URI (http://hl7.org/fhir/StructureDefinition/string; "Relative URIs
// are implicitly given the 'http://hl7.org/fhir/StructureDefinition/' prefix"); the
// engine outputs primitive values only. Each column's FHIR type maps to Arrow as follows
// (a column with "collection": true becomes list<T> of the same T; an empty collection is an
// empty list, never null):
//
//	string, code, id, uri, url, canonical,
//	oid, uuid, markdown, base64Binary, xhtml, (no type) → utf8
//	boolean                                              → bool
//	integer, positiveInt, unsignedInt                    → int32
//	integer64                                            → int64
//	decimal                                              → decimal128(38,18), or decimal128(p,s) from the ansi/type tag
//	date                                                 → date32
//	dateTime, instant                                    → timestamp(us, UTC)
//	time                                                 → time64(us)
//
// Tags (ViewDefinition column `tag`, {"name": ..., "value": ...}):
//
//	{"name": "ansi/type", "value": "DECIMAL(15,2)"}   precision and scale of a decimal column
//	                                                  (NUMERIC(p,s) and DEC(p,s) are accepted too; p 1..38). Money uses DECIMAL(15,2).
//	{"name": "ansi/type", "value": "VARCHAR(64)"}     other ISO/IEC 9075 names are accepted when they agree with the
//	                                                  FHIR type: VARCHAR, CHARACTER VARYING, CHAR, CHARACTER, NVARCHAR,
//	                                                  NCHAR, STRING, TEXT (each with an optional (n)), BOOLEAN, INTEGER,
//	                                                  INT, BIGINT, DATE, TIMESTAMP[(p)] [WITH TIME ZONE], TIMESTAMPTZ[(p)],
//	                                                  TIME[(p)]. A disagreeing or unknown one is an error. (n) and (p)
//	                                                  are limits, not truncation: a value longer than n characters, or
//	                                                  with more than p fractional second digits (p 0..6), is quarantined.
//	{"name": "arrow/dictionary", "value": "true"}     dictionary<int32, utf8> encoding for a low-cardinality
//	                                                  string-like column (codes); "false" is the default.
//
// Every field carries metadata "fhir_type" (the view's type) and "description" when given;
// the schema carries "fhir_resource".
//
// # Values
//
// Nothing is rounded, truncated or guessed (but see WithMoneyPolicy). A value that does not fit its column is an error
// naming the resource (Type/id), the view, the column and the value, and the line is
// quarantined: a decimal with more fractional digits than the scale (unless they are zeros)
// or more digits than the precision; a non-integer in an integer column; an integer outside
// int32; a string in a number column; a number in a date column; a complex value (object)
// in any column; and more than one value in a column that is not "collection": true.
// Numbers go into string columns as their exact JSON text. Decimals are read from the JSON
// text, never through float64.
//
// WithMoneyPolicy decides decimals with more fractional digits than the scale: MoneyStrict (the
// default) quarantines as above; MoneyRoundHalfEven rounds to the scale, half to even, and counts
// each rounded value in Stats.Rounded ("table.column"); MoneyExact writes every decimal column as
// decimal128(38,18), so a float artifact such as 112.41600000000001 is kept digit for digit.
// Malformed numbers ("12,50", "abc") and values beyond the precision quarantine under every policy.
//
// date accepts YYYY, YYYY-MM and YYYY-MM-DD; partial dates become the first day of the
// period (declare the column as string to keep the precision). A dateTime keeps its date as
// written, in its own offset, not shifted to UTC (2021-03-05T23:30:00-05:00 is 2021-03-05: a
// claim's dates are local service dates); a malformed time part is an error. dateTime/instant accept the
// same partial forms (the first instant of the period, UTC) and full date-times with a zone
// (converted to UTC); a time without a zone is taken as UTC; more than 6 fractional second
// digits that are not zeros is an error.
//
// # Lineage
//
// WithLineage appends export_job_id (utf8), source_fhir_version (utf8: "STU3" or "R4") and
// ingested_at (timestamp(us, UTC)) to every table; views may not declare those names.
//
// # Bad input
//
// A line that is not JSON, not an object, has no resourceType, has a resourceType other than
// Source.Type (when set), or breaks a view (evaluation or type error) is quarantined: the
// Quarantine gets file, line number, error and raw bytes; Stats.Quarantined counts it; and
// the resource adds no rows to any table (all views of a line are evaluated and converted
// before anything is appended). Without WithQuarantine, the first bad line fails the run
// with ErrQuarantineThreshold. WithThreshold(count, fraction) sets the limits: the count
// is checked as lines are quarantined, the fraction (of non-blank lines read) at the end.
//
// # Streaming and memory
//
// Each line is parsed once (package jsontree: a zero-copy node arena over the line, reused
// between lines); members no view expression names are validated but not materialised.
// Every view on the line's resource type is evaluated against that one parse. Record
// batches hold at most WithBatchRows rows; each concurrent worker (WithConcurrency, one
// source at a time) keeps one partial batch per table, so memory is bounded by
// concurrency × tables × batch size plus the longest line (WithMaxLineBytes, default
// 64 MiB; longer lines are quarantined). emit is never called concurrently; blank lines
// are ignored; a run that fails emits none of the failing source's unflushed rows.
//
// # FHIRPath
//
// Supported: literals (string, integer, decimal, boolean, @date/@dateTime/@T time, {}),
// member paths with choice types (value → valueQuantity), indexers, $this, $index,
// %constants (view `constant`), %rowIndex, %resource (the resource), %context (the input
// of the expression: the current forEach node for a column, unchanged inside where() and
// select(), so `%resource.careTeam.where(sequence = %context.careTeamLinkId.first())`
// follows a line's link), operators (. [] unary -, * / div mod,
// + - &, |, is as, < > <= >=, = != ~ !~, in contains, and or xor implies) and the functions
// listed by fhirpath.Functions() (where, select, exists, empty, count, first, last, single,
// tail, skip, take, not, ofType, as, is, extension, join, lowBoundary, highBoundary,
// getResourceKey, getReferenceKey, iif, hasValue, toString, toInteger, toDecimal,
// startsWith, endsWith, contains, substring, lower, upper, length, trim, allTrue, anyTrue,
// distinct). getResourceKey() is the resource id; getReferenceKey([Type]) is the id part
// of a literal reference ("Patient/123" → "123"), empty when the type does not match.
// join() over an empty collection is empty (FHIRPath: "If the input is empty, the result
// is empty"). lowBoundary([precision])/highBoundary([precision]) follow FHIRPath (decimal
// places for Decimal, digits for Date/DateTime/Time: '2010-02'.highBoundary(6) is 2010-02)
// and apply to a Period (its start's low, its end's high boundary; empty when open).
// extension(url) on a primitive reads the JSON `_name` sibling (birthDate → _birthDate).
// Anything else is refused when the view is parsed. Choice elements resolve by FHIR type
// suffix only (value → valueQuantity, never item.diagnosis → diagnosisLinkId). Decimal
// arithmetic (+ - * /) is done in float64 and rounded to the operands' scale for + and -;
// a result that then has more digits than its column allows is quarantined, not rounded.
package transform
