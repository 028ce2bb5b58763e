package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/roster"
)

func admFmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func admAttrRows(kind string, as []roster.Attribution) [][]string {
	rows := make([][]string, 0, len(as))
	for _, a := range as {
		row := ""
		if a.Line > 0 {
			row = strconv.Itoa(a.Line)
		}
		rows = append(rows, []string{kind, row, a.NPI, a.MBI, a.Status, admFmtTime(a.End)})
	}
	return rows
}

type admPlanJSON struct {
	DryRun              bool                 `json:"dry_run"`
	CreatePractitioners []string             `json:"create_practitioners"`
	CreatePatients      []string             `json:"create_patients"`
	CreateGroups        []string             `json:"create_groups"`
	Add                 []roster.Attribution `json:"add"`
	Renew               []roster.Attribution `json:"renew"`
	Remove              []roster.Attribution `json:"remove"`
	Replace             []roster.Attribution `json:"replace"`
	OverLimit           []roster.Attribution `json:"over_roster_limit"`
	Unchanged           int                  `json:"unchanged"`
}

func admPrintPlan(env *Env, f *admFlags, p *roster.Plan) error {
	v := admPlanJSON{DryRun: true, CreateGroups: admNonNil(p.CreateGroups), Add: admNonNil(p.Add), Renew: admNonNil(p.Renew),
		Remove: admNonNil(p.Remove), Replace: admNonNil(p.Replace), OverLimit: admNonNil(p.OverLimit), Unchanged: p.Unchanged, CreatePractitioners: []string{}, CreatePatients: []string{}}
	for _, r := range p.CreatePractitioners {
		v.CreatePractitioners = append(v.CreatePractitioners, r.NPI)
	}
	for _, r := range p.CreatePatients {
		v.CreatePatients = append(v.CreatePatients, r.MBI)
	}
	if f.json() {
		return admJSON(env.Stdout, v)
	}
	fmt.Fprintf(env.Stdout, "Plan (dry run, nothing changed): %d practitioners and %d patients to register, %d groups to create, %d to add, %d to renew, %d to remove, %d unchanged\n",
		len(v.CreatePractitioners), len(v.CreatePatients), len(v.CreateGroups), len(v.Add), len(v.Renew), len(v.Remove), v.Unchanged)
	var rows [][]string
	for _, r := range p.CreatePractitioners {
		rows = append(rows, []string{"register practitioner", strconv.Itoa(r.Line), r.NPI, "", "", ""})
	}
	for _, r := range p.CreatePatients {
		rows = append(rows, []string{"register patient", strconv.Itoa(r.Line), "", r.MBI, "", ""})
	}
	for _, n := range p.CreateGroups {
		rows = append(rows, []string{"create group", "", n, "", "", ""})
	}
	rows = append(rows, admAttrRows("add", p.Add)...)
	rows = append(rows, admAttrRows("renew", p.Renew)...)
	rows = append(rows, admAttrRows("remove", p.Remove)...)
	rows = append(rows, admAttrRows("replace (one PUT)", p.Replace)...)
	rows = append(rows, admAttrRows("not attributable", p.OverLimit)...)
	if len(rows) == 0 {
		return nil
	}
	return admTable(env.Stdout, []string{"ACTION", "ROW", "NPI", "MBI", "STATUS", "LAPSES"}, rows)
}

func admPrintReport(env *Env, f *admFlags, rep *roster.Report) error {
	if f.json() {
		return admJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "Roster sync: %d added, %d renewed, %d removed, %d unchanged, %d failed (registered %d practitioners, %d patients; created %d groups)\n",
		len(rep.Added), len(rep.Renewed), len(rep.Removed), rep.Unchanged, len(rep.Failed),
		len(rep.CreatedPractitioners), len(rep.CreatedPatients), len(rep.CreatedGroups))
	var rows [][]string
	rows = append(rows, admAttrRows("added", rep.Added)...)
	rows = append(rows, admAttrRows("renewed", rep.Renewed)...)
	rows = append(rows, admAttrRows("removed", rep.Removed)...)
	for _, fl := range rep.Failed {
		lines := make([]string, len(fl.Lines))
		for i, l := range fl.Lines {
			lines[i] = strconv.Itoa(l)
		}
		rows = append(rows, []string{"FAILED " + fl.Action, strings.Join(lines, ","), fl.NPI, fl.MBI, fl.Error, ""})
	}
	if len(rows) == 0 {
		return nil
	}
	return admTable(env.Stdout, []string{"RESULT", "ROW", "NPI", "MBI", "STATUS", "LAPSES"}, rows)
}

func rosterSyncCmd() *Command {
	return admCmd("sync", "dpcetl roster sync --file roster.csv [--dry-run] [--within 14d]",
		"make DPC match a CSV roster: register practitioners and patients, create/update groups, remove unlisted patients, renew attributions lapsing within --within",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("roster sync", true)
			file := f.fs.String("file", "", "roster CSV: practitioner_npi, patient_mbi, patient_given, patient_family, patient_birth_date, patient_gender [, practitioner_given, practitioner_family]")
			dry := f.fs.Bool("dry-run", false, "print the plan and change nothing")
			within := f.fs.String("within", "14d", "renew attributions that lapse within this long")
			limit := f.fs.Int("roster-limit", roster.DefaultRosterLimit, "most patients one group may hold, inactive members included (DPC's limit; rows past it are reported, not sent; -1: none)")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if *file == "" {
					return &UsageError{Msg: "--file is required"}
				}
				window, err := admParseDuration(*within)
				if err != nil {
					return &UsageError{Msg: "--within: " + err.Error()}
				}
				if window == 0 {
					window = -1 // roster.Options: renew nothing early (0 would mean the default)
				}
				fh, err := os.Open(*file)
				if err != nil {
					return admFileErr("file", err)
				}
				base, _ := f.baseURL(env)
				ros, err := roster.ParseWith(fh, roster.ParseOptions{AllowSyntheticMBI: base != "" && !dpc.IsProduction(base)})
				fh.Close()
				if err != nil {
					return admUsage(fmt.Errorf("%s: %w", *file, err))
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				plan, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: env.Now(), Window: window, RosterLimit: *limit})
				if err != nil {
					if errors.Is(err, dpc.ErrInvalid) && !isAPIError(err) {
						return admUsage(fmt.Errorf("%s: %w", *file, err))
					}
					return err
				}
				if *dry {
					return admPrintPlan(env, f, plan)
				}
				rep, applyErr := roster.Apply(ctx, c, plan)
				if applyErr != nil && !errors.Is(applyErr, roster.ErrPartial) {
					return applyErr // nothing was attempted
				}
				if err := admPrintReport(env, f, rep); err != nil {
					return err
				}
				if applyErr != nil {
					return fmt.Errorf("%s: %w (rerun to apply only what is missing)", *file, applyErr)
				}
				return nil
			}
		})
}

func isAPIError(err error) bool {
	var ae *dpc.APIError
	return errors.As(err, &ae)
}

func rosterExpiringCmd() *Command {
	return admCmd("expiring", "dpcetl roster expiring [--within 14d] [--include-lapsed]",
		"list attributions that lapse within --within (they drop out of exports when they do)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("roster expiring", true)
			within := f.fs.String("within", "14d", "how far ahead to look")
			lapsed := f.fs.Bool("include-lapsed", false, "also list attributions that already lapsed and were not removed")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				window, err := admParseDuration(*within)
				if err != nil {
					return &UsageError{Msg: "--within: " + err.Error()}
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				as, err := roster.Expiring(ctx, c, env.Now(), window, *lapsed)
				if err != nil {
					return err
				}
				if f.json() {
					if as == nil {
						as = []roster.Attribution{}
					}
					return admJSON(env.Stdout, as)
				}
				rows := make([][]string, len(as))
				for i, a := range as {
					rows[i] = []string{a.NPI, a.MBI, a.GroupID, a.Status, admFmtTime(a.End)}
				}
				return admTable(env.Stdout, []string{"NPI", "MBI", "GROUP ID", "STATUS", "LAPSES"}, rows)
			}
		})
}

// ---- local sandbox ----

func sandboxCmd() *Command {
	serve := admCmd("serve", "dpcetl sandbox serve [--addr 127.0.0.1:3002] [--min-key-bits 4096]",
		"run the local DPC sandbox (portal + /api/v1) until interrupted, for trying every command without a CMS account",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("sandbox serve", false)
			addr := f.fs.String("addr", "127.0.0.1:3002", "listen address")
			bits := f.fs.Int("min-key-bits", dpc.DefaultKeyBits, "smallest RSA key the sandbox accepts (DPC: 4096)")
			jobDur := f.fs.Duration("job-duration", 2*time.Second, "least time an export job takes")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				srv, err := dpctest.Listen(*addr, dpctest.WithMinKeyBits(*bits), dpctest.WithJobDuration(*jobDur))
				if err != nil {
					return &UsageError{Msg: fmt.Sprintf("cannot listen on %s: %v (choose another --addr)", *addr, err)}
				}
				defer srv.Close()
				if f.json() {
					if err := admJSON(env.Stdout, map[string]string{"url": srv.URL, "api": srv.BaseURL()}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(env.Stdout, "DPC sandbox listening.\n  portal: %s/portal\n  API:    %s   (export DPCETL_API=%s)\nPress Ctrl-C to stop.\n",
						srv.URL, srv.BaseURL(), srv.BaseURL())
				}
				<-ctx.Done()
				return nil
			}
		})
	return &Command{Name: "sandbox", Usage: "dpcetl sandbox serve", Summary: "a local DPC sandbox", Sub: []*Command{serve}}
}
