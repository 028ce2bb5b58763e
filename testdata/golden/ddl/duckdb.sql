-- dpcetl claims tables, schema version 1.0.0, dialect duckdb. Generated: do not edit.

CREATE TABLE IF NOT EXISTS patient (
  patient_id VARCHAR,
  bene_id VARCHAR,
  mbi VARCHAR,
  given_name VARCHAR,
  middle_name VARCHAR,
  family_name VARCHAR,
  gender VARCHAR,
  birth_date DATE,
  death_date DATE,
  state_code VARCHAR,
  zip_code VARCHAR,
  race_code VARCHAR,
  last_updated TIMESTAMPTZ,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE patient IS 'dpcetl patient (schema 1.0.0): One row per beneficiary (Patient).';

CREATE TABLE IF NOT EXISTS coverage (
  coverage_id VARCHAR,
  patient_id VARCHAR,
  part VARCHAR,
  "status" VARCHAR,
  period_start DATE,
  period_end DATE,
  reference_year INTEGER,
  medicare_status_code VARCHAR,
  orec_code VARCHAR,
  crec_code VARCHAR,
  esrd_indicator VARCHAR,
  part_a_termination_code VARCHAR,
  part_b_termination_code VARCHAR,
  last_updated TIMESTAMPTZ,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE coverage IS 'dpcetl coverage (schema 1.0.0): One row per Coverage (one per Medicare part A/B/C/D).';

CREATE TABLE IF NOT EXISTS coverage_month (
  coverage_id VARCHAR,
  patient_id VARCHAR,
  part VARCHAR,
  reference_year INTEGER,
  "month" INTEGER,
  dual_status_code VARCHAR,
  buy_in_code VARCHAR,
  part_c_contract_id VARCHAR,
  part_c_pbp_id VARCHAR,
  part_c_plan_type_code VARCHAR,
  hmo_indicator VARCHAR,
  part_d_contract_id VARCHAR,
  part_d_pbp_id VARCHAR,
  part_d_segment_id VARCHAR,
  cost_share_code VARCHAR,
  rds_indicator VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE coverage_month IS 'dpcetl coverage_month (schema 1.0.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.';

CREATE TABLE IF NOT EXISTS eob (
  eob_id VARCHAR,
  claim_id VARCHAR,
  claim_group_id VARCHAR,
  claim_type VARCHAR,
  claim_type_raw VARCHAR,
  nch_claim_type_code VARCHAR,
  patient_id VARCHAR,
  "status" VARCHAR,
  billable_period_start DATE,
  billable_period_end DATE,
  billing_npi VARCHAR,
  attending_npi VARCHAR,
  operating_npi VARCHAR,
  provider_ccn VARCHAR,
  facility_type_code VARCHAR,
  claim_frequency_code VARCHAR,
  drg_code VARCHAR,
  discharge_status_code VARCHAR,
  admission_date DATE,
  discharge_date DATE,
  admission_type_code VARCHAR,
  principal_diagnosis_code VARCHAR,
  total_charge_amount DECIMAL(15,2),
  payment_amount DECIMAL(15,2),
  payment_date DATE,
  coverage_reference VARCHAR,
  pde_days_supply INTEGER,
  pde_fill_number INTEGER,
  pde_daw_code VARCHAR,
  last_updated TIMESTAMPTZ,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob IS 'dpcetl eob (schema 1.0.0): One row per claim (ExplanationOfBenefit).';

CREATE TABLE IF NOT EXISTS eob_amount (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  variable VARCHAR,
  amount DECIMAL(15,2),
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_amount IS 'dpcetl eob_amount (schema 1.0.0): One row per header money amount of a claim, keyed by BFD variable: STU3 money extensions, R4 money extensions and benefitBalance.financial usedMoney. Lossless companion of the eob columns (total charge and payment are eob columns).';

CREATE TABLE IF NOT EXISTS eob_line (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  line_number INTEGER,
  hcpcs_code VARCHAR,
  hcpcs_modifier_1 VARCHAR,
  hcpcs_modifier_2 VARCHAR,
  ndc VARCHAR,
  revenue_center_code VARCHAR,
  place_of_service_code VARCHAR,
  betos_code VARCHAR,
  service_start DATE,
  service_end DATE,
  quantity DECIMAL(18,6),
  rendering_npi VARCHAR,
  care_team_sequence INTEGER,
  submitted_amount DECIMAL(15,2),
  allowed_amount DECIMAL(15,2),
  paid_amount DECIMAL(15,2),
  provider_paid_amount DECIMAL(15,2),
  beneficiary_paid_amount DECIMAL(15,2),
  deductible_amount DECIMAL(15,2),
  coinsurance_amount DECIMAL(15,2),
  patient_pay_amount DECIMAL(15,2),
  primary_payer_paid_amount DECIMAL(15,2),
  noncovered_amount DECIMAL(15,2),
  rate_amount DECIMAL(15,2),
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_line IS 'dpcetl eob_line (schema 1.0.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.';

CREATE TABLE IF NOT EXISTS eob_line_amount (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  line_number INTEGER,
  variable VARCHAR,
  amount DECIMAL(15,2),
  category_code VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_line_amount IS 'dpcetl eob_line_amount (schema 1.0.0): One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.';

CREATE TABLE IF NOT EXISTS eob_diagnosis (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  "sequence" INTEGER,
  "code" VARCHAR,
  icd_version VARCHAR,
  diagnosis_type VARCHAR,
  poa_indicator VARCHAR,
  is_principal BOOLEAN,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_diagnosis IS 'dpcetl eob_diagnosis (schema 1.0.0): One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.';

CREATE TABLE IF NOT EXISTS eob_procedure (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  "sequence" INTEGER,
  "code" VARCHAR,
  icd_version VARCHAR,
  procedure_date DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_procedure IS 'dpcetl eob_procedure (schema 1.0.0): One row per procedure of a claim.';

CREATE TABLE IF NOT EXISTS eob_care_team (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  "sequence" INTEGER,
  "role" VARCHAR,
  npi VARCHAR,
  specialty_code VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_care_team IS 'dpcetl eob_care_team (schema 1.0.0): One row per care team member of a claim.';

CREATE TABLE IF NOT EXISTS export_error (
  operation_outcome_id VARCHAR,
  severity VARCHAR,
  "code" VARCHAR,
  details_text VARCHAR,
  patient_id VARCHAR,
  "location" VARCHAR,
  diagnostics VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE export_error IS 'dpcetl export_error (schema 1.0.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).';

-- patient_latest: one row per patient_id, from its latest delivery.
CREATE OR REPLACE VIEW patient_latest AS
SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM patient
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_latest: one row per coverage_id, from its latest delivery.
CREATE OR REPLACE VIEW coverage_latest AS
SELECT coverage_id, patient_id, part, "status", period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT coverage_id, patient_id, part, "status", period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY coverage_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM coverage
) AS ranked
WHERE dpcetl_rank = 1;

-- eob_latest: one row per eob_id, from its latest delivery.
CREATE OR REPLACE VIEW eob_latest AS
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY eob_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM eob
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_month_latest: the rows of each coverage's latest delivery, one per coverage_id, month.
CREATE OR REPLACE VIEW coverage_month_latest AS
SELECT c.coverage_id, c.patient_id, c.part, c.reference_year, c."month", c.dual_status_code, c.buy_in_code, c.part_c_contract_id, c.part_c_pbp_id, c.part_c_plan_type_code, c.hmo_indicator, c.part_d_contract_id, c.part_d_pbp_id, c.part_d_segment_id, c.cost_share_code, c.rds_indicator, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM coverage_month AS c
JOIN coverage_latest AS p ON c.coverage_id = p.coverage_id AND c.export_job_id = p.export_job_id;

-- eob_amount_latest: the rows of each eob's latest delivery (by eob_id, variable; the source may repeat one).
CREATE OR REPLACE VIEW eob_amount_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.variable, c.amount, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_amount AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_latest: the rows of each eob's latest delivery, one per eob_id, line_number.
CREATE OR REPLACE VIEW eob_line_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_line AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_amount_latest: the rows of each eob's latest delivery (by eob_id, line_number, variable; the source may repeat one).
CREATE OR REPLACE VIEW eob_line_amount_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.variable, c.amount, c.category_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_line_amount AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_diagnosis_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW eob_diagnosis_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c."sequence", c."code", c.icd_version, c.diagnosis_type, c.poa_indicator, c.is_principal, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_diagnosis AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_procedure_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW eob_procedure_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c."sequence", c."code", c.icd_version, c.procedure_date, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_procedure AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_care_team_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW eob_care_team_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c."sequence", c."role", c.npi, c.specialty_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_care_team AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;
