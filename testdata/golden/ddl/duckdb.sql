-- dpcetl claims tables, schema version 2.1.0, dialect duckdb. Generated: do not edit.

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
  hicn VARCHAR,
  address_line_1 VARCHAR,
  address_line_2 VARCHAR,
  address_lines VARCHAR,
  city VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE patient IS 'dpcetl patient (schema 2.1.0): One row per beneficiary (Patient).';

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
COMMENT ON TABLE coverage IS 'dpcetl coverage (schema 2.1.0): One row per Coverage (one per Medicare part A/B/C/D).';

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
COMMENT ON TABLE coverage_month IS 'dpcetl coverage_month (schema 2.1.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.';

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
  claim_control_number VARCHAR,
  original_claim_control_number VARCHAR,
  claim_query_code VARCHAR,
  service_classification_code VARCHAR,
  near_line_record_code VARCHAR,
  adjustment_deletion_code VARCHAR,
  payment_denial_code VARCHAR,
  nonpayment_reason_code VARCHAR,
  fi_claim_action_code VARCHAR,
  primary_payer_code VARCHAR,
  primary_payer_paid_amount DECIMAL(15,2),
  admission_source_code VARCHAR,
  patient_status_code VARCHAR,
  utilization_day_count INTEGER,
  non_utilization_day_count INTEGER,
  coinsurance_day_count INTEGER,
  lifetime_reserve_days_used INTEGER,
  hha_visit_count INTEGER,
  hospice_period_count INTEGER,
  contractor_number VARCHAR,
  clinical_trial_number VARCHAR,
  assignment_code VARCHAR,
  rx_service_reference_number VARCHAR,
  plan_contract_id VARCHAR,
  plan_pbp_id VARCHAR,
  brand_generic_code VARCHAR,
  dispensing_status_code VARCHAR,
  drug_coverage_status_code VARCHAR,
  rx_origin_code VARCHAR,
  pharmacy_service_type_code VARCHAR,
  catastrophic_coverage_code VARCHAR,
  billing_provider_id VARCHAR,
  billable_period_start_ts TIMESTAMPTZ,
  billable_period_end_ts TIMESTAMPTZ,
  claim_type_system VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob IS 'dpcetl eob (schema 2.1.0): One row per claim (ExplanationOfBenefit).';

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
COMMENT ON TABLE eob_amount IS 'dpcetl eob_amount (schema 2.1.0): One row per header money amount of a claim, keyed by BFD variable: money extensions, benefitBalance.financial usedMoney, and the totals (STU3 totalCost as clm_tot_chrg_amt; R4 total[] by BFD variable, with the carrier/DME priorpayerpaid total as prpayamt, the Part D drug-cost total as tot_rx_cst_amt and CARIN-only totals as total:{code}). Lossless companion of the eob columns.';

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
  type_of_service_code VARCHAR,
  mtus_count DECIMAL(18,6),
  mtus_code VARCHAR,
  pricing_locality_code VARCHAR,
  provider_state_code VARCHAR,
  provider_zip_code VARCHAR,
  clia_lab_number VARCHAR,
  dme_pricing_state_code VARCHAR,
  dme_supplier_type_code VARCHAR,
  supplier_number VARCHAR,
  primary_payer_code VARCHAR,
  processing_indicator_code VARCHAR,
  payment_80_100_code VARCHAR,
  service_deductible_code VARCHAR,
  reduced_payment_code VARCHAR,
  revenue_denial_reason_code_1 VARCHAR,
  revenue_denial_reason_code_2 VARCHAR,
  revenue_status_code VARCHAR,
  deductible_coinsurance_code VARCHAR,
  ndc_quantity DECIMAL(18,6),
  ndc_quantity_unit VARCHAR,
  provider_tax_number VARCHAR,
  rendering_provider_id VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_line IS 'dpcetl eob_line (schema 2.1.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.';

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
COMMENT ON TABLE eob_line_amount IS 'dpcetl eob_line_amount (schema 2.1.0): One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.';

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
COMMENT ON TABLE eob_diagnosis IS 'dpcetl eob_diagnosis (schema 2.1.0): One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.';

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
COMMENT ON TABLE eob_procedure IS 'dpcetl eob_procedure (schema 2.1.0): One row per procedure of a claim.';

CREATE TABLE IF NOT EXISTS eob_care_team (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  "sequence" INTEGER,
  "role" VARCHAR,
  npi VARCHAR,
  specialty_code VARCHAR,
  provider_identifier VARCHAR,
  provider_identifier_system VARCHAR,
  provider_identifier_type VARCHAR,
  taxonomy_code VARCHAR,
  provider_type_code VARCHAR,
  participating_code VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_care_team IS 'dpcetl eob_care_team (schema 2.1.0): One row per care team member of a claim.';

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
COMMENT ON TABLE export_error IS 'dpcetl export_error (schema 2.1.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).';

CREATE TABLE IF NOT EXISTS eob_line_care_team (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  line_number INTEGER,
  link_order INTEGER,
  care_team_sequence INTEGER,
  "role" VARCHAR,
  npi VARCHAR,
  provider_identifier VARCHAR,
  provider_identifier_type VARCHAR,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_line_care_team IS 'dpcetl eob_line_care_team (schema 2.1.0): Bridge of every line → care team link (STU3 careTeamLinkId, R4 careTeamSequence), in link order: a line that links several members (rendering, referring, supplier) has a row for each.';

CREATE TABLE IF NOT EXISTS patient_identifier (
  patient_id VARCHAR,
  kind VARCHAR,
  system VARCHAR,
  value VARCHAR,
  currency VARCHAR,
  is_current BOOLEAN,
  type_code VARCHAR,
  period_start DATE,
  period_end DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE patient_identifier IS 'dpcetl patient_identifier (schema 2.1.0): One row per Patient identifier: every MBI and HICN (current and historic, CCLF9-style crosswalk), the hashes and bene_id.';

CREATE TABLE IF NOT EXISTS eob_detail (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  source VARCHAR,
  variable VARCHAR,
  system VARCHAR,
  "code" VARCHAR,
  display VARCHAR,
  value VARCHAR,
  amount DECIMAL(15,2),
  quantity DECIMAL(18,6),
  "date" DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_detail IS 'dpcetl eob_detail (schema 2.1.0): Long tail of every claim-level BFD variable: one row per extension, identifier, BFD coding, information/supportingInfo entry, benefitBalance entry, total and contained-resource code of a claim, whether or not a typed column also carries it. Nothing a claim sends is dropped.';

CREATE TABLE IF NOT EXISTS eob_line_detail (
  eob_id VARCHAR,
  patient_id VARCHAR,
  claim_type VARCHAR,
  line_number INTEGER,
  source VARCHAR,
  variable VARCHAR,
  system VARCHAR,
  "code" VARCHAR,
  display VARCHAR,
  value VARCHAR,
  amount DECIMAL(15,2),
  quantity DECIMAL(18,6),
  "date" DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE eob_line_detail IS 'dpcetl eob_line_detail (schema 2.1.0): Long tail of every line-level BFD variable: one row per line extension, coding and adjudication (amounts and reason/denial codes).';

CREATE TABLE IF NOT EXISTS patient_detail (
  patient_id VARCHAR,
  source VARCHAR,
  variable VARCHAR,
  system VARCHAR,
  "code" VARCHAR,
  display VARCHAR,
  value VARCHAR,
  amount DECIMAL(15,2),
  quantity DECIMAL(18,6),
  "date" DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE patient_detail IS 'dpcetl patient_detail (schema 2.1.0): Long tail of a Patient: one row per extension (race, sex, monthly dual status, reference year, ...), nested extension and identifier-currency marker.';

CREATE TABLE IF NOT EXISTS coverage_detail (
  coverage_id VARCHAR,
  patient_id VARCHAR,
  source VARCHAR,
  variable VARCHAR,
  system VARCHAR,
  "code" VARCHAR,
  display VARCHAR,
  value VARCHAR,
  amount DECIMAL(15,2),
  quantity DECIMAL(18,6),
  "date" DATE,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE coverage_detail IS 'dpcetl coverage_detail (schema 2.1.0): Long tail of a Coverage: one row per extension (every monthly and yearly enrollment variable), identifier and class.';

CREATE TABLE IF NOT EXISTS deleted_resource (
  resource_type VARCHAR,
  resource_id VARCHAR,
  request_method VARCHAR,
  request_url VARCHAR,
  full_url VARCHAR,
  bundle_id VARCHAR,
  bundle_timestamp TIMESTAMPTZ,
  export_job_id VARCHAR,
  source_fhir_version VARCHAR,
  ingested_at TIMESTAMPTZ
);
COMMENT ON TABLE deleted_resource IS 'dpcetl deleted_resource (schema 2.1.0): One row per entry of the Bundles in a bulk export''s deleted[] files (Bulk Data IG: request.method DELETE, request.url "Type/id"): resources the server deleted in the export window. A log like export_error: rows are never merged.';

-- patient_latest: one row per patient_id, from its latest delivery.
CREATE OR REPLACE VIEW patient_latest AS
SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, hicn, address_line_1, address_line_2, address_lines, city, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, hicn, address_line_1, address_line_2, address_lines, city, export_job_id, source_fhir_version, ingested_at,
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
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, claim_control_number, original_claim_control_number, claim_query_code, service_classification_code, near_line_record_code, adjustment_deletion_code, payment_denial_code, nonpayment_reason_code, fi_claim_action_code, primary_payer_code, primary_payer_paid_amount, admission_source_code, patient_status_code, utilization_day_count, non_utilization_day_count, coinsurance_day_count, lifetime_reserve_days_used, hha_visit_count, hospice_period_count, contractor_number, clinical_trial_number, assignment_code, rx_service_reference_number, plan_contract_id, plan_pbp_id, brand_generic_code, dispensing_status_code, drug_coverage_status_code, rx_origin_code, pharmacy_service_type_code, catastrophic_coverage_code, billing_provider_id, billable_period_start_ts, billable_period_end_ts, claim_type_system, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, "status", billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, claim_control_number, original_claim_control_number, claim_query_code, service_classification_code, near_line_record_code, adjustment_deletion_code, payment_denial_code, nonpayment_reason_code, fi_claim_action_code, primary_payer_code, primary_payer_paid_amount, admission_source_code, patient_status_code, utilization_day_count, non_utilization_day_count, coinsurance_day_count, lifetime_reserve_days_used, hha_visit_count, hospice_period_count, contractor_number, clinical_trial_number, assignment_code, rx_service_reference_number, plan_contract_id, plan_pbp_id, brand_generic_code, dispensing_status_code, drug_coverage_status_code, rx_origin_code, pharmacy_service_type_code, catastrophic_coverage_code, billing_provider_id, billable_period_start_ts, billable_period_end_ts, claim_type_system, export_job_id, source_fhir_version, ingested_at,
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
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.type_of_service_code, c.mtus_count, c.mtus_code, c.pricing_locality_code, c.provider_state_code, c.provider_zip_code, c.clia_lab_number, c.dme_pricing_state_code, c.dme_supplier_type_code, c.supplier_number, c.primary_payer_code, c.processing_indicator_code, c.payment_80_100_code, c.service_deductible_code, c.reduced_payment_code, c.revenue_denial_reason_code_1, c.revenue_denial_reason_code_2, c.revenue_status_code, c.deductible_coinsurance_code, c.ndc_quantity, c.ndc_quantity_unit, c.provider_tax_number, c.rendering_provider_id, c.export_job_id, c.source_fhir_version, c.ingested_at
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
SELECT c.eob_id, c.patient_id, c.claim_type, c."sequence", c."role", c.npi, c.specialty_code, c.provider_identifier, c.provider_identifier_system, c.provider_identifier_type, c.taxonomy_code, c.provider_type_code, c.participating_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_care_team AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_care_team_latest: the rows of each eob's latest delivery, one per eob_id, line_number, link_order.
CREATE OR REPLACE VIEW eob_line_care_team_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.link_order, c.care_team_sequence, c."role", c.npi, c.provider_identifier, c.provider_identifier_type, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_line_care_team AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- patient_identifier_latest: the rows of each patient's latest delivery, one per patient_id, system, value.
CREATE OR REPLACE VIEW patient_identifier_latest AS
SELECT c.patient_id, c.kind, c.system, c.value, c.currency, c.is_current, c.type_code, c.period_start, c.period_end, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM patient_identifier AS c
JOIN patient_latest AS p ON c.patient_id = p.patient_id AND c.export_job_id = p.export_job_id;

-- eob_detail_latest: the rows of each eob's latest delivery (by eob_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW eob_detail_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.source, c.variable, c.system, c."code", c.display, c.value, c.amount, c.quantity, c."date", c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_detail AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_detail_latest: the rows of each eob's latest delivery (by eob_id, line_number, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW eob_line_detail_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.source, c.variable, c.system, c."code", c.display, c.value, c.amount, c.quantity, c."date", c.export_job_id, c.source_fhir_version, c.ingested_at
FROM eob_line_detail AS c
JOIN eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- patient_detail_latest: the rows of each patient's latest delivery (by patient_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW patient_detail_latest AS
SELECT c.patient_id, c.source, c.variable, c.system, c."code", c.display, c.value, c.amount, c.quantity, c."date", c.export_job_id, c.source_fhir_version, c.ingested_at
FROM patient_detail AS c
JOIN patient_latest AS p ON c.patient_id = p.patient_id AND c.export_job_id = p.export_job_id;

-- coverage_detail_latest: the rows of each coverage's latest delivery (by coverage_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW coverage_detail_latest AS
SELECT c.coverage_id, c.patient_id, c.source, c.variable, c.system, c."code", c.display, c.value, c.amount, c.quantity, c."date", c.export_job_id, c.source_fhir_version, c.ingested_at
FROM coverage_detail AS c
JOIN coverage_latest AS p ON c.coverage_id = p.coverage_id AND c.export_job_id = p.export_job_id;
