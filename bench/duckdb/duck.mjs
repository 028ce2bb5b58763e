// DuckDB peer for `make bench`: runs one job over an EOB NDJSON corpus with read_ndjson_auto
// + unnest, writes Parquet (zstd) to a scratch directory, and prints one JSON line with the
// process CPU seconds (all DuckDB threads), wall seconds, peak RSS and rows written.
// Usage: node duck.mjs <corpus.ndjson> <R4|STU3> <duckjob|full> <threads> <outdir> [once]
// With "once" the corpus is read into a temporary table first and every table selects from it
// (one JSON scan instead of one per table).
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';

const [file, version, job, threads, outdir, mode] = process.argv.slice(2);
const once = mode === 'once';
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";
const BB = 'https://bluebutton.cms.gov/resources/variables/';
const code = (list, sys) => `(list_filter(${list}, c -> c.system = ${lit(sys)})[1]).code`;
const amt = (adj, v) => `(list_filter(${adj}, a -> list_contains(list_transform(a.category.coding, c -> c.code), ${lit(BB + v)}))[1]).amount.value::DECIMAL(15,2)`;
const svc = version === 'R4' ? 'productOrService' : 'service';

// One query per table; every query reads the corpus through read_ndjson_auto (as DuckDB's
// users do), the header and line tables are DuckDB's own job.
const scan = `read_ndjson_auto(${lit(file)}, maximum_object_size=67108864)`;
const src = once ? 'corpus' : scan;
const claimType = code('type.coding', 'https://bluebutton.cms.gov/resources/codesystem/eob-type');
const tables = {
  eob: `SELECT id AS eob_id, split_part(patient.reference, '/', 2) AS patient_id, ${claimType} AS claim_type,
          status, billablePeriod."start"::DATE AS billable_period_start, billablePeriod."end"::DATE AS billable_period_end,
          payment.amount.value::DECIMAL(15,2) AS payment_amount, meta.lastUpdated::TIMESTAMPTZ AS last_updated FROM ${src}`,
  eob_line: `SELECT eob_id, patient_id, claim_type, it.sequence::INTEGER AS line_number,
          (it.${svc}.coding[1]).code AS hcpcs_code, it.servicedPeriod."start"::DATE AS service_start,
          ${amt('it.adjudication', 'line_sbmtd_chrg_amt')} AS submitted_amount,
          ${amt('it.adjudication', 'line_alowd_chrg_amt')} AS allowed_amount,
          ${amt('it.adjudication', 'line_nch_pmt_amt')} AS paid_amount
        FROM (SELECT id AS eob_id, split_part(patient.reference, '/', 2) AS patient_id, ${claimType} AS claim_type, unnest(item) AS it FROM ${src})`,
};
if (job === 'full') {
  Object.assign(tables, {
    eob_diagnosis: `SELECT eob_id, d.sequence::INTEGER AS sequence, (d.diagnosisCodeableConcept.coding[1]).code AS code,
          (d.type[1].coding[1]).code AS diagnosis_type FROM (SELECT id AS eob_id, unnest(diagnosis) AS d FROM ${src})`,
    eob_procedure: `SELECT eob_id, p.sequence::INTEGER AS sequence, (p.procedureCodeableConcept.coding[1]).code AS code,
          p.date::VARCHAR AS procedure_date FROM (SELECT id AS eob_id, unnest(procedure) AS p FROM ${src})`,
    eob_care_team: `SELECT eob_id, c.sequence::INTEGER AS sequence, (c.role.coding[1]).code AS role,
          c.provider.identifier.value AS npi FROM (SELECT id AS eob_id, unnest(careTeam) AS c FROM ${src})`,
    eob_amount: `SELECT eob_id, x.url AS variable, x.valueMoney.value::DECIMAL(15,2) AS amount
          FROM (SELECT id AS eob_id, unnest(extension) AS x FROM ${src}) WHERE x.valueMoney IS NOT NULL`,
    eob_line_amount: `SELECT eob_id, line_number, (a.category.coding[1]).code AS variable, a.amount.value::DECIMAL(15,2) AS amount
          FROM (SELECT eob_id, it.sequence::INTEGER AS line_number, unnest(it.adjudication) AS a
                FROM (SELECT id AS eob_id, unnest(item) AS it FROM ${src})) WHERE a.amount IS NOT NULL`,
  });
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let rows = 0;
if (once) await con.run(`CREATE TEMP TABLE corpus AS SELECT * FROM ${scan}`);
for (const [name, q] of Object.entries(tables)) {
  const r = await con.run(`COPY (${q}) TO ${lit(outdir + '/' + name + '.parquet')} (FORMAT parquet, COMPRESSION zstd)`);
  rows += Number(r.rowsChanged);
}
const cpu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ engine: 'duckdb', version, job, threads: Number(threads), scan: once ? 'once' : 'per-table', tables: Object.keys(tables).length,
  rows, cpu_s: (cpu.user + cpu.system) / 1e6, wall_s: wall, max_rss_mib: process.resourceUsage().maxRSS / 1024 }));
