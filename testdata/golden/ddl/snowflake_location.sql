-- dpcetl claims tables, schema version 2.1.0, dialect snowflake. Generated: do not edit.

CREATE EXTERNAL TABLE IF NOT EXISTS export_error (
  operation_outcome_id VARCHAR AS (value:operation_outcome_id::VARCHAR),
  severity VARCHAR AS (value:severity::VARCHAR),
  "CODE" VARCHAR AS (value:code::VARCHAR),
  details_text VARCHAR AS (value:details_text::VARCHAR),
  patient_id VARCHAR AS (value:patient_id::VARCHAR),
  "LOCATION" VARCHAR AS (value:location::VARCHAR),
  diagnostics VARCHAR AS (value:diagnostics::VARCHAR),
  export_job_id VARCHAR AS (value:export_job_id::VARCHAR),
  source_fhir_version VARCHAR AS (value:source_fhir_version::VARCHAR),
  ingested_at TIMESTAMP_TZ AS (value:ingested_at::TIMESTAMP_TZ),
  export_date DATE AS (TO_DATE(REGEXP_SUBSTR(metadata$filename, '/export_date=([^/]+)/', 1, 1, 'e', 1))),
  group_id VARCHAR AS (REGEXP_SUBSTR(metadata$filename, '/(group_id|group)=([^/]+)/', 1, 1, 'e', 2))
)
PARTITION BY (export_date, group_id)
LOCATION = @claims.public.dpc_stage/dpc/export_error/
FILE_FORMAT = (TYPE = PARQUET)
AUTO_REFRESH = FALSE
COMMENT = 'dpcetl export_error (schema 2.1.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).';
