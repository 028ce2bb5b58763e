-- dpcetl claims tables, schema version 2.1.0, dialect bigquery. Generated: do not edit.

CREATE EXTERNAL TABLE IF NOT EXISTS `claims.coverage_month` (
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
WITH PARTITION COLUMNS (
  export_date DATE,
  group_id STRING
)
OPTIONS (
  format = 'PARQUET',
  uris = ['gs://my-bucket/dpc/coverage_month/*'],
  hive_partition_uri_prefix = 'gs://my-bucket/dpc/coverage_month',
  description = 'dpcetl coverage_month (schema 2.1.0): One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.'
);
