package schemas_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"

	"github.com/dpcetl/dpcetl/schemas"
	"github.com/dpcetl/dpcetl/transform"
)

// Run the built-in R4 views over one Coverage line and print the coverage table's Arrow types.
func ExampleViews() {
	views, err := schemas.Views(schemas.R4)
	if err != nil {
		log.Fatal(err)
	}
	eng, err := transform.New(views)
	if err != nil {
		log.Fatal(err)
	}
	line := []byte(`{"resourceType":"Coverage","id":"part-b-1","status":"active","beneficiary":{"reference":"Patient/1"},` +
		`"class":[{"type":{"coding":[{"code":"plan"}]},"value":"Part B"}],"period":{"start":"2021-07-17"}}` + "\n")
	src := transform.Source{Name: "coverage.ndjson", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(line)), nil }}
	_, err = eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error {
		defer b.Record.Release()
		if b.Table == schemas.TableCoverage {
			for i, f := range b.Record.Schema().Fields()[:5] {
				fmt.Printf("%s %s = %v\n", f.Name, f.Type, b.Record.Column(i).ValueStr(0))
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// coverage_id utf8 = part-b-1
	// patient_id utf8 = 1
	// part utf8 = B
	// status utf8 = active
	// period_start date32 = 2021-07-17
}

// Print Athena DDL for one table, partitioned like the load step's layout.
func ExampleDDL() {
	defs, err := schemas.Definitions(schemas.STU3)
	if err != nil {
		log.Fatal(err)
	}
	ddl, err := schemas.DDL(schemas.Athena, defs, schemas.DDLOptions{Tables: []string{schemas.TableEOBProcedure}, Location: "s3://bucket/dpc"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(ddl)
	// Output:
	// -- dpcetl claims tables, schema version 2.1.0, dialect athena. Generated: do not edit.
	//
	// CREATE EXTERNAL TABLE IF NOT EXISTS eob_procedure (
	//   eob_id string COMMENT 'ExplanationOfBenefit.id of the claim.',
	//   patient_id string COMMENT 'Patient.id (BFD bene_id).',
	//   claim_type string COMMENT 'Claim type from the eob-type coding (see eob.claim_type).',
	//   `sequence` int COMMENT 'procedure.sequence.',
	//   `code` string COMMENT 'ICD procedure code (ICD-10-PCS or ICD-9-CM volume 3).',
	//   icd_version string COMMENT '"9" or "10" from the coding system.',
	//   procedure_date date COMMENT 'procedure.date (date part).',
	//   export_job_id string COMMENT 'DPC export job id the row came from.',
	//   source_fhir_version string COMMENT 'FHIR version of the source resource: "STU3" or "R4".',
	//   ingested_at timestamp COMMENT 'When dpcetl transformed the row (UTC, microseconds).'
	// )
	// COMMENT 'dpcetl eob_procedure (schema 2.1.0): One row per procedure of a claim.'
	// PARTITIONED BY (export_date date, group_id string)
	// STORED AS PARQUET
	// LOCATION 's3://bucket/dpc/eob_procedure/'
	// TBLPROPERTIES ('dpcetl.schema_version'='2.1.0');
	// MSCK REPAIR TABLE eob_procedure;
}
