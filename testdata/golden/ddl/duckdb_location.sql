-- dpcetl claims tables, schema version 1.0.0, dialect duckdb. Generated: do not edit.

CREATE OR REPLACE VIEW eob AS
SELECT
  CAST(eob_id AS VARCHAR) AS eob_id,
  CAST(claim_id AS VARCHAR) AS claim_id,
  CAST(claim_group_id AS VARCHAR) AS claim_group_id,
  CAST(claim_type AS VARCHAR) AS claim_type,
  CAST(claim_type_raw AS VARCHAR) AS claim_type_raw,
  CAST(nch_claim_type_code AS VARCHAR) AS nch_claim_type_code,
  CAST(patient_id AS VARCHAR) AS patient_id,
  CAST("status" AS VARCHAR) AS "status",
  CAST(billable_period_start AS DATE) AS billable_period_start,
  CAST(billable_period_end AS DATE) AS billable_period_end,
  CAST(billing_npi AS VARCHAR) AS billing_npi,
  CAST(attending_npi AS VARCHAR) AS attending_npi,
  CAST(operating_npi AS VARCHAR) AS operating_npi,
  CAST(provider_ccn AS VARCHAR) AS provider_ccn,
  CAST(facility_type_code AS VARCHAR) AS facility_type_code,
  CAST(claim_frequency_code AS VARCHAR) AS claim_frequency_code,
  CAST(drg_code AS VARCHAR) AS drg_code,
  CAST(discharge_status_code AS VARCHAR) AS discharge_status_code,
  CAST(admission_date AS DATE) AS admission_date,
  CAST(discharge_date AS DATE) AS discharge_date,
  CAST(admission_type_code AS VARCHAR) AS admission_type_code,
  CAST(principal_diagnosis_code AS VARCHAR) AS principal_diagnosis_code,
  CAST(total_charge_amount AS DECIMAL(15,2)) AS total_charge_amount,
  CAST(payment_amount AS DECIMAL(15,2)) AS payment_amount,
  CAST(payment_date AS DATE) AS payment_date,
  CAST(coverage_reference AS VARCHAR) AS coverage_reference,
  CAST(pde_days_supply AS INTEGER) AS pde_days_supply,
  CAST(pde_fill_number AS INTEGER) AS pde_fill_number,
  CAST(pde_daw_code AS VARCHAR) AS pde_daw_code,
  CAST(last_updated AS TIMESTAMPTZ) AS last_updated,
  CAST(export_job_id AS VARCHAR) AS export_job_id,
  CAST(source_fhir_version AS VARCHAR) AS source_fhir_version,
  CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at,
  CAST(regexp_extract(filename, '/export_date=([^/]+)/', 1) AS DATE) AS export_date,
  regexp_extract(filename, '/(group_id|group)=([^/]+)/', 2) AS group_id
FROM read_parquet('/data/dpc/eob/*/*/*.parquet', hive_partitioning = false, filename = true, union_by_name = true);
COMMENT ON VIEW eob IS 'dpcetl eob (schema 1.0.0): One row per claim (ExplanationOfBenefit).';

CREATE OR REPLACE VIEW eob_line AS
SELECT
  CAST(eob_id AS VARCHAR) AS eob_id,
  CAST(patient_id AS VARCHAR) AS patient_id,
  CAST(claim_type AS VARCHAR) AS claim_type,
  CAST(line_number AS INTEGER) AS line_number,
  CAST(hcpcs_code AS VARCHAR) AS hcpcs_code,
  CAST(hcpcs_modifier_1 AS VARCHAR) AS hcpcs_modifier_1,
  CAST(hcpcs_modifier_2 AS VARCHAR) AS hcpcs_modifier_2,
  CAST(ndc AS VARCHAR) AS ndc,
  CAST(revenue_center_code AS VARCHAR) AS revenue_center_code,
  CAST(place_of_service_code AS VARCHAR) AS place_of_service_code,
  CAST(betos_code AS VARCHAR) AS betos_code,
  CAST(service_start AS DATE) AS service_start,
  CAST(service_end AS DATE) AS service_end,
  CAST(quantity AS DECIMAL(18,6)) AS quantity,
  CAST(rendering_npi AS VARCHAR) AS rendering_npi,
  CAST(care_team_sequence AS INTEGER) AS care_team_sequence,
  CAST(submitted_amount AS DECIMAL(15,2)) AS submitted_amount,
  CAST(allowed_amount AS DECIMAL(15,2)) AS allowed_amount,
  CAST(paid_amount AS DECIMAL(15,2)) AS paid_amount,
  CAST(provider_paid_amount AS DECIMAL(15,2)) AS provider_paid_amount,
  CAST(beneficiary_paid_amount AS DECIMAL(15,2)) AS beneficiary_paid_amount,
  CAST(deductible_amount AS DECIMAL(15,2)) AS deductible_amount,
  CAST(coinsurance_amount AS DECIMAL(15,2)) AS coinsurance_amount,
  CAST(patient_pay_amount AS DECIMAL(15,2)) AS patient_pay_amount,
  CAST(primary_payer_paid_amount AS DECIMAL(15,2)) AS primary_payer_paid_amount,
  CAST(noncovered_amount AS DECIMAL(15,2)) AS noncovered_amount,
  CAST(rate_amount AS DECIMAL(15,2)) AS rate_amount,
  CAST(export_job_id AS VARCHAR) AS export_job_id,
  CAST(source_fhir_version AS VARCHAR) AS source_fhir_version,
  CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at,
  CAST(regexp_extract(filename, '/export_date=([^/]+)/', 1) AS DATE) AS export_date,
  regexp_extract(filename, '/(group_id|group)=([^/]+)/', 2) AS group_id
FROM read_parquet('/data/dpc/eob_line/*/*/*.parquet', hive_partitioning = false, filename = true, union_by_name = true);
COMMENT ON VIEW eob_line IS 'dpcetl eob_line (schema 1.0.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.';

-- eob_latest: one row per eob_id, from its latest delivery.
CREATE OR REPLACE VIEW eob_latest AS
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id,
    ROW_NUMBER() OVER (PARTITION BY eob_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM eob
) AS ranked
WHERE dpcetl_rank = 1;

-- eob_line_latest: the rows of each eob's latest delivery, one per eob_id, line_number.
CREATE OR REPLACE VIEW eob_line_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM eob_line AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;
