package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

// resource is what the practitioner and patient commands differ in: the FHIR type, the
// identifier (NPI or MBI), the fields `add` takes, the client calls and the table columns.
// resourceCommand builds add, submit, list and get from it.
type resource[T any] struct {
	noun, one, fhirType string
	idFlag, idHelp      string
	fields              []field
	addExample          string
	// checkID validates an identifier given by the user (a is the command, for the API kind).
	checkID func(a *cmd, id string) error
	// checkEntry validates one resource read from a submit file.
	checkEntry func(a *cmd, v T) []error
	build      func(ctx context.Context, c *dpc.Client, id string, f map[string]string) (T, error)
	// the client's methods, as method expressions
	create func(c *dpc.Client, ctx context.Context, v T) (T, error)
	submit func(c *dpc.Client, ctx context.Context, vs []T) ([]T, error)
	list   func(c *dpc.Client, ctx context.Context) ([]T, error)
	byID   func(c *dpc.Client, ctx context.Context, id string) (T, error)
	byKey  func(c *dpc.Client, ctx context.Context, key string) (T, error)
	header []string
	row    func(v T) []string
}

// field is one flag of `add`; every field is required.
type field struct {
	name, help string
	check      func(string) error // nil: any non-empty value
}

func practitioners() resource[dpc.Practitioner] {
	return resource[dpc.Practitioner]{
		noun: "practitioners", one: "practitioner", fhirType: "Practitioner",
		idFlag: "npi", idHelp: "practitioner NPI (type 1)",
		fields:     []field{{name: "given", help: "first name"}, {name: "family", help: "last name"}},
		addExample: "  dpcetl practitioners add --npi 1234567893 --given Ada --family Lovelace",
		checkID:    func(_ *cmd, npi string) error { return dpc.ValidateNPI(npi) },
		checkEntry: func(_ *cmd, p dpc.Practitioner) []error { return nonNilErrs(dpc.ValidateNPI(p.NPI())) },
		build: func(_ context.Context, _ *dpc.Client, npi string, f map[string]string) (dpc.Practitioner, error) {
			return dpc.NewPractitioner(npi, f["given"], f["family"]), nil
		},
		create: (*dpc.Client).CreatePractitioner, submit: (*dpc.Client).SubmitPractitioners,
		list: (*dpc.Client).Practitioners, byID: (*dpc.Client).Practitioner, byKey: (*dpc.Client).PractitionerByNPI,
		header: []string{"PRACTITIONER ID", "NPI", "GIVEN", "FAMILY"},
		row: func(p dpc.Practitioner) []string {
			given, family := firstName(p.Name)
			return []string{p.ID, p.NPI(), given, family}
		},
	}
}

func patients() resource[dpc.Patient] {
	return resource[dpc.Patient]{
		noun: "patients", one: "patient", fhirType: "Patient",
		idFlag: "mbi", idHelp: "Medicare Beneficiary Identifier",
		fields: []field{{name: "given", help: "first name"}, {name: "family", help: "last name"},
			{name: "birth-date", help: "birth date, YYYY-MM-DD", check: dpc.ValidateDate},
			{name: "gender", help: "male, female, other or unknown", check: dpc.ValidateGender}},
		addExample: "  dpcetl patients add --mbi 1EG4TE5MK73 --given Ann --family Lee --birth-date 1950-03-04 --gender female",
		checkID:    (*cmd).validateMBI,
		checkEntry: func(a *cmd, p dpc.Patient) []error {
			var errs []error
			if err := a.validateMBI(p.MBI()); err != nil {
				errs = append(errs, err)
			}
			if err := dpc.ValidateDate(p.BirthDate); err != nil {
				errs = append(errs, fmt.Errorf("birthDate: %w", err))
			}
			return errs
		},
		build: func(ctx context.Context, c *dpc.Client, mbi string, f map[string]string) (dpc.Patient, error) {
			org, err := c.Organization(ctx)
			if err != nil {
				return dpc.Patient{}, err
			}
			return dpc.NewPatient(mbi, f["given"], f["family"], f["birth-date"], f["gender"], org.ID), nil
		},
		create: (*dpc.Client).CreatePatient, submit: (*dpc.Client).SubmitPatients,
		list: (*dpc.Client).Patients, byID: (*dpc.Client).Patient, byKey: (*dpc.Client).PatientByMBI,
		header: []string{"PATIENT ID", "MBI", "GIVEN", "FAMILY", "BIRTH DATE", "GENDER"},
		row: func(p dpc.Patient) []string {
			given, family := firstName(p.Name)
			return []string{p.ID, p.MBI(), given, family, p.BirthDate, p.Gender}
		},
	}
}

func resourceCommand[T any](env *cmdkit.Env, r resource[T]) *cobra.Command {
	return cmdkit.Group(r.noun, "register and look up "+r.noun,
		r.addCmd(env), r.submitCmd(env),
		listCmd(env, "list the organization's "+r.noun+" (all pages)", r.list, r.emit),
		r.getCmd(env))
}

func (r resource[T]) emit(a *cmd, vs []T, one bool) error { return emit(a, vs, one, r.header, r.row) }

// normalize upper-cases MBIs (DPC stores them so); NPIs are digits.
func (r resource[T]) normalize(id string) string { return strings.ToUpper(id) }

func (r resource[T]) addCmd(env *cmdkit.Env) *cobra.Command {
	use := "add --" + r.idFlag + " " + strings.ToUpper(r.idFlag)
	for _, f := range r.fields {
		use += " --" + f.name + " " + strings.ToUpper(strings.ReplaceAll(f.name, "-", "_"))
	}
	c := &cobra.Command{Use: use, Short: "register one " + r.one, Example: r.addExample, Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	id := c.Flags().String(r.idFlag, "", r.idHelp)
	vals := map[string]*string{}
	for _, f := range r.fields {
		vals[f.name] = c.Flags().String(f.name, "", f.help)
	}
	c.RunE = func(cc *cobra.Command, _ []string) error {
		key := r.normalize(*id)
		var errs []error
		if err := r.checkID(a, key); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", r.idFlag, err))
		}
		got := map[string]string{}
		for _, f := range r.fields {
			v := *vals[f.name]
			got[f.name] = v
			switch {
			case v == "" && f.check == nil:
				errs = append(errs, fmt.Errorf("--%s is required", f.name))
			case f.check != nil:
				if err := f.check(v); err != nil {
					errs = append(errs, fmt.Errorf("--%s: %w", f.name, err))
				}
			}
		}
		if len(errs) > 0 {
			return cmdkit.AsUsage(errors.Join(errs...))
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		v, err := r.build(cc.Context(), cl, key, got)
		if err != nil {
			return err
		}
		if v, err = r.create(cl, cc.Context(), v); err != nil {
			return err
		}
		return r.emit(a, []T{v}, true)
	}
	return c
}

func (r resource[T]) submitCmd(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "submit --file " + r.noun + ".json",
		Short: "register many " + r.noun + " in one $submit (file: a Bundle, Parameters wrapping one, or a JSON array of " + r.fhirType + "s)",
		Args:  cmdkit.NoArgs}
	a := newCmd(env, c, true)
	file := c.Flags().String("file", "", "JSON file of "+r.fhirType+" resources")
	_ = c.MarkFlagFilename("file", "json")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		vs, err := readResources[T](*file, r.fhirType)
		if err != nil {
			return err
		}
		var errs []error
		for i, v := range vs {
			for _, e := range r.checkEntry(a, v) {
				errs = append(errs, fmt.Errorf("%s: entry %d: %w", *file, i+1, e))
			}
		}
		if len(errs) > 0 {
			return cmdkit.AsUsage(errors.Join(errs...))
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		out, err := r.submit(cl, cc.Context(), vs)
		if err != nil {
			return err
		}
		return r.emit(a, out, false)
	}
	return c
}

func (r resource[T]) getCmd(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "get (--" + r.idFlag + " " + strings.ToUpper(r.idFlag) + " | ID)", Short: "show one " + r.one + " by " + strings.ToUpper(r.idFlag) + " or id"}
	a := newCmd(env, c, true)
	key := c.Flags().String(r.idFlag, "", r.idHelp)
	c.RunE = func(cc *cobra.Command, args []string) error {
		if (*key == "") == (len(args) == 0) || len(args) > 1 {
			return cmdkit.Usagef("give --%s %s or one %s ID", r.idFlag, strings.ToUpper(r.idFlag), r.one)
		}
		k := r.normalize(*key)
		if k != "" {
			if err := r.checkID(a, k); err != nil {
				return cmdkit.AsUsage(fmt.Errorf("--%s: %w", r.idFlag, err))
			}
		}
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		var v T
		if k != "" {
			v, err = r.byKey(cl, cc.Context(), k)
		} else {
			v, err = r.byID(cl, cc.Context(), args[0])
		}
		if err != nil {
			return err
		}
		return r.emit(a, []T{v}, true)
	}
	return c
}

func firstName(ns []dpc.HumanName) (string, string) {
	if len(ns) == 0 {
		return "", ""
	}
	return strings.Join(ns[0].Given, " "), ns[0].Family
}

func nonNilErrs(errs ...error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}
