// Package bench holds dpcetl's end-to-end throughput benchmarks (NDJSON → Parquet) and the
// corpus generator the DuckDB comparison in bench/duckdb reads; `make bench` runs them.
package bench
