package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/extract/dpc"
)

// ---- practitioners ----

func admEmitPractitioners(env *Env, f *admFlags, ps []dpc.Practitioner, one bool) error {
	if f.json() {
		if one {
			return admJSON(env.Stdout, ps[0])
		}
		return admJSON(env.Stdout, admNonNil(ps))
	}
	rows := make([][]string, len(ps))
	for i, p := range ps {
		given, family := admName(p.Name)
		rows[i] = []string{p.ID, p.NPI(), given, family}
	}
	return admTable(env.Stdout, []string{"PRACTITIONER ID", "NPI", "GIVEN", "FAMILY"}, rows)
}

func admName(ns []dpc.HumanName) (string, string) {
	if len(ns) == 0 {
		return "", ""
	}
	return strings.Join(ns[0].Given, " "), ns[0].Family
}

func practitionerCmds() []*Command {
	add := admCmd("add", "dpcetl practitioners add --npi NPI --given G --family F", "register one practitioner",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("practitioners add", true)
			npi := f.fs.String("npi", "", "practitioner NPI (type 1)")
			given := f.fs.String("given", "", "first name")
			family := f.fs.String("family", "", "last name")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if err := dpc.ValidateNPI(*npi); err != nil {
					return admUsage(fmt.Errorf("--npi: %w", err))
				}
				if *given == "" || *family == "" {
					return &UsageError{Msg: "--given and --family are required"}
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				p, err := c.CreatePractitioner(ctx, dpc.NewPractitioner(*npi, *given, *family))
				if err != nil {
					return err
				}
				return admEmitPractitioners(env, f, []dpc.Practitioner{p}, true)
			}
		})
	submit := admCmd("submit", "dpcetl practitioners submit --file practitioners.json",
		"register many practitioners in one $submit (file: a Bundle, Parameters wrapping one, or a JSON array of Practitioners)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("practitioners submit", true)
			file := f.fs.String("file", "", "JSON file of Practitioner resources")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				ps, err := admReadResources[dpc.Practitioner](*file, "Practitioner")
				if err != nil {
					return err
				}
				for i, p := range ps {
					if err := dpc.ValidateNPI(p.NPI()); err != nil {
						return admUsage(fmt.Errorf("%s: entry %d: %w", *file, i+1, err))
					}
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				out, err := c.SubmitPractitioners(ctx, ps)
				if err != nil {
					return err
				}
				return admEmitPractitioners(env, f, out, false)
			}
		})
	list := admClientCmd("list", "dpcetl practitioners list", "list the organization's practitioners", "practitioners list", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			ps, err := c.Practitioners(ctx)
			if err != nil {
				return err
			}
			return admEmitPractitioners(env, f, ps, false)
		})
	get := admCmd("get", "dpcetl practitioners get --npi NPI | ID", "show one practitioner by NPI or id",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("practitioners get", true)
			npi := f.fs.String("npi", "", "practitioner NPI")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if (*npi == "") == (len(args) == 0) || len(args) > 1 {
					return &UsageError{Msg: "give --npi NPI or one practitioner ID"}
				}
				if *npi != "" {
					if err := dpc.ValidateNPI(*npi); err != nil {
						return admUsage(fmt.Errorf("--npi: %w", err))
					}
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				var p dpc.Practitioner
				if *npi != "" {
					p, err = c.PractitionerByNPI(ctx, *npi)
				} else {
					p, err = c.Practitioner(ctx, args[0])
				}
				if err != nil {
					return err
				}
				return admEmitPractitioners(env, f, []dpc.Practitioner{p}, true)
			}
		})
	return []*Command{add, submit, list, get}
}

// admReadResources reads FHIR resources of one type from a Bundle, a Parameters-wrapped
// Bundle (DPC's sample files) or a JSON array.
func admReadResources[T any](path, resourceType string) ([]T, error) {
	if path == "" {
		return nil, &UsageError{Msg: "--file is required"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, admFileErr("file", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		var wrap struct {
			ResourceType string `json:"resourceType"`
			Parameter    []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"parameter"`
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b, &wrap); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("%s: not JSON: %v", path, err)}
		}
		if wrap.ResourceType == "Parameters" && len(wrap.Parameter) > 0 {
			if err := json.Unmarshal(wrap.Parameter[0].Resource, &wrap); err != nil {
				return nil, &UsageError{Msg: fmt.Sprintf("%s: %v", path, err)}
			}
		}
		for _, e := range wrap.Entry {
			raws = append(raws, e.Resource)
		}
	}
	var out []T
	for i, r := range raws {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		_ = json.Unmarshal(r, &head)
		if head.ResourceType != resourceType {
			return nil, &UsageError{Msg: fmt.Sprintf("%s: entry %d is a %q, not a %s", path, i+1, head.ResourceType, resourceType)}
		}
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("%s: entry %d: %v", path, i+1, err)}
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: no %s resources", path, resourceType)}
	}
	return out, nil
}

// ---- patients ----

func admEmitPatients(env *Env, f *admFlags, ps []dpc.Patient, one bool) error {
	if f.json() {
		if one {
			return admJSON(env.Stdout, ps[0])
		}
		return admJSON(env.Stdout, admNonNil(ps))
	}
	rows := make([][]string, len(ps))
	for i, p := range ps {
		given, family := admName(p.Name)
		rows[i] = []string{p.ID, p.MBI(), given, family, p.BirthDate, p.Gender}
	}
	return admTable(env.Stdout, []string{"PATIENT ID", "MBI", "GIVEN", "FAMILY", "BIRTH DATE", "GENDER"}, rows)
}

func patientCmds() []*Command {
	add := admCmd("add", "dpcetl patients add --mbi MBI --given G --family F --birth-date YYYY-MM-DD --gender male|female|other|unknown",
		"register one patient", func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("patients add", true)
			mbi := f.fs.String("mbi", "", "Medicare Beneficiary Identifier")
			given := f.fs.String("given", "", "first name")
			family := f.fs.String("family", "", "last name")
			birth := f.fs.String("birth-date", "", "birth date, YYYY-MM-DD")
			gender := f.fs.String("gender", "", "male, female, other or unknown")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				*mbi = strings.ToUpper(*mbi)
				var errs []error
				if err := f.validateMBI(env, *mbi); err != nil {
					errs = append(errs, fmt.Errorf("--mbi: %w", err))
				}
				if *given == "" || *family == "" {
					errs = append(errs, errors.New("--given and --family are required"))
				}
				if err := dpc.ValidateDate(*birth); err != nil {
					errs = append(errs, fmt.Errorf("--birth-date: %w", err))
				}
				if err := dpc.ValidateGender(*gender); err != nil {
					errs = append(errs, fmt.Errorf("--gender: %w", err))
				}
				if len(errs) > 0 {
					return admUsage(errors.Join(errs...))
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				org, err := c.Organization(ctx)
				if err != nil {
					return err
				}
				p, err := c.CreatePatient(ctx, dpc.NewPatient(*mbi, *given, *family, *birth, *gender, org.ID))
				if err != nil {
					return err
				}
				return admEmitPatients(env, f, []dpc.Patient{p}, true)
			}
		})
	submit := admCmd("submit", "dpcetl patients submit --file patients.json",
		"register many patients in one $submit (file: a Bundle, Parameters wrapping one, or a JSON array of Patients)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("patients submit", true)
			file := f.fs.String("file", "", "JSON file of Patient resources")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				ps, err := admReadResources[dpc.Patient](*file, "Patient")
				if err != nil {
					return err
				}
				var errs []error
				for i, p := range ps {
					if err := f.validateMBI(env, p.MBI()); err != nil {
						errs = append(errs, fmt.Errorf("%s: entry %d: %w", *file, i+1, err))
					}
					if err := dpc.ValidateDate(p.BirthDate); err != nil {
						errs = append(errs, fmt.Errorf("%s: entry %d: birthDate: %w", *file, i+1, err))
					}
				}
				if len(errs) > 0 {
					return admUsage(errors.Join(errs...))
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				out, err := c.SubmitPatients(ctx, ps)
				if err != nil {
					return err
				}
				return admEmitPatients(env, f, out, false)
			}
		})
	list := admClientCmd("list", "dpcetl patients list", "list the organization's patients (all pages)", "patients list", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			ps, err := c.Patients(ctx)
			if err != nil {
				return err
			}
			return admEmitPatients(env, f, ps, false)
		})
	get := admCmd("get", "dpcetl patients get --mbi MBI | ID", "show one patient by MBI or id",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("patients get", true)
			mbi := f.fs.String("mbi", "", "patient MBI")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if (*mbi == "") == (len(args) == 0) || len(args) > 1 {
					return &UsageError{Msg: "give --mbi MBI or one patient ID"}
				}
				*mbi = strings.ToUpper(*mbi)
				if *mbi != "" {
					if err := f.validateMBI(env, *mbi); err != nil {
						return admUsage(fmt.Errorf("--mbi: %w", err))
					}
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				var p dpc.Patient
				if *mbi != "" {
					p, err = c.PatientByMBI(ctx, *mbi)
				} else {
					p, err = c.Patient(ctx, args[0])
				}
				if err != nil {
					return err
				}
				return admEmitPatients(env, f, []dpc.Patient{p}, true)
			}
		})
	return []*Command{add, submit, list, get}
}

// ---- groups ----

func admEmitGroups(env *Env, f *admFlags, gs []dpc.Group, one bool) error {
	if f.json() {
		if one {
			return admJSON(env.Stdout, gs[0])
		}
		return admJSON(env.Stdout, admNonNil(gs))
	}
	if one && len(gs) == 1 {
		g := gs[0]
		now := env.Now()
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
		fmt.Fprintf(env.Stdout, "Group %s  NPI %s  %d members\n", g.ID, g.NPI(), len(g.Member))
		return admTable(env.Stdout, []string{"PATIENT ID", "STATE", "ATTRIBUTED", "LAPSES"}, rows)
	}
	rows := make([][]string, len(gs))
	now := env.Now()
	for i, g := range gs {
		active := 0
		for _, m := range g.Member {
			if m.Active(now) {
				active++
			}
		}
		rows[i] = []string{g.ID, g.NPI(), strconv.Itoa(active), strconv.Itoa(len(g.Member))}
	}
	return admTable(env.Stdout, []string{"GROUP ID", "NPI", "ACTIVE", "MEMBERS"}, rows)
}

// admGroupTarget is what group-changing commands share: the practitioner (by --npi) and the
// patients (by --mbi), resolved to DPC ids, plus the practitioner's attestation.
type admGroupTarget struct {
	npi   *string
	group *string
	list  admList
}

func admGroupFlags(name string) (*admFlags, *admGroupTarget) {
	f := admNewFlags(name, true)
	t := &admGroupTarget{}
	t.npi = f.fs.String("npi", "", "practitioner NPI the group is attributed to")
	t.group = f.fs.String("group", "", "group id (default: the practitioner's group, found by --npi)")
	f.fs.Var(&t.list, "mbi", "patient MBI (repeat or comma-separate)")
	return f, t
}

// resolve validates the inputs, then looks up practitioner, attestation, patients and group.
func (t *admGroupTarget) resolve(ctx context.Context, env *Env, f *admFlags, needMembers, needGroup bool) (*dpc.Client, dpc.Provenance, []string, dpc.Group, error) {
	var none dpc.Provenance
	if err := dpc.ValidateNPI(*t.npi); err != nil {
		return nil, none, nil, dpc.Group{}, admUsage(fmt.Errorf("--npi: %w", err))
	}
	if needMembers && len(t.list) == 0 {
		return nil, none, nil, dpc.Group{}, &UsageError{Msg: "give at least one --mbi"}
	}
	var errs []error
	for i, m := range t.list {
		t.list[i] = strings.ToUpper(m)
		if err := f.validateMBI(env, t.list[i]); err != nil {
			errs = append(errs, fmt.Errorf("--mbi: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, none, nil, dpc.Group{}, admUsage(errors.Join(errs...))
	}
	c, _, err := f.client(env)
	if err != nil {
		return nil, none, nil, dpc.Group{}, err
	}
	att, _, err := c.AttestationFor(ctx, *t.npi)
	if err != nil {
		return nil, none, nil, dpc.Group{}, err
	}
	ids := make([]string, 0, len(t.list))
	var missing []string
	lookup := func(m string) (dpc.Patient, error) { return c.PatientByMBI(ctx, m) }
	if len(t.list) > 20 {
		// One search per MBI would spend DPC's request budget (about 300 per 5 minutes):
		// list every patient once instead.
		all, err := c.Patients(ctx)
		if err != nil {
			return nil, none, nil, dpc.Group{}, err
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
	for _, m := range t.list {
		p, err := lookup(m)
		if errors.Is(err, dpc.ErrNotFound) {
			missing = append(missing, m)
			continue
		}
		if err != nil {
			return nil, none, nil, dpc.Group{}, err
		}
		ids = append(ids, p.ID)
	}
	if len(missing) > 0 {
		return nil, none, nil, dpc.Group{}, fmt.Errorf("patients not registered (run `dpcetl patients add` first): %s: %w", strings.Join(missing, ", "), dpc.ErrNotFound)
	}
	var g dpc.Group
	if needGroup {
		if *t.group != "" {
			g, err = c.Group(ctx, *t.group)
		} else {
			var gs []dpc.Group
			gs, err = c.FindGroupsByNPI(ctx, *t.npi)
			if err == nil && len(gs) == 0 {
				err = fmt.Errorf("no group for NPI %s (create one with `dpcetl groups create`): %w", *t.npi, dpc.ErrNotFound)
			}
			if err == nil {
				g = gs[0]
			}
		}
		if err != nil {
			return nil, none, nil, dpc.Group{}, err
		}
	}
	return c, att, ids, g, nil
}

func groupCmds() []*Command {
	create := admCmd("create", "dpcetl groups create --npi NPI --mbi MBI[,MBI...]",
		"create the practitioner's attribution group, attested on their behalf", func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f, t := admGroupFlags("groups create")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				c, att, ids, _, err := t.resolve(ctx, env, f, true, false)
				if err != nil {
					return err
				}
				g, err := c.CreateGroup(ctx, *t.npi, ids, att)
				if err != nil {
					return err
				}
				return admEmitGroups(env, f, []dpc.Group{g}, true)
			}
		})
	change := func(name, usage, summary string, op func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error)) *Command {
		return admCmd(name, usage, summary, func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f, t := admGroupFlags("groups " + name)
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				c, att, ids, g, err := t.resolve(ctx, env, f, true, true)
				if err != nil {
					return err
				}
				out, err := op(ctx, c, g, *t.npi, ids, att)
				if err != nil {
					return err
				}
				return admEmitGroups(env, f, []dpc.Group{out}, true)
			}
		})
	}
	add := change("add", "dpcetl groups add --npi NPI --mbi MBI[,MBI...]",
		"attribute patients to the practitioner's group (re-adding renews the 90 days)",
		func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error) {
			return c.AddMembers(ctx, g.ID, npi, ids, att)
		})
	remove := change("remove", "dpcetl groups remove --npi NPI --mbi MBI[,MBI...]",
		"end the attribution of patients (they stay listed, inactive)",
		func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, _ dpc.Provenance) (dpc.Group, error) {
			return c.RemoveMembers(ctx, g.ID, npi, ids)
		})
	replace := change("replace", "dpcetl groups replace --npi NPI --mbi MBI[,MBI...]",
		"overwrite the group's membership with exactly these patients (PUT), attested",
		func(ctx context.Context, c *dpc.Client, g dpc.Group, npi string, ids []string, att dpc.Provenance) (dpc.Group, error) {
			return c.ReplaceGroup(ctx, g.ID, npi, ids, att)
		})
	find := admCmd("find", "dpcetl groups find --npi NPI", "find the attribution groups of a practitioner (their ids start exports)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("groups find", true)
			npi := f.fs.String("npi", "", "practitioner NPI")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if err := dpc.ValidateNPI(*npi); err != nil {
					return admUsage(fmt.Errorf("--npi: %w", err))
				}
				c, _, err := f.client(env)
				if err != nil {
					return err
				}
				gs, err := c.FindGroupsByNPI(ctx, *npi)
				if err != nil {
					return err
				}
				if len(gs) == 0 {
					return fmt.Errorf("no group for NPI %s: %w", *npi, dpc.ErrNotFound)
				}
				return admEmitGroups(env, f, gs, false)
			}
		})
	list := admClientCmd("list", "dpcetl groups list", "list every attribution group of the organization", "groups list", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			gs, err := c.AllGroups(ctx)
			if err != nil {
				return err
			}
			return admEmitGroups(env, f, gs, false)
		})
	show := admClientCmd("show", "dpcetl groups show GROUP_ID", "show a group's members and when each attribution lapses", "groups show", 1, "one GROUP_ID",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, args []string) error {
			g, err := c.Group(ctx, args[0])
			if err != nil {
				return err
			}
			return admEmitGroups(env, f, []dpc.Group{g}, true)
		})
	return []*Command{create, find, show, add, remove, replace, list}
}
