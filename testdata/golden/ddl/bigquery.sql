-- dpcetl claims tables, schema version 1.0.0, dialect bigquery. Generated: do not edit.

CREATE TABLE IF NOT EXISTS `claims.patient` (
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  bene_id STRING OPTIONS(description='bene_id identifier.'),
  mbi STRING OPTIONS(description='Current MBI: the us-mbi identifier marked current (identifier-currency), else the only us-mbi identifier.'),
  given_name STRING OPTIONS(description='First given name.'),
  middle_name STRING OPTIONS(description='Second given name (middle name or initial).'),
  family_name STRING OPTIONS(description='Family name.'),
  gender STRING OPTIONS(description='Administrative gender.'),
  birth_date DATE OPTIONS(description='Birth date.'),
  death_date DATE OPTIONS(description='Date of death (deceasedDateTime, date part).'),
  state_code STRING OPTIONS(description='Address state (BFD sends SSA state codes in some files, USPS in others; as sent).'),
  zip_code STRING OPTIONS(description='Address postal code (leading zeros kept).'),
  race_code STRING OPTIONS(description='BFD race code (race extension).'),
  last_updated TIMESTAMP OPTIONS(description='meta.lastUpdated.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl patient (schema 1.0.0): One row per beneficiary (Patient).');

CREATE TABLE IF NOT EXISTS `claims.coverage` (
  coverage_id STRING OPTIONS(description='Coverage.id ("part-a-{bene}" ...).'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  part STRING OPTIONS(description='Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).'),
  `status` STRING OPTIONS(description='Coverage status (active, cancelled).'),
  period_start DATE OPTIONS(description='Coverage period start.'),
  period_end DATE OPTIONS(description='Coverage period end.'),
  reference_year INT64 OPTIONS(description='BFD reference year (rfrnc_yr).'),
  medicare_status_code STRING OPTIONS(description='Medicare status code (ms_cd).'),
  orec_code STRING OPTIONS(description='Original reason for entitlement (orec).'),
  crec_code STRING OPTIONS(description='Current reason for entitlement (crec).'),
  esrd_indicator STRING OPTIONS(description='ESRD indicator (esrd_ind).'),
  part_a_termination_code STRING OPTIONS(description='Part A termination code (a_trm_cd).'),
  part_b_termination_code STRING OPTIONS(description='Part B termination code (b_trm_cd).'),
  last_updated TIMESTAMP OPTIONS(description='meta.lastUpdated.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl coverage (schema 1.0.0): One row per Coverage (one per Medicare part A/B/C/D).');

CREATE TABLE IF NOT EXISTS `claims.coverage_month` (
  coverage_id STRING OPTIONS(description='Coverage.id ("part-a-{bene}" ...).'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  part STRING OPTIONS(description='Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).'),
  reference_year INT64 OPTIONS(description='BFD reference year (rfrnc_yr).'),
  `month` INT64 OPTIONS(description='Calendar month 1..12.'),
  dual_status_code STRING OPTIONS(description='Medicare-Medicaid dual status (dual_MM).'),
  buy_in_code STRING OPTIONS(description='State buy-in indicator (buyinMM).'),
  part_c_contract_id STRING OPTIONS(description='Part C contract (ptc_cntrct_id_MM).'),
  part_c_pbp_id STRING OPTIONS(description='Part C plan benefit package (ptc_pbp_id_MM).'),
  part_c_plan_type_code STRING OPTIONS(description='Part C plan type (ptc_plan_type_cd_MM).'),
  hmo_indicator STRING OPTIONS(description='HMO indicator (hmo_ind_MM).'),
  part_d_contract_id STRING OPTIONS(description='Part D contract (ptdcntrctMM).'),
  part_d_pbp_id STRING OPTIONS(description='Part D plan benefit package (ptdpbpidMM).'),
  part_d_segment_id STRING OPTIONS(description='Part D segment (sgmtidMM).'),
  cost_share_code STRING OPTIONS(description='Part D cost-sharing group (cstshrMM).'),
  rds_indicator STRING OPTIONS(description='Part D retiree drug subsidy indicator (rdsindMM).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl coverage_month (schema 1.0.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.');

CREATE TABLE IF NOT EXISTS `claims.eob` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id, "{type}-{claim id}" (e.g. carrier-9991831999).'),
  claim_id STRING OPTIONS(description='BFD claim id: identifier clm_id (pde_id for Part D events).'),
  claim_group_id STRING OPTIONS(description='BFD claim group identifier.'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (never meta.profile): CARRIER, DME, HHA, HOSPICE, INPATIENT, OUTPATIENT, PDE or SNF; null when the coding is missing or not one of these eight.'),
  claim_type_raw STRING OPTIONS(description='The eob-type code exactly as sent (lets a check count claims whose type is unknown).'),
  nch_claim_type_code STRING OPTIONS(description='NCH claim type code (nch_clm_type_cd), e.g. 71 carrier, 60 inpatient; null for PDE.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id) the claim belongs to.'),
  `status` STRING OPTIONS(description='EOB status (active, cancelled, ...).'),
  billable_period_start DATE OPTIONS(description='Claim from date (billablePeriod.start).'),
  billable_period_end DATE OPTIONS(description='Claim through date (billablePeriod.end).'),
  billing_npi STRING OPTIONS(description='Billing provider NPI: institutional organization NPI, Part D pharmacy NPI, carrier billing NPI (R4 only).'),
  attending_npi STRING OPTIONS(description='Attending physician NPI (institutional claims only): STU3 care team role "primary" that no line links to; R4 role "attending".'),
  operating_npi STRING OPTIONS(description='Operating physician NPI: STU3 care team role "assist", R4 role "operating".'),
  provider_ccn STRING OPTIONS(description='Institutional provider CCN (prvdr_num).'),
  facility_type_code STRING OPTIONS(description='Facility type code (clm_fac_type_cd).'),
  claim_frequency_code STRING OPTIONS(description='Claim frequency code (clm_freq_cd), last digit of the type of bill.'),
  drg_code STRING OPTIONS(description='DRG (clm_drg_cd): STU3 diagnosis entry with only packageCode, R4 supportingInfo.'),
  discharge_status_code STRING OPTIONS(description='Patient discharge status code (ptnt_dschrg_stus_cd).'),
  admission_date DATE OPTIONS(description='Admission date: STU3 hospitalization.start, R4 supportingInfo admissionperiod.'),
  discharge_date DATE OPTIONS(description='Discharge date: STU3 hospitalization.end, R4 supportingInfo admissionperiod end.'),
  admission_type_code STRING OPTIONS(description='Inpatient admission type code (clm_ip_admsn_type_cd).'),
  principal_diagnosis_code STRING OPTIONS(description='ICD code of the diagnosis typed "principal", as sent (no dot).'),
  total_charge_amount NUMERIC(15, 2) OPTIONS(description='Claim total charge (clm_tot_chrg_amt): STU3 totalCost, R4 total[] keyed on the BFD variable URL.'),
  payment_amount NUMERIC(15, 2) OPTIONS(description='Claim payment amount (clm_pmt_amt, payment.amount).'),
  payment_date DATE OPTIONS(description='Payment date (payment.date; Part D events).'),
  coverage_reference STRING OPTIONS(description='Coverage the claim is paid under (insurance.coverage.reference; STU3 single insurance, R4 array).'),
  pde_days_supply INT64 OPTIONS(description='Part D days supply (days_suply_num).'),
  pde_fill_number INT64 OPTIONS(description='Part D fill number (fill_num).'),
  pde_daw_code STRING OPTIONS(description='Part D dispense-as-written code (daw_prod_slctn_cd).'),
  last_updated TIMESTAMP OPTIONS(description='meta.lastUpdated.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob (schema 1.0.0): One row per claim (ExplanationOfBenefit).');

CREATE TABLE IF NOT EXISTS `claims.eob_amount` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  variable STRING OPTIONS(description='BFD variable name (last segment of the https://bluebutton.cms.gov/resources/variables/ URL), e.g. nch_clm_prvdr_pmt_amt.'),
  amount NUMERIC(15, 2) OPTIONS(description='The amount, exact.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_amount (schema 1.0.0): One row per header money amount of a claim, keyed by BFD variable: STU3 money extensions, R4 money extensions and benefitBalance.financial usedMoney. Lossless companion of the eob columns (total charge and payment are eob columns).');

CREATE TABLE IF NOT EXISTS `claims.eob_line` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  line_number INT64 OPTIONS(description='Line number (item.sequence).'),
  hcpcs_code STRING OPTIONS(description='HCPCS/CPT code: STU3 item.service, R4 item.productOrService (system hcpcs).'),
  hcpcs_modifier_1 STRING OPTIONS(description='First HCPCS modifier (R4 also carries unit codings in modifier; only the hcpcs system counts).'),
  hcpcs_modifier_2 STRING OPTIONS(description='Second HCPCS modifier.'),
  ndc STRING OPTIONS(description='National Drug Code: a coding on Part D events, an extension elsewhere (STU3 institutional: rev_cntr_ide_ndc_upc_num).'),
  revenue_center_code STRING OPTIONS(description='Revenue center code (rev_cntr), institutional claims.'),
  place_of_service_code STRING OPTIONS(description='Place of service (line_place_of_srvc_cd).'),
  betos_code STRING OPTIONS(description='BETOS code (betos_cd).'),
  service_start DATE OPTIONS(description='Service from date (servicedPeriod.start or servicedDate).'),
  service_end DATE OPTIONS(description='Service through date (servicedPeriod.end or servicedDate).'),
  quantity NUMERIC(18, 6) OPTIONS(description='Units (item.quantity.value; R4 institutional lines: rev_cntr_unit_cnt).'),
  rendering_npi STRING OPTIONS(description='NPI of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence).'),
  care_team_sequence INT64 OPTIONS(description='Sequence of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence); joins eob_care_team.sequence.'),
  submitted_amount NUMERIC(15, 2) OPTIONS(description='Submitted charge: line_sbmtd_chrg_amt, rev_cntr_tot_chrg_amt, tot_rx_cst_amt (Part D).'),
  allowed_amount NUMERIC(15, 2) OPTIONS(description='Allowed charge: line_alowd_chrg_amt.'),
  paid_amount NUMERIC(15, 2) OPTIONS(description='Medicare/plan payment: line_nch_pmt_amt, rev_cntr_pmt_amt_amt, cvrd_d_plan_pd_amt (Part D).'),
  provider_paid_amount NUMERIC(15, 2) OPTIONS(description='Paid to provider: line_prvdr_pmt_amt, rev_cntr_prvdr_pmt_amt.'),
  beneficiary_paid_amount NUMERIC(15, 2) OPTIONS(description='Paid to the beneficiary: line_bene_pmt_amt, rev_cntr_bene_pmt_amt.'),
  deductible_amount NUMERIC(15, 2) OPTIONS(description='Deductible: line_bene_ptb_ddctbl_amt, rev_cntr_cash_ddctbl_amt.'),
  coinsurance_amount NUMERIC(15, 2) OPTIONS(description='Coinsurance: line_coinsrnc_amt, rev_cntr_coinsrnc_wge_adjstd_c.'),
  patient_pay_amount NUMERIC(15, 2) OPTIONS(description='Paid by the patient: rev_cntr_ptnt_rspnsblty_pmt, ptnt_pay_amt (Part D).'),
  primary_payer_paid_amount NUMERIC(15, 2) OPTIONS(description='Primary payer (not Medicare) paid: line_bene_prmry_pyr_pd_amt, rev_cntr_1st_msp_pd_amt.'),
  noncovered_amount NUMERIC(15, 2) OPTIONS(description='Non-covered charge: rev_cntr_ncvrd_chrg_amt.'),
  rate_amount NUMERIC(15, 2) OPTIONS(description='Revenue center rate: rev_cntr_rate_amt.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_line (schema 1.0.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.');

CREATE TABLE IF NOT EXISTS `claims.eob_line_amount` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  line_number INT64 OPTIONS(description='Line number (item.sequence).'),
  variable STRING OPTIONS(description='BFD variable name the amount is keyed on (adjudication category coding of system https://bluebutton.cms.gov/resources/codesystem/adjudication, URL prefix removed).'),
  amount NUMERIC(15, 2) OPTIONS(description='The amount, exact.'),
  category_code STRING OPTIONS(description='Other (CARIN) adjudication category code when sent (R4: submitted, eligible, paidtoprovider, ...); ambiguous on its own.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_line_amount (schema 1.0.0): One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.');

CREATE TABLE IF NOT EXISTS `claims.eob_diagnosis` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  `sequence` INT64 OPTIONS(description='diagnosis.sequence.'),
  `code` STRING OPTIONS(description='ICD diagnosis code without the dot.'),
  icd_version STRING OPTIONS(description='"9" or "10" from the coding system.'),
  diagnosis_type STRING OPTIONS(description='Diagnosis type code as sent (STU3 diagnosis-type / R4 ex-diagnosistype or C4BBClaimDiagnosisType).'),
  poa_indicator STRING OPTIONS(description='Present-on-admission indicator (clm_poa_ind_swN / clm_e_poa_ind_swN).'),
  is_principal BOOL OPTIONS(description='True when typed "principal".'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_diagnosis (schema 1.0.0): One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.');

CREATE TABLE IF NOT EXISTS `claims.eob_procedure` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  `sequence` INT64 OPTIONS(description='procedure.sequence.'),
  `code` STRING OPTIONS(description='ICD procedure code (ICD-10-PCS or ICD-9-CM volume 3).'),
  icd_version STRING OPTIONS(description='"9" or "10" from the coding system.'),
  procedure_date DATE OPTIONS(description='procedure.date (date part).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_procedure (schema 1.0.0): One row per procedure of a claim.');

CREATE TABLE IF NOT EXISTS `claims.eob_care_team` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  `sequence` INT64 OPTIONS(description='careTeam.sequence.'),
  `role` STRING OPTIONS(description='Care team role code as sent (STU3 claimcareteamrole: primary/assist/other; R4 C4BBClaimCareTeamRole: attending/operating/performing/...).'),
  npi STRING OPTIONS(description='Provider NPI (provider.identifier.value).'),
  specialty_code STRING OPTIONS(description='Provider specialty (prvdr_spclty) when sent.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_care_team (schema 1.0.0): One row per care team member of a claim.');

CREATE TABLE IF NOT EXISTS `claims.export_error` (
  operation_outcome_id STRING OPTIONS(description='OperationOutcome.id when sent.'),
  severity STRING OPTIONS(description='issue.severity (error, warning, ...).'),
  `code` STRING OPTIONS(description='issue.code (exception, suppressed, ...).'),
  details_text STRING OPTIONS(description='issue.details.text.'),
  patient_id STRING OPTIONS(description='Patient id from issue.location ["Patient","id",<id>] (or R4 expression).'),
  `location` STRING OPTIONS(description='issue.location (or R4 expression) joined with "/".'),
  diagnostics STRING OPTIONS(description='issue.diagnostics.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl export_error (schema 1.0.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).');

-- patient_latest: one row per patient_id, from its latest delivery.
CREATE OR REPLACE VIEW `claims.patient_latest` AS
SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM `claims.patient`
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_latest: one row per coverage_id, from its latest delivery.
CREATE OR REPLACE VIEW `claims.coverage_latest` AS
SELECT coverage_id, patient_id, part, `status`, period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT coverage_id, patient_id, part, `status`, period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY coverage_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM `claims.coverage`
) AS ranked
WHERE dpcetl_rank = 1;

-- eob_latest: one row per eob_id, from its latest delivery.
CREATE OR REPLACE VIEW `claims.eob_latest` AS
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at,
    ROW_NUMBER() OVER (PARTITION BY eob_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM `claims.eob`
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_month_latest: the rows of each coverage's latest delivery, one per coverage_id, month.
CREATE OR REPLACE VIEW `claims.coverage_month_latest` AS
SELECT c.coverage_id, c.patient_id, c.part, c.reference_year, c.`month`, c.dual_status_code, c.buy_in_code, c.part_c_contract_id, c.part_c_pbp_id, c.part_c_plan_type_code, c.hmo_indicator, c.part_d_contract_id, c.part_d_pbp_id, c.part_d_segment_id, c.cost_share_code, c.rds_indicator, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.coverage_month` AS c
JOIN `claims.coverage_latest` AS p ON c.coverage_id = p.coverage_id AND c.export_job_id = p.export_job_id;

-- eob_amount_latest: the rows of each eob's latest delivery (by eob_id, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.eob_amount_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.variable, c.amount, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_amount` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_latest: the rows of each eob's latest delivery, one per eob_id, line_number.
CREATE OR REPLACE VIEW `claims.eob_line_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_line` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_amount_latest: the rows of each eob's latest delivery (by eob_id, line_number, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.eob_line_amount_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.variable, c.amount, c.category_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_line_amount` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_diagnosis_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW `claims.eob_diagnosis_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`code`, c.icd_version, c.diagnosis_type, c.poa_indicator, c.is_principal, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_diagnosis` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_procedure_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW `claims.eob_procedure_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`code`, c.icd_version, c.procedure_date, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_procedure` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_care_team_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW `claims.eob_care_team_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`role`, c.npi, c.specialty_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_care_team` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;
