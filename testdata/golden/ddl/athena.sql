-- dpcetl claims tables, schema version 1.0.0, dialect athena. Generated: do not edit.

CREATE EXTERNAL TABLE IF NOT EXISTS claims.patient (
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  bene_id string COMMENT 'bene_id identifier.',
  mbi string COMMENT 'Current MBI: the us-mbi identifier marked current (identifier-currency), else the only us-mbi identifier.',
  given_name string COMMENT 'First given name.',
  middle_name string COMMENT 'Second given name (middle name or initial).',
  family_name string COMMENT 'Family name.',
  gender string COMMENT 'Administrative gender.',
  birth_date date COMMENT 'Birth date.',
  death_date date COMMENT 'Date of death (deceasedDateTime, date part).',
  state_code string COMMENT 'Address state (BFD sends SSA state codes in some files, USPS in others; as sent).',
  zip_code string COMMENT 'Address postal code (leading zeros kept).',
  race_code string COMMENT 'BFD race code (race extension).',
  last_updated timestamp COMMENT 'meta.lastUpdated.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl patient (schema 1.0.0): One row per beneficiary (Patient).'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/patient/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.patient;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.coverage (
  coverage_id string COMMENT 'Coverage.id ("part-a-{bene}" ...).',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  part string COMMENT 'Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).',
  `status` string COMMENT 'Coverage status (active, cancelled).',
  period_start date COMMENT 'Coverage period start.',
  period_end date COMMENT 'Coverage period end.',
  reference_year int COMMENT 'BFD reference year (rfrnc_yr).',
  medicare_status_code string COMMENT 'Medicare status code (ms_cd).',
  orec_code string COMMENT 'Original reason for entitlement (orec).',
  crec_code string COMMENT 'Current reason for entitlement (crec).',
  esrd_indicator string COMMENT 'ESRD indicator (esrd_ind).',
  part_a_termination_code string COMMENT 'Part A termination code (a_trm_cd).',
  part_b_termination_code string COMMENT 'Part B termination code (b_trm_cd).',
  last_updated timestamp COMMENT 'meta.lastUpdated.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl coverage (schema 1.0.0): One row per Coverage (one per Medicare part A/B/C/D).'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/coverage/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.coverage;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.coverage_month (
  coverage_id string COMMENT 'Coverage.id ("part-a-{bene}" ...).',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  part string COMMENT 'Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).',
  reference_year int COMMENT 'BFD reference year (rfrnc_yr).',
  `month` int COMMENT 'Calendar month 1..12.',
  dual_status_code string COMMENT 'Medicare-Medicaid dual status (dual_MM).',
  buy_in_code string COMMENT 'State buy-in indicator (buyinMM).',
  part_c_contract_id string COMMENT 'Part C contract (ptc_cntrct_id_MM).',
  part_c_pbp_id string COMMENT 'Part C plan benefit package (ptc_pbp_id_MM).',
  part_c_plan_type_code string COMMENT 'Part C plan type (ptc_plan_type_cd_MM).',
  hmo_indicator string COMMENT 'HMO indicator (hmo_ind_MM).',
  part_d_contract_id string COMMENT 'Part D contract (ptdcntrctMM).',
  part_d_pbp_id string COMMENT 'Part D plan benefit package (ptdpbpidMM).',
  part_d_segment_id string COMMENT 'Part D segment (sgmtidMM).',
  cost_share_code string COMMENT 'Part D cost-sharing group (cstshrMM).',
  rds_indicator string COMMENT 'Part D retiree drug subsidy indicator (rdsindMM).',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl coverage_month (schema 1.0.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/coverage_month/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.coverage_month;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob (
  eob_id string COMMENT 'ExplanationOfBenefit.id, "{type}-{claim id}" (e.g. carrier-9991831999).',
  claim_id string COMMENT 'BFD claim id: identifier clm_id (pde_id for Part D events).',
  claim_group_id string COMMENT 'BFD claim group identifier.',
  claim_type string COMMENT 'Claim type from the eob-type coding (never meta.profile): CARRIER, DME, HHA, HOSPICE, INPATIENT, OUTPATIENT, PDE or SNF; null when the coding is missing or not one of these eight.',
  claim_type_raw string COMMENT 'The eob-type code exactly as sent (lets a check count claims whose type is unknown).',
  nch_claim_type_code string COMMENT 'NCH claim type code (nch_clm_type_cd), e.g. 71 carrier, 60 inpatient; null for PDE.',
  patient_id string COMMENT 'Patient.id (BFD bene_id) the claim belongs to.',
  `status` string COMMENT 'EOB status (active, cancelled, ...).',
  billable_period_start date COMMENT 'Claim from date (billablePeriod.start).',
  billable_period_end date COMMENT 'Claim through date (billablePeriod.end).',
  billing_npi string COMMENT 'Billing provider NPI: institutional organization NPI, Part D pharmacy NPI, carrier billing NPI (R4 only).',
  attending_npi string COMMENT 'Attending physician NPI (institutional claims only): STU3 care team role "primary" that no line links to; R4 role "attending".',
  operating_npi string COMMENT 'Operating physician NPI: STU3 care team role "assist", R4 role "operating".',
  provider_ccn string COMMENT 'Institutional provider CCN (prvdr_num).',
  facility_type_code string COMMENT 'Facility type code (clm_fac_type_cd).',
  claim_frequency_code string COMMENT 'Claim frequency code (clm_freq_cd), last digit of the type of bill.',
  drg_code string COMMENT 'DRG (clm_drg_cd): STU3 diagnosis entry with only packageCode, R4 supportingInfo.',
  discharge_status_code string COMMENT 'Patient discharge status code (ptnt_dschrg_stus_cd).',
  admission_date date COMMENT 'Admission date: STU3 hospitalization.start, R4 supportingInfo admissionperiod.',
  discharge_date date COMMENT 'Discharge date: STU3 hospitalization.end, R4 supportingInfo admissionperiod end.',
  admission_type_code string COMMENT 'Inpatient admission type code (clm_ip_admsn_type_cd).',
  principal_diagnosis_code string COMMENT 'ICD code of the diagnosis typed "principal", as sent (no dot).',
  total_charge_amount decimal(15,2) COMMENT 'Claim total charge (clm_tot_chrg_amt): STU3 totalCost, R4 total[] keyed on the BFD variable URL.',
  payment_amount decimal(15,2) COMMENT 'Claim payment amount (clm_pmt_amt, payment.amount).',
  payment_date date COMMENT 'Payment date (payment.date; Part D events).',
  coverage_reference string COMMENT 'Coverage the claim is paid under (insurance.coverage.reference; STU3 single insurance, R4 array).',
  pde_days_supply int COMMENT 'Part D days supply (days_suply_num).',
  pde_fill_number int COMMENT 'Part D fill number (fill_num).',
  pde_daw_code string COMMENT 'Part D dispense-as-written code (daw_prod_slctn_cd).',
  last_updated timestamp COMMENT 'meta.lastUpdated.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob (schema 1.0.0): One row per claim (ExplanationOfBenefit).'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_amount (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  variable string COMMENT 'BFD variable name (last segment of the https://bluebutton.cms.gov/resources/variables/ URL), e.g. nch_clm_prvdr_pmt_amt.',
  amount decimal(15,2) COMMENT 'The amount, exact.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_amount (schema 1.0.0): One row per header money amount of a claim, keyed by BFD variable: STU3 money extensions, R4 money extensions and benefitBalance.financial usedMoney. Lossless companion of the eob columns (total charge and payment are eob columns).'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_amount/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_amount;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_line (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  line_number int COMMENT 'Line number (item.sequence).',
  hcpcs_code string COMMENT 'HCPCS/CPT code: STU3 item.service, R4 item.productOrService (system hcpcs).',
  hcpcs_modifier_1 string COMMENT 'First HCPCS modifier (R4 also carries unit codings in modifier; only the hcpcs system counts).',
  hcpcs_modifier_2 string COMMENT 'Second HCPCS modifier.',
  ndc string COMMENT 'National Drug Code: a coding on Part D events, an extension elsewhere (STU3 institutional: rev_cntr_ide_ndc_upc_num).',
  revenue_center_code string COMMENT 'Revenue center code (rev_cntr), institutional claims.',
  place_of_service_code string COMMENT 'Place of service (line_place_of_srvc_cd).',
  betos_code string COMMENT 'BETOS code (betos_cd).',
  service_start date COMMENT 'Service from date (servicedPeriod.start or servicedDate).',
  service_end date COMMENT 'Service through date (servicedPeriod.end or servicedDate).',
  quantity decimal(18,6) COMMENT 'Units (item.quantity.value; R4 institutional lines: rev_cntr_unit_cnt).',
  rendering_npi string COMMENT 'NPI of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence).',
  care_team_sequence int COMMENT 'Sequence of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence); joins eob_care_team.sequence.',
  submitted_amount decimal(15,2) COMMENT 'Submitted charge: line_sbmtd_chrg_amt, rev_cntr_tot_chrg_amt, tot_rx_cst_amt (Part D).',
  allowed_amount decimal(15,2) COMMENT 'Allowed charge: line_alowd_chrg_amt.',
  paid_amount decimal(15,2) COMMENT 'Medicare/plan payment: line_nch_pmt_amt, rev_cntr_pmt_amt_amt, cvrd_d_plan_pd_amt (Part D).',
  provider_paid_amount decimal(15,2) COMMENT 'Paid to provider: line_prvdr_pmt_amt, rev_cntr_prvdr_pmt_amt.',
  beneficiary_paid_amount decimal(15,2) COMMENT 'Paid to the beneficiary: line_bene_pmt_amt, rev_cntr_bene_pmt_amt.',
  deductible_amount decimal(15,2) COMMENT 'Deductible: line_bene_ptb_ddctbl_amt, rev_cntr_cash_ddctbl_amt.',
  coinsurance_amount decimal(15,2) COMMENT 'Coinsurance: line_coinsrnc_amt, rev_cntr_coinsrnc_wge_adjstd_c.',
  patient_pay_amount decimal(15,2) COMMENT 'Paid by the patient: rev_cntr_ptnt_rspnsblty_pmt, ptnt_pay_amt (Part D).',
  primary_payer_paid_amount decimal(15,2) COMMENT 'Primary payer (not Medicare) paid: line_bene_prmry_pyr_pd_amt, rev_cntr_1st_msp_pd_amt.',
  noncovered_amount decimal(15,2) COMMENT 'Non-covered charge: rev_cntr_ncvrd_chrg_amt.',
  rate_amount decimal(15,2) COMMENT 'Revenue center rate: rev_cntr_rate_amt.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_line (schema 1.0.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_line/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_line;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_line_amount (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  line_number int COMMENT 'Line number (item.sequence).',
  variable string COMMENT 'BFD variable name the amount is keyed on (adjudication category coding of system https://bluebutton.cms.gov/resources/codesystem/adjudication, URL prefix removed).',
  amount decimal(15,2) COMMENT 'The amount, exact.',
  category_code string COMMENT 'Other (CARIN) adjudication category code when sent (R4: submitted, eligible, paidtoprovider, ...); ambiguous on its own.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_line_amount (schema 1.0.0): One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_line_amount/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_line_amount;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_diagnosis (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  `sequence` int COMMENT 'diagnosis.sequence.',
  `code` string COMMENT 'ICD diagnosis code without the dot.',
  icd_version string COMMENT '"9" or "10" from the coding system.',
  diagnosis_type string COMMENT 'Diagnosis type code as sent (STU3 diagnosis-type / R4 ex-diagnosistype or C4BBClaimDiagnosisType).',
  poa_indicator string COMMENT 'Present-on-admission indicator (clm_poa_ind_swN / clm_e_poa_ind_swN).',
  is_principal boolean COMMENT 'True when typed "principal".',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_diagnosis (schema 1.0.0): One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_diagnosis/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_diagnosis;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_procedure (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  `sequence` int COMMENT 'procedure.sequence.',
  `code` string COMMENT 'ICD procedure code (ICD-10-PCS or ICD-9-CM volume 3).',
  icd_version string COMMENT '"9" or "10" from the coding system.',
  procedure_date date COMMENT 'procedure.date (date part).',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_procedure (schema 1.0.0): One row per procedure of a claim.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_procedure/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_procedure;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.eob_care_team (
  eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
  patient_id string COMMENT 'Patient.id (BFD bene_id).',
  claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
  `sequence` int COMMENT 'careTeam.sequence.',
  `role` string COMMENT 'Care team role code as sent (STU3 claimcareteamrole: primary/assist/other; R4 C4BBClaimCareTeamRole: attending/operating/performing/...).',
  npi string COMMENT 'Provider NPI (provider.identifier.value).',
  specialty_code string COMMENT 'Provider specialty (prvdr_spclty) when sent.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl eob_care_team (schema 1.0.0): One row per care team member of a claim.'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/eob_care_team/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.eob_care_team;

CREATE EXTERNAL TABLE IF NOT EXISTS claims.export_error (
  operation_outcome_id string COMMENT 'OperationOutcome.id when sent.',
  severity string COMMENT 'issue.severity (error, warning, ...).',
  `code` string COMMENT 'issue.code (exception, suppressed, ...).',
  details_text string COMMENT 'issue.details.text.',
  patient_id string COMMENT 'Patient id from issue.location ["Patient","id",<id>] (or R4 expression).',
  `location` string COMMENT 'issue.location (or R4 expression) joined with "/".',
  diagnostics string COMMENT 'issue.diagnostics.',
  export_job_id string COMMENT 'DPC export job id the row came from.',
  source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
  ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
)
COMMENT 'dpcetl export_error (schema 1.0.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).'
PARTITIONED BY (export_date date, group_id string)
STORED AS PARQUET
LOCATION 's3://my-bucket/dpc/export_error/'
TBLPROPERTIES ('dpcetl.schema_version'='1.0.0');
MSCK REPAIR TABLE claims.export_error;

-- patient_latest: one row per patient_id, from its latest delivery.
CREATE OR REPLACE VIEW claims.patient_latest AS
SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id
FROM (
  SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id,
    ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM claims.patient
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_latest: one row per coverage_id, from its latest delivery.
CREATE OR REPLACE VIEW claims.coverage_latest AS
SELECT coverage_id, patient_id, part, `status`, period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id
FROM (
  SELECT coverage_id, patient_id, part, `status`, period_start, period_end, reference_year, medicare_status_code, orec_code, crec_code, esrd_indicator, part_a_termination_code, part_b_termination_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id,
    ROW_NUMBER() OVER (PARTITION BY coverage_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM claims.coverage
) AS ranked
WHERE dpcetl_rank = 1;

-- eob_latest: one row per eob_id, from its latest delivery.
CREATE OR REPLACE VIEW claims.eob_latest AS
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, export_job_id, source_fhir_version, ingested_at, export_date, group_id,
    ROW_NUMBER() OVER (PARTITION BY eob_id ORDER BY last_updated DESC NULLS LAST, ingested_at DESC, export_job_id DESC) AS dpcetl_rank
  FROM claims.eob
) AS ranked
WHERE dpcetl_rank = 1;

-- coverage_month_latest: the rows of each coverage's latest delivery, one per coverage_id, month.
CREATE OR REPLACE VIEW claims.coverage_month_latest AS
SELECT c.coverage_id, c.patient_id, c.part, c.reference_year, c.`month`, c.dual_status_code, c.buy_in_code, c.part_c_contract_id, c.part_c_pbp_id, c.part_c_plan_type_code, c.hmo_indicator, c.part_d_contract_id, c.part_d_pbp_id, c.part_d_segment_id, c.cost_share_code, c.rds_indicator, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.coverage_month AS c
JOIN claims.coverage_latest AS p ON c.coverage_id = p.coverage_id AND c.export_job_id = p.export_job_id;

-- eob_amount_latest: the rows of each eob's latest delivery (by eob_id, variable; the source may repeat one).
CREATE OR REPLACE VIEW claims.eob_amount_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.variable, c.amount, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_amount AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_latest: the rows of each eob's latest delivery, one per eob_id, line_number.
CREATE OR REPLACE VIEW claims.eob_line_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_line AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_amount_latest: the rows of each eob's latest delivery (by eob_id, line_number, variable; the source may repeat one).
CREATE OR REPLACE VIEW claims.eob_line_amount_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.variable, c.amount, c.category_code, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_line_amount AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_diagnosis_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW claims.eob_diagnosis_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`code`, c.icd_version, c.diagnosis_type, c.poa_indicator, c.is_principal, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_diagnosis AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_procedure_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW claims.eob_procedure_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`code`, c.icd_version, c.procedure_date, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_procedure AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_care_team_latest: the rows of each eob's latest delivery, one per eob_id, sequence.
CREATE OR REPLACE VIEW claims.eob_care_team_latest AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`role`, c.npi, c.specialty_code, c.export_job_id, c.source_fhir_version, c.ingested_at, c.export_date, c.group_id
FROM claims.eob_care_team AS c
JOIN claims.eob_latest AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;
