-- dpcetl claims tables, schema version 2.1.0, dialect bigquery. Generated: do not edit.

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
  hicn STRING OPTIONS(description='Current HICN: the us-medicare identifier marked current (identifier-currency). Every MBI and HICN, current and historic, is in patient_identifier.'),
  address_line_1 STRING OPTIONS(description='First address line.'),
  address_line_2 STRING OPTIONS(description='Second address line.'),
  address_lines STRING OPTIONS(description='Every address line, joined with " | " (BFD sends up to six).'),
  city STRING OPTIONS(description='Address city.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl patient (schema 2.1.0): One row per beneficiary (Patient).');

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
OPTIONS (description = 'dpcetl coverage (schema 2.1.0): One row per Coverage (one per Medicare part A/B/C/D).');

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
OPTIONS (description = 'dpcetl coverage_month (schema 2.1.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.');

CREATE TABLE IF NOT EXISTS `claims.eob` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id, "{type}-{claim id}" (e.g. carrier-9991831999).'),
  claim_id STRING OPTIONS(description='BFD claim id: identifier clm_id (pde_id for Part D events).'),
  claim_group_id STRING OPTIONS(description='BFD claim group identifier.'),
  claim_type STRING OPTIONS(description='Claim type from the Blue Button eob-type coding (never meta.profile): CARRIER, DME, HHA, HOSPICE, INPATIENT, OUTPATIENT, PDE or SNF; null when that coding is not one of these eight. Without any eob-type coding (CARIN / other R4 payers), from the HL7 claim-type coding: institutional with C4BB subType inpatient INPATIENT, outpatient OUTPATIENT, else INSTITUTIONAL; professional CARRIER; pharmacy PDE; oral ORAL; vision VISION; null otherwise.'),
  claim_type_raw STRING OPTIONS(description='The claim type code exactly as sent: the eob-type code, else the HL7 claim-type code, else the first type coding (lets a check count claims whose type is unknown).'),
  nch_claim_type_code STRING OPTIONS(description='NCH claim type code (nch_clm_type_cd), e.g. 71 carrier, 60 inpatient; null for PDE.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id) the claim belongs to.'),
  `status` STRING OPTIONS(description='EOB status (active, cancelled, ...).'),
  billable_period_start DATE OPTIONS(description='Claim from date (billablePeriod.start).'),
  billable_period_end DATE OPTIONS(description='Claim through date (billablePeriod.end).'),
  billing_npi STRING OPTIONS(description='Billing provider NPI: institutional organization NPI, Part D pharmacy NPI, carrier billing NPI (R4 only). Only a Luhn-valid NPI-system identifier; anything else is in billing_provider_id.'),
  attending_npi STRING OPTIONS(description='Attending physician NPI (institutional claims only): STU3 care team role "primary" that no line links to; R4 role "attending". Luhn-valid NPIs only (the raw identifier is in eob_care_team).'),
  operating_npi STRING OPTIONS(description='Operating physician NPI: STU3 care team role "assist", R4 role "operating". Luhn-valid NPIs only.'),
  provider_ccn STRING OPTIONS(description='Institutional provider CCN (prvdr_num).'),
  facility_type_code STRING OPTIONS(description='Facility type code (clm_fac_type_cd).'),
  claim_frequency_code STRING OPTIONS(description='Claim frequency code (clm_freq_cd), last digit of the type of bill.'),
  drg_code STRING OPTIONS(description='DRG (clm_drg_cd): STU3 diagnosis entry with only packageCode, R4 supportingInfo.'),
  discharge_status_code STRING OPTIONS(description='Patient discharge status code (ptnt_dschrg_stus_cd).'),
  admission_date DATE OPTIONS(description='Admission date: STU3 hospitalization.start, R4 supportingInfo admissionperiod.'),
  discharge_date DATE OPTIONS(description='Discharge date: STU3 hospitalization.end, R4 supportingInfo admissionperiod end.'),
  admission_type_code STRING OPTIONS(description='Inpatient admission type code (clm_ip_admsn_type_cd).'),
  principal_diagnosis_code STRING OPTIONS(description='ICD code of the diagnosis typed "principal", as sent (no dot).'),
  total_charge_amount NUMERIC(15, 2) OPTIONS(description='Claim total charge (clm_tot_chrg_amt): STU3 totalCost, R4 total[] keyed on the BFD variable URL, except the carrier/DME entry BFD files under CARIN priorpayerpaid with that variable: it holds carr_clm_prmry_pyr_pd_amt (see primary_payer_paid_amount).'),
  payment_amount NUMERIC(15, 2) OPTIONS(description='Claim payment amount (clm_pmt_amt, payment.amount).'),
  payment_date DATE OPTIONS(description='Payment date (payment.date; Part D events).'),
  coverage_reference STRING OPTIONS(description='Coverage the claim is paid under (insurance.coverage.reference; STU3 single insurance, R4 array).'),
  pde_days_supply INT64 OPTIONS(description='Part D days supply (days_suply_num).'),
  pde_fill_number INT64 OPTIONS(description='Part D fill number (fill_num).'),
  pde_daw_code STRING OPTIONS(description='Part D dispense-as-written code (daw_prod_slctn_cd).'),
  last_updated TIMESTAMP OPTIONS(description='meta.lastUpdated.'),
  claim_control_number STRING OPTIONS(description='Claim control number: carr_clm_cntl_num (carrier, DME) or fi_doc_clm_cntl_num (institutional); nets adjustments with original_claim_control_number.'),
  original_claim_control_number STRING OPTIONS(description='Original claim control number of an adjustment (fi_orig_clm_cntl_num).'),
  claim_query_code STRING OPTIONS(description='Claim query code (claim_query_cd on billablePeriod): 3 final, 1 interim, 5 credit adjustment, ...'),
  service_classification_code STRING OPTIONS(description='Claim service classification type code (clm_srvc_clsfctn_type_cd), second digit of the type of bill.'),
  near_line_record_code STRING OPTIONS(description='NCH near-line record identification code (nch_near_line_rec_ident_cd).'),
  adjustment_deletion_code STRING OPTIONS(description='Part D adjustment/deletion code (adjstmt_dltn_cd).'),
  payment_denial_code STRING OPTIONS(description='Carrier claim payment denial code (carr_clm_pmt_dnl_cd).'),
  nonpayment_reason_code STRING OPTIONS(description='Claim Medicare non-payment reason code (clm_mdcr_non_pmt_rsn_cd).'),
  fi_claim_action_code STRING OPTIONS(description='FI claim action code (fi_clm_actn_cd).'),
  primary_payer_code STRING OPTIONS(description='NCH primary payer code (nch_prmry_pyr_cd).'),
  primary_payer_paid_amount NUMERIC(15, 2) OPTIONS(description='Primary payer paid amount (prpayamt, carr_clm_prmry_pyr_pd_amt). R4 carrier/DME claims send it in total[] under CARIN priorpayerpaid, mislabelled with the clm_tot_chrg_amt variable: it is taken here, not as the total charge.'),
  admission_source_code STRING OPTIONS(description='Source of admission (clm_src_ip_admsn_cd).'),
  patient_status_code STRING OPTIONS(description='NCH patient status indicator (nch_ptnt_stus_ind_cd).'),
  utilization_day_count INT64 OPTIONS(description='Utilization day count (clm_utlztn_day_cnt, benefitBalance).'),
  non_utilization_day_count INT64 OPTIONS(description='Non-utilization day count (clm_non_utlztn_days_cnt).'),
  coinsurance_day_count INT64 OPTIONS(description='Beneficiary total coinsurance days (bene_tot_coinsrnc_days_cnt).'),
  lifetime_reserve_days_used INT64 OPTIONS(description='Lifetime reserve days used (bene_lrd_used_cnt).'),
  hha_visit_count INT64 OPTIONS(description='HHA total visit count (clm_hha_tot_visit_cnt).'),
  hospice_period_count INT64 OPTIONS(description='Beneficiary hospice period count (bene_hospc_prd_cnt): STU3 on hospitalization, R4 on the claim.'),
  contractor_number STRING OPTIONS(description='Medicare contractor: carrier number (carr_num) or fiscal intermediary number (fi_num).'),
  clinical_trial_number STRING OPTIONS(description='Clinical trial number (clm_clncl_tril_num).'),
  assignment_code STRING OPTIONS(description='Carrier claim provider assignment indicator (asgmntcd).'),
  rx_service_reference_number STRING OPTIONS(description='Part D prescription service reference number (rx_srvc_rfrnc_num identifier).'),
  plan_contract_id STRING OPTIONS(description='Part D plan contract id (plan_cntrct_rec_id on insurance.coverage).'),
  plan_pbp_id STRING OPTIONS(description='Part D plan benefit package (plan_pbp_rec_num on insurance.coverage).'),
  brand_generic_code STRING OPTIONS(description='Part D brand/generic code (brnd_gnrc_cd).'),
  dispensing_status_code STRING OPTIONS(description='Part D dispensing status (dspnsng_stus_cd).'),
  drug_coverage_status_code STRING OPTIONS(description='Part D drug coverage status (drug_cvrg_stus_cd): STU3 information or line adjudication reason, R4 supportingInfo.'),
  rx_origin_code STRING OPTIONS(description='Part D prescription origin (rx_orgn_cd).'),
  pharmacy_service_type_code STRING OPTIONS(description='Part D pharmacy service type (phrmcy_srvc_type_cd).'),
  catastrophic_coverage_code STRING OPTIONS(description='Part D catastrophic coverage code (ctstrphc_cvrg_cd).'),
  billing_provider_id STRING OPTIONS(description='Billing provider NPI-system identifier exactly as sent, valid or not (billing_npi takes only a Luhn-valid one).'),
  billable_period_start_ts TIMESTAMP OPTIONS(description='billablePeriod.start as an instant (UTC) when the source sent a time (FHIR dateTime); null for a plain date (all CMS sources). billable_period_start keeps the date as written.'),
  billable_period_end_ts TIMESTAMP OPTIONS(description='billablePeriod.end as an instant (UTC) when the source sent a time; null for a plain date.'),
  claim_type_system STRING OPTIONS(description='System of the coding claim_type_raw comes from (eob-type, HL7 claim-type, or a payer''s own).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob (schema 2.1.0): One row per claim (ExplanationOfBenefit).');

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
OPTIONS (description = 'dpcetl eob_amount (schema 2.1.0): One row per header money amount of a claim, keyed by BFD variable: money extensions, benefitBalance.financial usedMoney, and the totals (STU3 totalCost as clm_tot_chrg_amt; R4 total[] by BFD variable, with the carrier/DME priorpayerpaid total as prpayamt, the Part D drug-cost total as tot_rx_cst_amt and CARIN-only totals as total:{code}). Lossless companion of the eob columns.');

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
  quantity NUMERIC(18, 6) OPTIONS(description='Units: item.quantity (carrier, DME, Part D; STU3 institutional lines: rev_cntr_unit_cnt); R4 institutional lines (with a revenue center): the rev_cntr_unit_cnt extension only, because BFD v2 puts the NDC quantity in their item.quantity (see ndc_quantity).'),
  rendering_npi STRING OPTIONS(description='NPI of the care team member the line links to first (STU3 careTeamLinkId, R4 careTeamSequence; the member of care_team_sequence), when it is a Luhn-valid NPI-system identifier. Placeholders and UPINs (R4 hospice "0") never land here: see rendering_provider_id, and eob_line_care_team for every link.'),
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
  type_of_service_code STRING OPTIONS(description='CMS type of service (line_cms_type_srvc_cd, item.category).'),
  mtus_count NUMERIC(18, 6) OPTIONS(description='Miles/time/units/services count (carr_line_mtus_cnt, dmerc_line_mtus_cnt).'),
  mtus_code STRING OPTIONS(description='MTUS indicator code: carr_line_mtus_cd (carrier), or the unit code of the dmerc_line_mtus_cnt quantity (DME, system dmerc_line_mtus_cd).'),
  pricing_locality_code STRING OPTIONS(description='Carrier line pricing locality (carr_line_prcng_lclty_cd).'),
  provider_state_code STRING OPTIONS(description='Line provider state code (prvdr_state_cd).'),
  provider_zip_code STRING OPTIONS(description='Line provider ZIP (prvdr_zip), leading zeros kept.'),
  clia_lab_number STRING OPTIONS(description='CLIA laboratory number (carr_line_clia_lab_num).'),
  dme_pricing_state_code STRING OPTIONS(description='DME pricing state (dmerc_line_prcng_state_cd): STU3 on the location, R4 on the line.'),
  dme_supplier_type_code STRING OPTIONS(description='DME supplier type (dmerc_line_supplr_type_cd): STU3 on the location, R4 on the line.'),
  supplier_number STRING OPTIONS(description='DME supplier number (suplrnum).'),
  primary_payer_code STRING OPTIONS(description='Line primary payer code (line_bene_prmry_pyr_cd).'),
  processing_indicator_code STRING OPTIONS(description='Line processing indicator (line_prcsg_ind_cd): STU3 adjudication reason, R4 line extension.'),
  payment_80_100_code STRING OPTIONS(description='Line payment 80%/100% code (line_pmt_80_100_cd, on an adjudication).'),
  service_deductible_code STRING OPTIONS(description='Line service deductible indicator (line_service_deductible).'),
  reduced_payment_code STRING OPTIONS(description='Reduced payment physician assistant code (carr_line_rdcd_pmt_phys_astn_c).'),
  revenue_denial_reason_code_1 STRING OPTIONS(description='First revenue center ANSI adjustment reason code (rev_cntr_1st_ansi_cd).'),
  revenue_denial_reason_code_2 STRING OPTIONS(description='Second revenue center ANSI adjustment reason code (rev_cntr_2nd_ansi_cd).'),
  revenue_status_code STRING OPTIONS(description='Revenue center status indicator (rev_cntr_stus_ind_cd).'),
  deductible_coinsurance_code STRING OPTIONS(description='Revenue center deductible/coinsurance code (rev_cntr_ddctbl_coinsrnc_cd): STU3 revenue extension, R4 revenue coding.'),
  ndc_quantity NUMERIC(18, 6) OPTIONS(description='NDC quantity (rev_cntr_ndc_qty): STU3 line extension; R4 institutional lines carry it in item.quantity.'),
  ndc_quantity_unit STRING OPTIONS(description='NDC quantity unit code (rev_cntr_ndc_qty_qlfr_cd as the quantity''s code).'),
  provider_tax_number STRING OPTIONS(description='Line provider tax number (tax_num; identifier system https://bluebutton.cms.gov/resources/variables/tax_num): STU3 a linked care team member with that identifier system, R4 a line extension. Never in an NPI column, even when it looks like one.'),
  rendering_provider_id STRING OPTIONS(description='Identifier, exactly as sent, of the first care team member the line links to (NPI, UPIN, ...); rendering_npi takes only a Luhn-valid NPI. Every link is in eob_line_care_team.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_line (schema 2.1.0): One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.');

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
OPTIONS (description = 'dpcetl eob_line_amount (schema 2.1.0): One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.');

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
OPTIONS (description = 'dpcetl eob_diagnosis (schema 2.1.0): One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.');

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
OPTIONS (description = 'dpcetl eob_procedure (schema 2.1.0): One row per procedure of a claim.');

CREATE TABLE IF NOT EXISTS `claims.eob_care_team` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  `sequence` INT64 OPTIONS(description='careTeam.sequence.'),
  `role` STRING OPTIONS(description='Care team role code as sent (STU3 claimcareteamrole: primary/assist/other; R4 C4BBClaimCareTeamRole: attending/operating/performing/...).'),
  npi STRING OPTIONS(description='Provider NPI: a Luhn-valid NPI-system identifier only (STU3 system us-npi, R4 type npi).'),
  specialty_code STRING OPTIONS(description='Provider specialty (prvdr_spclty) when sent.'),
  provider_identifier STRING OPTIONS(description='Provider identifier exactly as sent (NPI, UPIN, placeholder "0", ...).'),
  provider_identifier_system STRING OPTIONS(description='System of the provider identifier when sent (STU3 us-npi).'),
  provider_identifier_type STRING OPTIONS(description='Type code of the provider identifier when sent (R4 npi, UPIN, ...).'),
  taxonomy_code STRING OPTIONS(description='Provider taxonomy (NUCC) when sent.'),
  provider_type_code STRING OPTIONS(description='Carrier line provider type (carr_line_prvdr_type_cd).'),
  participating_code STRING OPTIONS(description='Provider participating indicator (prtcptng_ind_cd).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_care_team (schema 2.1.0): One row per care team member of a claim.');

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
OPTIONS (description = 'dpcetl export_error (schema 2.1.0): One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).');

CREATE TABLE IF NOT EXISTS `claims.eob_line_care_team` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  line_number INT64 OPTIONS(description='Line number (item.sequence).'),
  link_order INT64 OPTIONS(description='Position of the link in the line''s link list (0 = first).'),
  care_team_sequence INT64 OPTIONS(description='The linked careTeam.sequence (joins eob_care_team.sequence).'),
  `role` STRING OPTIONS(description='Role of the linked member as sent.'),
  npi STRING OPTIONS(description='NPI of the linked member: Luhn-valid NPI-system identifiers only.'),
  provider_identifier STRING OPTIONS(description='Identifier of the linked member exactly as sent.'),
  provider_identifier_type STRING OPTIONS(description='Type code of that identifier (R4 npi, UPIN, ...) or, when untyped, its system.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_line_care_team (schema 2.1.0): Bridge of every line → care team link (STU3 careTeamLinkId, R4 careTeamSequence), in link order: a line that links several members (rendering, referring, supplier) has a row for each.');

CREATE TABLE IF NOT EXISTS `claims.patient_identifier` (
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  kind STRING OPTIONS(description='mbi, hicn, mbi_hash, hicn_hash, bene_id, or the system as sent.'),
  system STRING OPTIONS(description='Identifier system as sent.'),
  value STRING OPTIONS(description='Identifier value, as sent.'),
  currency STRING OPTIONS(description='current or historic (BFD identifier-currency extension) when sent.'),
  is_current BOOL OPTIONS(description='True when marked current; false when marked historic; null when unmarked.'),
  type_code STRING OPTIONS(description='Identifier type code (v2-0203 MB, MC, ...) when sent.'),
  period_start DATE OPTIONS(description='Identifier period start when sent.'),
  period_end DATE OPTIONS(description='Identifier period end when sent.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl patient_identifier (schema 2.1.0): One row per Patient identifier: every MBI and HICN (current and historic, CCLF9-style crosswalk), the hashes and bene_id.');

CREATE TABLE IF NOT EXISTS `claims.eob_detail` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  source STRING OPTIONS(description='Where the value sits in the resource (FHIR element path, indexes removed), e.g. item.locationCodeableConcept.extension.'),
  variable STRING OPTIONS(description='BFD variable name (URL prefix https://bluebutton.cms.gov/resources/variables/ removed), or the URL/system/category as sent when it is not a BFD variable.'),
  system STRING OPTIONS(description='Code system of code (or identifier system) when sent.'),
  `code` STRING OPTIONS(description='Coded value, as sent (leading zeros kept).'),
  display STRING OPTIONS(description='Display text of the code when sent.'),
  value STRING OPTIONS(description='Other value as text: identifier value, string, reference, boolean.'),
  amount NUMERIC(15, 2) OPTIONS(description='Money amount, exact.'),
  quantity NUMERIC(18, 6) OPTIONS(description='Quantity or count, exact.'),
  `date` DATE OPTIONS(description='Date value (or period start).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_detail (schema 2.1.0): Long tail of every claim-level BFD variable: one row per extension, identifier, BFD coding, information/supportingInfo entry, benefitBalance entry, total and contained-resource code of a claim, whether or not a typed column also carries it. Nothing a claim sends is dropped.');

CREATE TABLE IF NOT EXISTS `claims.eob_line_detail` (
  eob_id STRING OPTIONS(description='ExplanationOfBenefit.id of the claim.'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  claim_type STRING OPTIONS(description='Claim type from the eob-type coding (see eob.claim_type).'),
  line_number INT64 OPTIONS(description='Line number (item.sequence).'),
  source STRING OPTIONS(description='Where the value sits in the resource (FHIR element path, indexes removed), e.g. item.locationCodeableConcept.extension.'),
  variable STRING OPTIONS(description='BFD variable name (URL prefix https://bluebutton.cms.gov/resources/variables/ removed), or the URL/system/category as sent when it is not a BFD variable.'),
  system STRING OPTIONS(description='Code system of code (or identifier system) when sent.'),
  `code` STRING OPTIONS(description='Coded value, as sent (leading zeros kept).'),
  display STRING OPTIONS(description='Display text of the code when sent.'),
  value STRING OPTIONS(description='Other value as text: identifier value, string, reference, boolean.'),
  amount NUMERIC(15, 2) OPTIONS(description='Money amount, exact.'),
  quantity NUMERIC(18, 6) OPTIONS(description='Quantity or count, exact.'),
  `date` DATE OPTIONS(description='Date value (or period start).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl eob_line_detail (schema 2.1.0): Long tail of every line-level BFD variable: one row per line extension, coding and adjudication (amounts and reason/denial codes).');

CREATE TABLE IF NOT EXISTS `claims.patient_detail` (
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  source STRING OPTIONS(description='Where the value sits in the resource (FHIR element path, indexes removed), e.g. item.locationCodeableConcept.extension.'),
  variable STRING OPTIONS(description='BFD variable name (URL prefix https://bluebutton.cms.gov/resources/variables/ removed), or the URL/system/category as sent when it is not a BFD variable.'),
  system STRING OPTIONS(description='Code system of code (or identifier system) when sent.'),
  `code` STRING OPTIONS(description='Coded value, as sent (leading zeros kept).'),
  display STRING OPTIONS(description='Display text of the code when sent.'),
  value STRING OPTIONS(description='Other value as text: identifier value, string, reference, boolean.'),
  amount NUMERIC(15, 2) OPTIONS(description='Money amount, exact.'),
  quantity NUMERIC(18, 6) OPTIONS(description='Quantity or count, exact.'),
  `date` DATE OPTIONS(description='Date value (or period start).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl patient_detail (schema 2.1.0): Long tail of a Patient: one row per extension (race, sex, monthly dual status, reference year, ...), nested extension and identifier-currency marker.');

CREATE TABLE IF NOT EXISTS `claims.coverage_detail` (
  coverage_id STRING OPTIONS(description='Coverage.id ("part-a-{bene}" ...).'),
  patient_id STRING OPTIONS(description='Patient.id (BFD bene_id).'),
  source STRING OPTIONS(description='Where the value sits in the resource (FHIR element path, indexes removed), e.g. item.locationCodeableConcept.extension.'),
  variable STRING OPTIONS(description='BFD variable name (URL prefix https://bluebutton.cms.gov/resources/variables/ removed), or the URL/system/category as sent when it is not a BFD variable.'),
  system STRING OPTIONS(description='Code system of code (or identifier system) when sent.'),
  `code` STRING OPTIONS(description='Coded value, as sent (leading zeros kept).'),
  display STRING OPTIONS(description='Display text of the code when sent.'),
  value STRING OPTIONS(description='Other value as text: identifier value, string, reference, boolean.'),
  amount NUMERIC(15, 2) OPTIONS(description='Money amount, exact.'),
  quantity NUMERIC(18, 6) OPTIONS(description='Quantity or count, exact.'),
  `date` DATE OPTIONS(description='Date value (or period start).'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl coverage_detail (schema 2.1.0): Long tail of a Coverage: one row per extension (every monthly and yearly enrollment variable), identifier and class.');

CREATE TABLE IF NOT EXISTS `claims.deleted_resource` (
  resource_type STRING OPTIONS(description='Resource type from request.url ("Patient/123" → Patient); null when the url is not "Type/id".'),
  resource_id STRING OPTIONS(description='Resource id from request.url ("Patient/123" → 123); null when the url is not "Type/id".'),
  request_method STRING OPTIONS(description='entry.request.method (DELETE).'),
  request_url STRING OPTIONS(description='entry.request.url exactly as sent.'),
  full_url STRING OPTIONS(description='entry.fullUrl when sent.'),
  bundle_id STRING OPTIONS(description='Bundle.id when sent.'),
  bundle_timestamp TIMESTAMP OPTIONS(description='Bundle.timestamp when sent.'),
  export_job_id STRING OPTIONS(description='DPC export job id the row came from.'),
  source_fhir_version STRING OPTIONS(description='FHIR version of the source resource: "STU3" or "R4".'),
  ingested_at TIMESTAMP OPTIONS(description='When dpcetl transformed the row (UTC, microseconds).')
)
OPTIONS (description = 'dpcetl deleted_resource (schema 2.1.0): One row per entry of the Bundles in a bulk export''s deleted[] files (Bulk Data IG: request.method DELETE, request.url "Type/id"): resources the server deleted in the export window. A log like export_error: rows are never merged.');

-- patient_latest: one row per patient_id, from its latest delivery.
CREATE OR REPLACE VIEW `claims.patient_latest` AS
SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, hicn, address_line_1, address_line_2, address_lines, city, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT patient_id, bene_id, mbi, given_name, middle_name, family_name, gender, birth_date, death_date, state_code, zip_code, race_code, last_updated, hicn, address_line_1, address_line_2, address_lines, city, export_job_id, source_fhir_version, ingested_at,
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
SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, claim_control_number, original_claim_control_number, claim_query_code, service_classification_code, near_line_record_code, adjustment_deletion_code, payment_denial_code, nonpayment_reason_code, fi_claim_action_code, primary_payer_code, primary_payer_paid_amount, admission_source_code, patient_status_code, utilization_day_count, non_utilization_day_count, coinsurance_day_count, lifetime_reserve_days_used, hha_visit_count, hospice_period_count, contractor_number, clinical_trial_number, assignment_code, rx_service_reference_number, plan_contract_id, plan_pbp_id, brand_generic_code, dispensing_status_code, drug_coverage_status_code, rx_origin_code, pharmacy_service_type_code, catastrophic_coverage_code, billing_provider_id, billable_period_start_ts, billable_period_end_ts, claim_type_system, export_job_id, source_fhir_version, ingested_at
FROM (
  SELECT eob_id, claim_id, claim_group_id, claim_type, claim_type_raw, nch_claim_type_code, patient_id, `status`, billable_period_start, billable_period_end, billing_npi, attending_npi, operating_npi, provider_ccn, facility_type_code, claim_frequency_code, drg_code, discharge_status_code, admission_date, discharge_date, admission_type_code, principal_diagnosis_code, total_charge_amount, payment_amount, payment_date, coverage_reference, pde_days_supply, pde_fill_number, pde_daw_code, last_updated, claim_control_number, original_claim_control_number, claim_query_code, service_classification_code, near_line_record_code, adjustment_deletion_code, payment_denial_code, nonpayment_reason_code, fi_claim_action_code, primary_payer_code, primary_payer_paid_amount, admission_source_code, patient_status_code, utilization_day_count, non_utilization_day_count, coinsurance_day_count, lifetime_reserve_days_used, hha_visit_count, hospice_period_count, contractor_number, clinical_trial_number, assignment_code, rx_service_reference_number, plan_contract_id, plan_pbp_id, brand_generic_code, dispensing_status_code, drug_coverage_status_code, rx_origin_code, pharmacy_service_type_code, catastrophic_coverage_code, billing_provider_id, billable_period_start_ts, billable_period_end_ts, claim_type_system, export_job_id, source_fhir_version, ingested_at,
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
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.hcpcs_code, c.hcpcs_modifier_1, c.hcpcs_modifier_2, c.ndc, c.revenue_center_code, c.place_of_service_code, c.betos_code, c.service_start, c.service_end, c.quantity, c.rendering_npi, c.care_team_sequence, c.submitted_amount, c.allowed_amount, c.paid_amount, c.provider_paid_amount, c.beneficiary_paid_amount, c.deductible_amount, c.coinsurance_amount, c.patient_pay_amount, c.primary_payer_paid_amount, c.noncovered_amount, c.rate_amount, c.type_of_service_code, c.mtus_count, c.mtus_code, c.pricing_locality_code, c.provider_state_code, c.provider_zip_code, c.clia_lab_number, c.dme_pricing_state_code, c.dme_supplier_type_code, c.supplier_number, c.primary_payer_code, c.processing_indicator_code, c.payment_80_100_code, c.service_deductible_code, c.reduced_payment_code, c.revenue_denial_reason_code_1, c.revenue_denial_reason_code_2, c.revenue_status_code, c.deductible_coinsurance_code, c.ndc_quantity, c.ndc_quantity_unit, c.provider_tax_number, c.rendering_provider_id, c.export_job_id, c.source_fhir_version, c.ingested_at
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
SELECT c.eob_id, c.patient_id, c.claim_type, c.`sequence`, c.`role`, c.npi, c.specialty_code, c.provider_identifier, c.provider_identifier_system, c.provider_identifier_type, c.taxonomy_code, c.provider_type_code, c.participating_code, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_care_team` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_care_team_latest: the rows of each eob's latest delivery, one per eob_id, line_number, link_order.
CREATE OR REPLACE VIEW `claims.eob_line_care_team_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.link_order, c.care_team_sequence, c.`role`, c.npi, c.provider_identifier, c.provider_identifier_type, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_line_care_team` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- patient_identifier_latest: the rows of each patient's latest delivery, one per patient_id, system, value.
CREATE OR REPLACE VIEW `claims.patient_identifier_latest` AS
SELECT c.patient_id, c.kind, c.system, c.value, c.currency, c.is_current, c.type_code, c.period_start, c.period_end, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.patient_identifier` AS c
JOIN `claims.patient_latest` AS p ON c.patient_id = p.patient_id AND c.export_job_id = p.export_job_id;

-- eob_detail_latest: the rows of each eob's latest delivery (by eob_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.eob_detail_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.source, c.variable, c.system, c.`code`, c.display, c.value, c.amount, c.quantity, c.`date`, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_detail` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- eob_line_detail_latest: the rows of each eob's latest delivery (by eob_id, line_number, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.eob_line_detail_latest` AS
SELECT c.eob_id, c.patient_id, c.claim_type, c.line_number, c.source, c.variable, c.system, c.`code`, c.display, c.value, c.amount, c.quantity, c.`date`, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.eob_line_detail` AS c
JOIN `claims.eob_latest` AS p ON c.eob_id = p.eob_id AND c.export_job_id = p.export_job_id;

-- patient_detail_latest: the rows of each patient's latest delivery (by patient_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.patient_detail_latest` AS
SELECT c.patient_id, c.source, c.variable, c.system, c.`code`, c.display, c.value, c.amount, c.quantity, c.`date`, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.patient_detail` AS c
JOIN `claims.patient_latest` AS p ON c.patient_id = p.patient_id AND c.export_job_id = p.export_job_id;

-- coverage_detail_latest: the rows of each coverage's latest delivery (by coverage_id, source, variable; the source may repeat one).
CREATE OR REPLACE VIEW `claims.coverage_detail_latest` AS
SELECT c.coverage_id, c.patient_id, c.source, c.variable, c.system, c.`code`, c.display, c.value, c.amount, c.quantity, c.`date`, c.export_job_id, c.source_fhir_version, c.ingested_at
FROM `claims.coverage_detail` AS c
JOIN `claims.coverage_latest` AS p ON c.coverage_id = p.coverage_id AND c.export_job_id = p.export_job_id;
