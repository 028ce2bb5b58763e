package report

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/dpcetl/dpcetl/load"
)

// Warning is one counted data-quality warning (schemas.Checker): kind and count, no examples
// (examples can carry claim ids).
type Warning struct {
	Table, Kind string
	Count       int64
}

// Data is what the report shows besides the collector's figures.
type Data struct {
	Manifest    load.Manifest      // the committed run's manifest: the report's row counts are its counts
	Watermark   string             // the group's watermark after the run
	Since       string             // the _since the export used, when incremental
	Durations   map[string]float64 // seconds per stage
	Lines       int64              // NDJSON lines read
	Quarantined int64              // lines quarantined
	Warnings    []Warning
	// SuppressedWhy is the run summary's count of suppressed patients by reason; when nil the
	// report counts the patients of the export_error rows itself.
	SuppressedWhy map[string]int
	Export        *Export // the run's input files; nil when unknown (flatten)
}

type tableRow struct {
	Name       string
	Rows       int64
	Files      int
	Bytes      int64
	NullRates  []colRate
	TypeCounts []typeCount
}

type colRate struct {
	Column string
	Nulls  int64
	Rate   string
	Pct    float64
}

type typeCount struct {
	Type    string
	Rows    int64
	Amounts []amount
}

type amount struct {
	Column, Value string
}

type page struct {
	Data
	Tables      []tableRow
	ClaimTables []tableRow
	Suppressed  int
	Reasons     []reason
	QuarRate    string
	Chart       template.HTML
	TotalRows   int64
	Stages      []stage
	WarnTotal   int64
	Parquet     int
	Inputs      []inputRow
	Methods     []methodCount
}

type inputRow struct {
	Input
	Note string
}

type methodCount struct {
	Method string
	Files  int
	Note   string
}

type reason struct {
	Why      string
	Patients int
}

type stage struct {
	Name    string
	Seconds string
}

// moneyColumns are the amounts shown per claim type (every money column is summed; these
// are the ones an analyst reconciles).
var moneyColumns = map[string][]string{
	"eob":      {"payment_amount", "total_charge_amount", "primary_payer_paid_amount"},
	"eob_line": {"submitted_amount", "allowed_amount", "paid_amount", "patient_pay_amount"},
}

// Render writes the report page. Row counts come from the manifest (what was published);
// the collector adds the breakdowns, which Render checks add up to the manifest's counts.
func Render(w io.Writer, d Data, c *Collector) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := page{Data: d, Suppressed: len(c.suppressed)}
	if d.SuppressedWhy != nil {
		p.Suppressed = 0
		for _, why := range sortedKeys(d.SuppressedWhy) {
			p.Reasons = append(p.Reasons, reason{Why: why, Patients: d.SuppressedWhy[why]})
			p.Suppressed += d.SuppressedWhy[why]
		}
	}
	files := map[string]int{}
	bytes := map[string]int64{}
	for _, f := range d.Manifest.Files {
		files[f.Table]++
		bytes[f.Table] += f.Bytes
		if strings.HasSuffix(f.Key, ".parquet") {
			p.Parquet++
		}
	}
	if d.Export != nil {
		for _, in := range d.Export.Files {
			p.Inputs = append(p.Inputs, inputRow{Input: in, Note: VerifiedNote(in.VerifiedBy)})
		}
		for _, m := range sortedKeys(d.Export.VerifiedBy) {
			p.Methods = append(p.Methods, methodCount{Method: m, Files: d.Export.VerifiedBy[m], Note: VerifiedNote(m)})
		}
	}
	for _, name := range sortedKeys(d.Manifest.Tables) {
		n := int64(d.Manifest.Tables[name])
		tr := tableRow{Name: name, Rows: n, Files: files[name], Bytes: bytes[name]}
		ts := c.tables[name]
		if ts != nil && ts.rows != n {
			return fmt.Errorf("report: table %s: %d rows observed, manifest has %d", name, ts.rows, n)
		}
		if ts != nil {
			for _, col := range ts.cols {
				nn := ts.nulls[col]
				pct := 0.0
				if ts.rows > 0 {
					pct = 100 * float64(nn) / float64(ts.rows)
				}
				tr.NullRates = append(tr.NullRates, colRate{Column: col, Nulls: nn, Rate: fmt.Sprintf("%.1f%%", pct), Pct: pct})
			}
			money, chosen := moneyColumns[name]
			if !chosen {
				money = sortedKeys(ts.amounts) // e.g. the amount column of eob_amount, eob_line_amount, the detail tables
			}
			for _, ty := range sortedKeys(ts.byType) {
				tc := typeCount{Type: ty, Rows: ts.byType[ty]}
				for _, mc := range money {
					if sums, ok := ts.amounts[mc]; ok {
						tc.Amounts = append(tc.Amounts, amount{Column: mc, Value: sums[ty].ToString(2)})
					}
				}
				tr.TypeCounts = append(tr.TypeCounts, tc)
			}
		}
		p.TotalRows += n
		p.Tables = append(p.Tables, tr)
		if ts != nil && (len(ts.byType) > 1 || ts.byType[noType] == 0) && len(tr.TypeCounts) > 0 {
			p.ClaimTables = append(p.ClaimTables, tr) // tables with a claim_type column
		}
	}
	if d.Lines > 0 {
		p.QuarRate = fmt.Sprintf("%.3f%%", 100*float64(d.Quarantined)/float64(d.Lines))
	} else {
		p.QuarRate = "0.000%"
	}
	for _, s := range sortedKeys(d.Durations) {
		p.Stages = append(p.Stages, stage{Name: s, Seconds: fmt.Sprintf("%.2f", d.Durations[s])})
	}
	for _, w := range d.Warnings {
		p.WarnTotal += w.Count
	}
	p.Chart = chart(c.months)
	return pageTmpl.Execute(w, p)
}

// palette gives each claim type a fixed colour.
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"}

// chart draws claims per service month per claim type as an inline SVG of grouped bars.
func chart(months map[string]map[string]int64) template.HTML {
	set := map[string]bool{}
	var max int64
	for _, m := range months {
		for k, n := range m {
			set[k] = true
			if n > max {
				max = n
			}
		}
	}
	ms := sortedKeys(set)
	types := sortedKeys(months)
	if len(ms) == 0 {
		return template.HTML(`<p class="muted">No claims in this run.</p>`)
	}
	const h, top, left, bottom = 220.0, 10.0, 40.0, 40.0
	groupW := 8.0*float64(len(types)) + 6
	width := left + groupW*float64(len(ms)) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Claims per service month and claim type" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, width, h+bottom+top, width, h+bottom+top)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, left, top+h, width-5, top+h)
	fmt.Fprintf(&b, `<text x="2" y="%.0f" font-size="10">%d</text><text x="2" y="%.0f" font-size="10">0</text>`, top+8, max, top+h)
	for i, m := range ms {
		x0 := left + groupW*float64(i) + 3
		for j, ty := range types {
			n := months[ty][m]
			if n == 0 {
				continue
			}
			bh := h * float64(n) / float64(max)
			fmt.Fprintf(&b, `<rect class="bar" data-month="%s" data-type="%s" data-claims="%d" x="%.1f" y="%.1f" width="7" height="%.1f" fill="%s"><title>%s %s: %d claims</title></rect>`,
				m, template.HTMLEscapeString(ty), n, x0+8*float64(j), top+h-bh, bh, palette[j%len(palette)], m, template.HTMLEscapeString(ty), n)
		}
		if len(ms) <= 24 || i%(len(ms)/12+1) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="9" transform="rotate(45 %.1f %.0f)">%s</text>`, x0, top+h+12, x0, top+h+12, m)
		}
	}
	b.WriteString(`</svg><div class="legend">`)
	for j, ty := range types {
		var tot int64
		for _, n := range months[ty] {
			tot += n
		}
		fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s (%d)</span>`, palette[j%len(palette)], template.HTMLEscapeString(ty), tot)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// SortWarnings orders warnings by table and kind.
func SortWarnings(ws []Warning) {
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Table != ws[j].Table {
			return ws[i].Table < ws[j].Table
		}
		return ws[i].Kind < ws[j].Kind
	})
}

var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dpcetl run {{.Manifest.RunID}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#777}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f0f0f0}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.bar:hover{opacity:.7}.nullbar{display:inline-block;height:8px;background:#e15759;vertical-align:middle}
details{margin:4px 0}summary{cursor:pointer}
</style></head><body>
<h1>dpcetl run <code>{{.Manifest.RunID}}</code></h1>
<div class="muted">group <code>{{.Manifest.Group}}</code> · export job <code>{{.Manifest.JobID}}</code> · export date {{.Manifest.ExportDate}} · transaction time {{.Manifest.TransactionTime}} · committed {{.Manifest.CommittedAt}} · schema {{.Manifest.SchemaVersion}} · dpcetl {{.Manifest.DPCETLVersion}}</div>
<div class="cards">
<div class="card"><b id="total-rows" data-value="{{.TotalRows}}">{{.TotalRows}}</b>rows in {{len .Tables}} tables</div>
<div class="card"><b id="files" data-value="{{.Parquet}}">{{.Parquet}}</b>Parquet files</div>
<div class="card"><b id="quarantined" data-value="{{.Quarantined}}">{{.Quarantined}}</b>lines quarantined ({{.QuarRate}} of {{.Lines}})</div>
<div class="card"><b id="warnings" data-value="{{.WarnTotal}}">{{.WarnTotal}}</b>data-quality warnings</div>
<div class="card"><b id="suppressed" data-value="{{.Suppressed}}">{{.Suppressed}}</b>suppressed patients</div>
<div class="card"><b style="font-size:13px" id="watermark" data-value="{{.Watermark}}">{{if .Watermark}}{{.Watermark}}{{else}}—{{end}}</b>watermark{{if .Since}} (since {{.Since}}){{end}}</div>
</div>
<h2>Rows per table</h2>
<table id="tables"><tr><th>table</th><th>rows</th><th>files</th><th>bytes</th></tr>
{{range .Tables}}<tr data-table="{{.Name}}" data-rows="{{.Rows}}"><td>{{.Name}}</td><td class="n">{{.Rows}}</td><td class="n">{{.Files}}</td><td class="n">{{.Bytes}}</td></tr>
{{end}}</table>
{{with .Export}}<h2>Input files and how each was verified</h2>
{{if .WatermarkHeld}}<p id="watermark-held"><b>The watermark did not move:</b> {{.WatermarkHeld}}</p>{{end}}
<table id="verified-by"><tr><th>verified by</th><th>files</th><th></th></tr>{{range $.Methods}}<tr data-method="{{.Method}}" data-files="{{.Files}}"><td>{{.Method}}</td><td class="n">{{.Files}}</td><td>{{.Note}}</td></tr>{{end}}</table>
<table id="inputs"><tr><th>file</th><th>list</th><th>type</th><th>lines</th><th>manifest count</th><th>bytes</th><th>sha256 (own)</th><th>verified by</th><th>quarantined</th><th>kept raw at</th></tr>
{{range $.Inputs}}<tr data-file="{{.File}}" data-verified-by="{{.VerifiedBy}}"><td>{{.File}}</td><td>{{.List}}</td><td>{{.Type}}</td><td class="n">{{.Lines}}</td><td class="n">{{if .Count}}{{.Count}}{{else}}—{{end}}</td><td class="n">{{.Bytes}}</td><td><code>{{.SHA256}}</code></td><td>{{.Note}}</td><td class="n">{{.Quarantined}}</td><td>{{if .Raw}}<code>{{.Raw}}</code>{{end}}</td></tr>
{{end}}</table>
{{if .Deleted}}<p>Deletions landed in deleted_resource:</p><table id="deleted"><tr><th>resource type</th><th>deleted</th></tr>{{range $t, $n := .Deleted}}<tr data-type="{{$t}}" data-deleted="{{$n}}"><td>{{$t}}</td><td class="n">{{$n}}</td></tr>{{end}}</table>{{end}}
{{if .Rounded}}<p>Values rounded under money_policy (money beyond its column's scale, sub-microsecond times):</p><table id="rounded"><tr><th>column</th><th>values rounded</th></tr>{{range $c, $n := .Rounded}}<tr data-column="{{$c}}" data-rounded="{{$n}}"><td>{{$c}}</td><td class="n">{{$n}}</td></tr>{{end}}</table>{{end}}
{{if .CountMismatches}}<p>Error files whose lines disagree with the manifest's count (recorded; the server's inconsistency):</p><table id="count-mismatches"><tr><th>file</th><th>manifest count</th><th>lines</th></tr>{{range .CountMismatches}}<tr data-file="{{.File}}"><td>{{.File}}</td><td class="n">{{.Count}}</td><td class="n">{{.Lines}}</td></tr>{{end}}</table>{{end}}
{{end}}<h2>Claims and lines per claim type</h2>
{{range .ClaimTables}}<h3>{{.Name}}</h3><table class="bytype" data-table="{{.Name}}"><tr><th>claim type</th><th>rows</th>{{with index .TypeCounts 0}}{{range .Amounts}}<th>Σ {{.Column}}</th>{{end}}{{end}}</tr>
{{range .TypeCounts}}<tr data-type="{{.Type}}" data-rows="{{.Rows}}"><td>{{.Type}}</td><td class="n">{{.Rows}}</td>{{range .Amounts}}<td class="n" data-amount="{{.Column}}">{{.Value}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>Claims per service month (billable period start) and type</h2>
{{.Chart}}
<h2>Quarantine</h2>
<p>{{.Quarantined}} of {{.Lines}} NDJSON lines ({{.QuarRate}}) could not be read and are in the run's quarantine file (with file, line and reason); every other line reached the tables.</p>
<h2>Suppressed patients</h2>
<p>{{.Suppressed}} patients were served only as an OperationOutcome (their rows are in export_error; no ids here).</p>
{{if .Reasons}}<table id="suppressed-why"><tr><th>reason</th><th>patients</th></tr>{{range .Reasons}}<tr data-why="{{.Why}}" data-patients="{{.Patients}}"><td>{{.Why}}</td><td class="n">{{.Patients}}</td></tr>{{end}}</table>{{end}}
<h2>Data-quality warnings</h2>
{{if .Warnings}}<table id="warning-list"><tr><th>table</th><th>warning</th><th>count</th></tr>
{{range .Warnings}}<tr data-kind="{{.Kind}}" data-count="{{.Count}}"><td>{{.Table}}</td><td>{{.Kind}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None.</p>{{end}}
<h2>Null rate per column</h2>
{{range .Tables}}<details><summary>{{.Name}} ({{.Rows}} rows)</summary><table class="nulls" data-table="{{.Name}}"><tr><th>column</th><th>nulls</th><th>rate</th><th></th></tr>
{{range .NullRates}}<tr data-column="{{.Column}}" data-nulls="{{.Nulls}}"><td>{{.Column}}</td><td class="n">{{.Nulls}}</td><td class="n">{{.Rate}}</td><td><span class="nullbar" style="width:{{printf "%.0f" .Pct}}px"></span></td></tr>
{{end}}</table></details>
{{end}}
<h2>Timings</h2>
<table id="timings"><tr><th>stage</th><th>seconds</th></tr>{{range .Stages}}<tr data-stage="{{.Name}}"><td>{{.Name}}</td><td class="n">{{.Seconds}}</td></tr>{{end}}</table>
</body></html>
`))
