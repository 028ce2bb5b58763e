package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func groupsCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("groups", "attribution groups, attested for you (X-Provenance)",
		groupChange(env, "create", "create the practitioner's attribution group, attested on their behalf", false,
			func(ctx context.Context, c *dpc.Client, _ dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error) {
				return c.CreateGroup(ctx, npi, ids, att)
			}),
		groupsFind(env),
		getCmd(env, "show GROUP_ID", "show a group's members and when each attribution lapses", (*dpc.Client).Group, (*cmd).emitGroups),
		groupChange(env, "add", "attribute patients to the practitioner's group (re-adding renews the 90 days)", true,
			func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error) {
				return c.AddMembers(ctx, g.ID, npi, ids, att)
			}),
		groupChange(env, "remove", "end the attribution of patients (they stay listed, inactive)", true,
			func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, _ dpc.Provenance) (dpc.Group, error) {
				return c.RemoveMembers(ctx, g.ID, npi, ids)
			}),
		groupChange(env, "replace", "overwrite the group's membership with exactly these patients (PUT), attested", true,
			func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error) {
				return c.ReplaceGroup(ctx, g.ID, npi, ids, att)
			}),
		listCmd(env, "list every attribution group of the organization", (*dpc.Client).AllGroups, (*cmd).emitGroups),
	)
}

func groupsFind(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "find --npi NPI", Short: "find the attribution groups of a practitioner (their ids start exports)", Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	npi := c.Flags().String("npi", "", "practitioner NPI")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		if err := dpc.ValidateNPI(*npi); err != nil {
			return cmdkit.AsUsage(fmt.Errorf("--npi: %w", err))
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		gs, err := cl.FindGroupsByNPI(cc.Context(), *npi)
		if err != nil {
			return err
		}
		if len(gs) == 0 {
			return fmt.Errorf("no group for NPI %s: %w", *npi, dpc.ErrNotFound)
		}
		return a.emitGroups(gs, false)
	}
	return c
}

type groupOp func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error)

// groupChange is a command that changes a practitioner's group: it resolves the practitioner
// (--npi), their attestation, the patients (--mbi) and, when needGroup, the group itself.
func groupChange(env *cmdkit.Env, name, short string, needGroup bool, op groupOp) *cobra.Command {
	c := &cobra.Command{Use: name + " --npi NPI --mbi MBI[,MBI...]", Short: short, Args: cmdkit.NoArgs,
		Example: "  dpcetl groups " + name + " --npi 1234567893 --mbi 1EG4TE5MK73,2EG4TE5MK74"}
	a := newCmd(env, c, true)
	npi := c.Flags().String("npi", "", "practitioner NPI the group is attributed to")
	group := c.Flags().String("group", "", "group id (default: the practitioner's group, found by --npi)")
	mbis := c.Flags().StringSlice("mbi", nil, "patient MBI (repeat or comma-separate)")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		ctx := cc.Context()
		if err := dpc.ValidateNPI(*npi); err != nil {
			return cmdkit.AsUsage(fmt.Errorf("--npi: %w", err))
		}
		if len(*mbis) == 0 {
			return cmdkit.Usagef("give at least one --mbi")
		}
		list := make([]string, len(*mbis))
		var errs []error
		for i, m := range *mbis {
			list[i] = strings.ToUpper(strings.TrimSpace(m))
			if err := a.validateMBI(list[i]); err != nil {
				errs = append(errs, fmt.Errorf("--mbi: %w", err))
			}
		}
		if len(errs) > 0 {
			return cmdkit.AsUsage(errors.Join(errs...))
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		att, _, err := cl.AttestationFor(ctx, *npi)
		if err != nil {
			return err
		}
		ids, err := patientIDs(ctx, cl, list)
		if err != nil {
			return err
		}
		var g dpc.Group
		if needGroup {
			if g, err = findGroup(ctx, cl, *group, *npi); err != nil {
				return err
			}
		}
		out, err := op(ctx, cl, g, *npi, ids, att)
		if err != nil {
			return err
		}
		return a.emitGroups([]dpc.Group{out}, true)
	}
	return c
}

// patientIDs resolves MBIs to DPC patient ids; every unregistered MBI is named.
func patientIDs(ctx context.Context, c *dpc.Client, mbis []string) ([]string, error) {
	lookup := func(m string) (dpc.Patient, error) { return c.PatientByMBI(ctx, m) }
	if len(mbis) > 20 {
		// One search per MBI would spend DPC's request budget (about 300 per 5 minutes):
		// list every patient once instead.
		all, err := c.Patients(ctx)
		if err != nil {
			return nil, err
		}
		byMBI := make(map[string]dpc.Patient, len(all))
		for _, p := range all {
			byMBI[p.MBI()] = p
		}
		lookup = func(m string) (dpc.Patient, error) {
			if p, ok := byMBI[m]; ok {
				return p, nil
			}
			return dpc.Patient{}, dpc.ErrNotFound
		}
	}
	ids := make([]string, 0, len(mbis))
	var missing []string
	for _, m := range mbis {
		p, err := lookup(m)
		if errors.Is(err, dpc.ErrNotFound) {
			missing = append(missing, m)
			continue
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, p.ID)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("patients not registered (run `dpcetl patients add` first): %s: %w", strings.Join(missing, ", "), dpc.ErrNotFound)
	}
	return ids, nil
}

func findGroup(ctx context.Context, c *dpc.Client, id, npi string) (dpc.Group, error) {
	if id != "" {
		return c.Group(ctx, id)
	}
	gs, err := c.FindGroupsByNPI(ctx, npi)
	if err != nil {
		return dpc.Group{}, err
	}
	if len(gs) == 0 {
		return dpc.Group{}, fmt.Errorf("no group for NPI %s (create one with `dpcetl groups create`): %w", npi, dpc.ErrNotFound)
	}
	return gs[0], nil
}

func (a *cmd) emitGroups(gs []dpc.Group, one bool) error {
	w, now := a.env.Stdout, a.env.Now()
	if one && !a.out.JSON() {
		g := gs[0]
		rows := [][]string{}
		for _, m := range g.Member {
			start, end := "", ""
			if m.Period != nil {
				start, end = m.Period.Start, m.Period.End
			}
			state := "active"
			if !m.Active(now) {
				state = "inactive"
			}
			rows = append(rows, []string{m.PatientID(), state, start, end})
		}
		fmt.Fprintf(w, "Group %s  NPI %s  %d members\n", g.ID, g.NPI(), len(g.Member))
		return cmdkit.WriteTable(w, []string{"PATIENT ID", "STATE", "ATTRIBUTED", "LAPSES"}, rows)
	}
	return emit(a, gs, one, []string{"GROUP ID", "NPI", "ACTIVE", "MEMBERS"}, func(g dpc.Group) []string {
		active := 0
		for _, m := range g.Member {
			if m.Active(now) {
				active++
			}
		}
		return []string{g.ID, g.NPI(), strconv.Itoa(active), strconv.Itoa(len(g.Member))}
	})
}
