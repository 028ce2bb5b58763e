package admin

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/roster"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func rosterCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("roster", "keep attribution in step with a CSV roster; renew before the 90 days lapse",
		rosterSync(env), rosterExpiring(env))
}

func rosterSync(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "sync --file roster.csv",
		Short: "make DPC match a CSV roster: register practitioners and patients, create/update groups, remove unlisted patients, renew attributions lapsing within --within",
		Example: "  dpcetl roster sync --file roster.csv --dry-run\n" +
			"  dpcetl roster sync --file roster.csv --within 14d",
		Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	file := c.Flags().String("file", "", "roster CSV: practitioner_npi, patient_mbi, patient_given, patient_family, patient_birth_date, patient_gender [, practitioner_given, practitioner_family]")
	_ = c.MarkFlagFilename("file", "csv")
	dry := c.Flags().Bool("dry-run", false, "print the plan and change nothing")
	within := c.Flags().String("within", "14d", "renew attributions that lapse within this long")
	limit := c.Flags().Int("roster-limit", roster.DefaultRosterLimit, "most patients one group may hold, inactive members included (DPC's limit; rows past it are reported, not sent; -1: none)")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		ctx := cc.Context()
		if *file == "" {
			return cmdkit.Usagef("--file is required")
		}
		window, err := parseDuration(*within)
		if err != nil {
			return cmdkit.Usagef("--within: %v", err)
		}
		if window == 0 {
			window = -1 // roster.Options: renew nothing early (0 would mean the default)
		}
		fh, err := os.Open(*file)
		if err != nil {
			return fileErr("file", err)
		}
		base, _ := a.baseURL()
		ros, err := roster.ParseWith(fh, roster.ParseOptions{AllowSyntheticMBI: base != "" && !dpc.IsProduction(base)})
		fh.Close()
		if err != nil {
			return cmdkit.AsUsage(fmt.Errorf("%s: %w", *file, err))
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		plan, err := roster.MakePlan(ctx, cl, ros, roster.Options{Now: env.Now(), Window: window, RosterLimit: *limit})
		if err != nil {
			var ae *dpc.APIError
			if errors.Is(err, dpc.ErrInvalid) && !errors.As(err, &ae) {
				return cmdkit.AsUsage(fmt.Errorf("%s: %w", *file, err))
			}
			return err
		}
		if *dry {
			return a.printPlan(plan)
		}
		rep, applyErr := roster.Apply(ctx, cl, plan)
		if applyErr != nil && !errors.Is(applyErr, roster.ErrPartial) {
			return applyErr // nothing was attempted
		}
		if err := a.printReport(rep); err != nil {
			return err
		}
		if applyErr != nil {
			return fmt.Errorf("%s: %w (rerun to apply only what is missing)", *file, applyErr)
		}
		return nil
	}
	return c
}

func rosterExpiring(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "expiring", Short: "list attributions that lapse within --within (they drop out of exports when they do)",
		Example: "  dpcetl roster expiring --within 30d --output json", Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	within := c.Flags().String("within", "14d", "how far ahead to look")
	lapsed := c.Flags().Bool("include-lapsed", false, "also list attributions that already lapsed and were not removed")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		window, err := parseDuration(*within)
		if err != nil {
			return cmdkit.Usagef("--within: %v", err)
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		as, err := roster.Expiring(cc.Context(), cl, env.Now(), window, *lapsed)
		if err != nil {
			return err
		}
		return emit(a, as, false, []string{"NPI", "MBI", "GROUP ID", "STATUS", "LAPSES"}, func(at roster.Attribution) []string {
			return []string{at.NPI, at.MBI, at.GroupID, at.Status, fmtTime(at.End)}
		})
	}
	return c
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// attrs is one list of attributions under its kind ("add", "renewed", …).
type attrs struct {
	kind string
	as   []roster.Attribution
}

// attrRows are the table rows of the lists, in order.
func attrRows(lists ...attrs) [][]string {
	var rows [][]string
	for _, l := range lists {
		for _, at := range l.as {
			row := ""
			if at.Line > 0 {
				row = strconv.Itoa(at.Line)
			}
			rows = append(rows, []string{l.kind, row, at.NPI, at.MBI, at.Status, fmtTime(at.End)})
		}
	}
	return rows
}

type planJSON struct {
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

func (a *cmd) printPlan(p *roster.Plan) error {
	v := planJSON{DryRun: true, CreateGroups: cmdkit.NonNil(p.CreateGroups), Add: cmdkit.NonNil(p.Add), Renew: cmdkit.NonNil(p.Renew),
		Remove: cmdkit.NonNil(p.Remove), Replace: cmdkit.NonNil(p.Replace), OverLimit: cmdkit.NonNil(p.OverLimit), Unchanged: p.Unchanged, CreatePractitioners: []string{}, CreatePatients: []string{}}
	var rows [][]string
	for _, r := range p.CreatePractitioners {
		v.CreatePractitioners = append(v.CreatePractitioners, r.NPI)
		rows = append(rows, []string{"register practitioner", strconv.Itoa(r.Line), r.NPI, "", "", ""})
	}
	for _, r := range p.CreatePatients {
		v.CreatePatients = append(v.CreatePatients, r.MBI)
		rows = append(rows, []string{"register patient", strconv.Itoa(r.Line), "", r.MBI, "", ""})
	}
	for _, n := range p.CreateGroups {
		rows = append(rows, []string{"create group", "", n, "", "", ""})
	}
	rows = append(rows, attrRows(attrs{"add", p.Add}, attrs{"renew", p.Renew}, attrs{"remove", p.Remove},
		attrs{"replace (one PUT)", p.Replace}, attrs{"not attributable", p.OverLimit})...)
	summary := fmt.Sprintf("Plan (dry run, nothing changed): %d practitioners and %d patients to register, %d groups to create, %d to add, %d to renew, %d to remove, %d unchanged",
		len(v.CreatePractitioners), len(v.CreatePatients), len(v.CreateGroups), len(v.Add), len(v.Renew), len(v.Remove), v.Unchanged)
	return a.summaryTable(v, summary, "ACTION", rows)
}

func (a *cmd) printReport(rep *roster.Report) error {
	rows := attrRows(attrs{"added", rep.Added}, attrs{"renewed", rep.Renewed}, attrs{"removed", rep.Removed})
	for _, fl := range rep.Failed {
		lines := make([]string, len(fl.Lines))
		for i, l := range fl.Lines {
			lines[i] = strconv.Itoa(l)
		}
		rows = append(rows, []string{"FAILED " + fl.Action, strings.Join(lines, ","), fl.NPI, fl.MBI, fl.Error, ""})
	}
	summary := fmt.Sprintf("Roster sync: %d added, %d renewed, %d removed, %d unchanged, %d failed (registered %d practitioners, %d patients; created %d groups)",
		len(rep.Added), len(rep.Renewed), len(rep.Removed), rep.Unchanged, len(rep.Failed),
		len(rep.CreatedPractitioners), len(rep.CreatedPatients), len(rep.CreatedGroups))
	return a.summaryTable(rep, summary, "RESULT", rows)
}

// summaryTable prints v as JSON, or the summary line and the rows (when there are any).
func (a *cmd) summaryTable(v any, summary, first string, rows [][]string) error {
	if a.out.JSON() {
		return cmdkit.WriteJSON(a.env.Stdout, v)
	}
	fmt.Fprintln(a.env.Stdout, summary)
	if len(rows) == 0 {
		return nil
	}
	return cmdkit.WriteTable(a.env.Stdout, []string{first, "ROW", "NPI", "MBI", "STATUS", "LAPSES"}, rows)
}
