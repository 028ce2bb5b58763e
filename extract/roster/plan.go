package roster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpc"
)

// DefaultRenewWindow is how close to lapsing an attribution must be for sync to renew it.
const DefaultRenewWindow = 14 * 24 * time.Hour

// DefaultRosterLimit is production DPC's patient limit per group (dpc-attribution
// GroupResource: "currently capped at 1350 patients per group"). DPC refuses a Group
// POST, PUT or $add past it with 400 "Roster limit reached", and $add counts every stored
// member, inactive ones included.
const DefaultRosterLimit = 1350

// Attribution is one patient's membership in one practitioner's group.
type Attribution struct {
	Line      int       `json:"row,omitempty"` // roster row, when it came from the roster
	NPI       string    `json:"npi"`
	MBI       string    `json:"mbi,omitempty"`
	GroupID   string    `json:"group_id,omitempty"`
	PatientID string    `json:"patient_id,omitempty"`
	Start     time.Time `json:"start,omitzero"`
	End       time.Time `json:"end,omitzero"` // when the attribution lapses (zero if unknown)
	Status    string    `json:"status,omitempty"`
}

// setPeriod copies the member's attribution period, when DPC gave one.
func (a *Attribution) setPeriod(m dpc.Member) {
	if m.Period != nil {
		a.Start, a.End = m.Period.StartTime(), m.Period.EndTime()
	}
}

// Plan is what Sync will do, computed from the roster and the current DPC state.
type Plan struct {
	Now                 time.Time
	Window              time.Duration
	CreatePractitioners []Row         // one row per practitioner DPC does not know
	CreatePatients      []Row         // one row per patient DPC does not know
	CreateGroups        []string      // NPIs without an attribution group yet
	Add                 []Attribution // listed but not attributed (new, removed or lapsed)
	Renew               []Attribution // attributed but lapsing within Window
	Remove              []Attribution // attributed but no longer listed
	// OverLimit are listed rows that cannot be attributed because the practitioner's group
	// would pass the roster limit (Status says by how much); Apply reports them as failures
	// and sends nothing for them, so a rerun changes nothing either.
	OverLimit []Attribution
	// Replace lists, for groups whose unlisted or inactive members hold places under the
	// roster limit that new rows need, the rows one PUT attributes (DPC's PUT replaces every
	// attribution, and counts only the new membership); that group's Remove entries are done
	// by the same PUT.
	Replace   []Attribution
	Limit     int // the roster limit planned against (0: none)
	Unchanged int

	rows          []Row
	practitioners map[string]dpc.Practitioner // NPI → existing
	patients      map[string]dpc.Patient      // MBI → existing
	groups        map[string]dpc.Group        // NPI → existing group
}

// Empty reports whether the plan changes nothing (rows over the roster limit change
// nothing: they are only reported).
func (p *Plan) Empty() bool {
	return len(p.CreatePractitioners)+len(p.CreatePatients)+len(p.CreateGroups)+len(p.Add)+len(p.Renew)+len(p.Remove)+len(p.Replace) == 0
}

// Options tune planning.
type Options struct {
	Now    time.Time     // the server's "now" (default time.Now)
	Window time.Duration // renew attributions lapsing within this (0: DefaultRenewWindow; negative: renew none early)
	// RosterLimit is the most patients one group may hold, counting inactive members
	// (0: DefaultRosterLimit; negative: no limit).
	RosterLimit int
}

func (o *Options) fill() {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	switch {
	case o.Window == 0:
		o.Window = DefaultRenewWindow
	case o.Window < 0:
		o.Window = 0
	}
	switch {
	case o.RosterLimit == 0:
		o.RosterLimit = DefaultRosterLimit
	case o.RosterLimit < 0:
		o.RosterLimit = 0
	}
}

// load reads the organization's practitioners, patients and groups into p, and returns the
// patients by id.
func (p *Plan) load(ctx context.Context, c *dpc.Client) (map[string]dpc.Patient, error) {
	ps, err := c.Practitioners(ctx)
	if err != nil {
		return nil, fmt.Errorf("roster: list practitioners: %w", err)
	}
	pats, err := c.Patients(ctx)
	if err != nil {
		return nil, fmt.Errorf("roster: list patients: %w", err)
	}
	gs, err := c.AllGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("roster: list groups: %w", err)
	}
	p.practitioners, p.patients, p.groups = keyed(ps, dpc.Practitioner.NPI), keyed(pats, dpc.Patient.MBI), keyed(gs, dpc.Group.NPI)
	return keyed(pats, patientID), nil
}

func patientID(p dpc.Patient) string { return p.ID }

// keyed indexes vs by key; the first of equal keys wins.
func keyed[T any](vs []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(vs))
	for _, v := range vs {
		if _, dup := m[key(v)]; !dup {
			m[key(v)] = v
		}
	}
	return m
}

func memberStatus(m dpc.Member, now time.Time, window time.Duration) string {
	end := time.Time{}
	if m.Period != nil {
		end = m.Period.EndTime()
	}
	switch {
	case m.Inactive != nil && *m.Inactive && !end.IsZero() && !now.Before(end):
		return "expired"
	case m.Inactive != nil && *m.Inactive:
		return "removed"
	case !end.IsZero() && !now.Before(end):
		return "expired"
	case !end.IsZero() && end.Sub(now) <= window:
		return "expiring"
	}
	return "active"
}

// MakePlan computes the changes that bring DPC in line with ros. It reads but never writes.
func MakePlan(ctx context.Context, c *dpc.Client, ros Roster, opts Options) (*Plan, error) {
	opts.fill()
	p := &Plan{Now: opts.Now, Window: opts.Window, Limit: opts.RosterLimit, rows: ros.Rows}
	patByID, err := p.load(ctx, c)
	if err != nil {
		return nil, err
	}
	seenPract, seenPat := map[string]bool{}, map[string]bool{}
	listed := map[[2]string]bool{} // {NPI, MBI}
	var practErrs []error
	for _, r := range ros.Rows {
		if _, ok := p.practitioners[r.NPI]; !ok && !seenPract[r.NPI] {
			seenPract[r.NPI] = true
			if r.PractitionerFamily == "" {
				practErrs = append(practErrs, &RowError{Line: r.Line, Column: ColPractitionerFamily,
					Err: fmt.Errorf("practitioner %s is not registered in DPC; give practitioner_given and practitioner_family so it can be", r.NPI)})
			}
			p.CreatePractitioners = append(p.CreatePractitioners, r)
		}
		if _, ok := p.patients[r.MBI]; !ok && !seenPat[r.MBI] {
			seenPat[r.MBI] = true
			p.CreatePatients = append(p.CreatePatients, r)
		}
		listed[[2]string{r.NPI, r.MBI}] = true
	}
	if len(practErrs) > 0 {
		return nil, fmt.Errorf("roster: %w: %w", errors.Join(practErrs...), dpc.ErrInvalid)
	}
	for _, npi := range ros.NPIs() {
		g, ok := p.groups[npi]
		if !ok {
			p.CreateGroups = append(p.CreateGroups, npi)
		}
		byPatient := map[string]dpc.Member{}
		for _, m := range g.Member {
			byPatient[m.PatientID()] = m
		}
		// Every stored member takes a place under the limit, active or not; only rows
		// that are not stored members yet need a new one.
		var rows []Attribution
		storedListed := 0
		for _, r := range ros.Rows {
			if r.NPI != npi {
				continue
			}
			a := Attribution{Line: r.Line, NPI: npi, MBI: r.MBI, GroupID: g.ID, Status: "new"}
			if pat, known := p.patients[r.MBI]; known {
				if m, member := byPatient[pat.ID]; member {
					storedListed++
					a.PatientID, a.Status = pat.ID, memberStatus(m, opts.Now, opts.Window)
					a.setPeriod(m)
				}
			}
			rows = append(rows, a)
		}
		// When $add cannot fit the new rows but unlisted or inactive members hold places,
		// one PUT of the listed rows (up to the limit) frees them.
		replace := ok && p.Limit > 0 && len(byPatient)+len(rows)-storedListed > p.Limit && len(byPatient) > storedListed
		room := -1
		if p.Limit > 0 {
			room = max(0, p.Limit-len(byPatient))
		}
		for i, a := range rows {
			switch {
			case replace && i >= p.Limit, !replace && a.Status == "new" && room == 0:
				a.Status = fmt.Sprintf("over roster limit: practitioner %s's group can hold %d patients (inactive members count)", npi, p.Limit)
				p.OverLimit = append(p.OverLimit, a)
			case replace:
				p.Replace = append(p.Replace, a)
			case a.Status == "new":
				room--
				p.Add = append(p.Add, a)
			case a.Status == "expired" || a.Status == "removed":
				p.Add = append(p.Add, a)
			case a.Status == "expiring":
				p.Renew = append(p.Renew, a)
			default:
				p.Unchanged++
			}
		}
		for _, m := range g.Member {
			pat := patByID[m.PatientID()]
			if listed[[2]string{npi, pat.MBI()}] && pat.ID != "" {
				continue
			}
			status := memberStatus(m, opts.Now, opts.Window)
			if status == "expired" || status == "removed" {
				continue // already out of the exports
			}
			a := Attribution{NPI: npi, MBI: pat.MBI(), GroupID: g.ID, PatientID: m.PatientID(), Status: status}
			a.setPeriod(m)
			p.Remove = append(p.Remove, a)
		}
	}
	if len(p.OverLimit) > 0 {
		// Do not register patients only over-limit rows need: they would sit unattributed.
		needed := map[string]bool{}
		for _, a := range append(append([]Attribution{}, p.Add...), p.Replace...) {
			needed[a.MBI] = true
		}
		keep := p.CreatePatients[:0]
		for _, r := range p.CreatePatients {
			if needed[r.MBI] {
				keep = append(keep, r)
			}
		}
		p.CreatePatients = keep
	}
	return p, nil
}

// Failure is a part of the plan that did not apply.
type Failure struct {
	Lines  []int  `json:"rows,omitempty"`
	NPI    string `json:"npi,omitempty"`
	MBI    string `json:"mbi,omitempty"`
	Action string `json:"action"`
	Error  string `json:"error"`

	err error
}

// Report is what Apply did.
type Report struct {
	CreatedPractitioners []string      `json:"created_practitioners"`
	CreatedPatients      []string      `json:"created_patients"`
	CreatedGroups        []string      `json:"created_groups"`
	Added                []Attribution `json:"added"`
	Renewed              []Attribution `json:"renewed"`
	Removed              []Attribution `json:"removed"`
	Unchanged            int           `json:"unchanged"`
	Failed               []Failure     `json:"failed"`
}

// ErrPartial is returned (wrapped) by Apply when some rows did not apply; the Report names them.
var ErrPartial = errors.New("roster: some changes did not apply")

// Apply carries out the plan with c. Work that fails is recorded in the Report (with the
// roster rows it concerns) and the rest carries on; the returned error then wraps ErrPartial
// and, when any failure was retryable or an auth failure, that sentinel too.
func Apply(ctx context.Context, c *dpc.Client, p *Plan) (*Report, error) {
	rep := &Report{Unchanged: p.Unchanged, CreatedPractitioners: []string{}, CreatedPatients: []string{}, CreatedGroups: []string{},
		Added: []Attribution{}, Renewed: []Attribution{}, Removed: []Attribution{}, Failed: []Failure{}}
	fail := func(action, npi, mbi string, lines []int, err error) {
		rep.Failed = append(rep.Failed, Failure{Lines: lines, NPI: npi, MBI: mbi, Action: action, Error: err.Error(), err: err})
	}
	rowsOf := func(pred func(Row) bool) []int {
		var ls []int
		for _, r := range p.rows {
			if pred(r) {
				ls = append(ls, r.Line)
			}
		}
		return ls
	}
	org, err := c.Organization(ctx)
	if err != nil {
		return rep, fmt.Errorf("roster: organization: %w", err)
	}
	for _, a := range p.OverLimit {
		fail("attribute", a.NPI, a.MBI, []int{a.Line}, fmt.Errorf("not attributed, %s: %w", a.Status, dpc.ErrRosterLimit))
	}
	practs, pats := p.practitioners, p.patients
	for _, pr := range register(ctx, p.CreatePractitioners, func(r Row) dpc.Practitioner {
		return dpc.NewPractitioner(r.NPI, r.PractitionerGiven, r.PractitionerFamily)
	}, dpc.Practitioner.NPI, c.SubmitPractitioners, c.CreatePractitioner, c.Practitioners, func(npi string, err error) {
		fail("create practitioner", npi, "", rowsOf(func(x Row) bool { return x.NPI == npi }), err)
	}) {
		practs[pr.NPI()] = pr
		rep.CreatedPractitioners = append(rep.CreatedPractitioners, pr.NPI())
	}
	for _, pt := range register(ctx, p.CreatePatients, func(r Row) dpc.Patient {
		return dpc.NewPatient(r.MBI, r.PatientGiven, r.PatientFamily, r.BirthDate, r.Gender, org.ID)
	}, dpc.Patient.MBI, c.SubmitPatients, c.CreatePatient, c.Patients, func(mbi string, err error) {
		fail("create patient", "", mbi, rowsOf(func(x Row) bool { return x.MBI == mbi }), err)
	}) {
		pats[pt.MBI()] = pt
		rep.CreatedPatients = append(rep.CreatedPatients, pt.MBI())
	}

	// Group changes, one practitioner at a time.
	byNPI := func(list []Attribution) map[string][]Attribution {
		m := map[string][]Attribution{}
		for _, a := range list {
			m[a.NPI] = append(m[a.NPI], a)
		}
		return m
	}
	adds, renews, removes, replaces := byNPI(p.Add), byNPI(p.Renew), byNPI(p.Remove), byNPI(p.Replace)
	order := slices.Clone(p.CreateGroups)
	for _, m := range []map[string][]Attribution{adds, renews, removes, replaces} {
		order = slices.AppendSeq(order, maps.Keys(m))
	}
	slices.Sort(order)
	for _, npi := range slices.Compact(order) {
		pr, ok := practs[npi]
		if !ok {
			for _, a := range append(adds[npi], renews[npi]...) {
				fail("attribute", npi, a.MBI, []int{a.Line}, fmt.Errorf("practitioner %s was not registered", npi))
			}
			continue
		}
		att, gid, rm := c.Attestation(org.ID, pr.ID), p.groups[npi].ID, removes[npi]
		// Members to attribute now: those whose patient exists.
		var ids []string
		var todo []Attribution
		for _, a := range append(append(slices.Clone(replaces[npi]), adds[npi]...), renews[npi]...) {
			pt, ok := pats[a.MBI]
			if !ok {
				fail("attribute", npi, a.MBI, []int{a.Line}, fmt.Errorf("patient %s was not registered", a.MBI))
				continue
			}
			a.PatientID = pt.ID
			ids = append(ids, pt.ID)
			todo = append(todo, a)
		}
		var g dpc.Group
		var err error
		creating := slices.Contains(p.CreateGroups, npi)
		switch {
		case len(replaces[npi]) > 0 && len(ids) == 0:
			continue
		case len(replaces[npi]) > 0:
			// One PUT attributes exactly these rows and ends every other attribution.
			if g, err = c.ReplaceGroup(ctx, gid, npi, ids, att); err == nil {
				recordAll(&rep.Removed, rm, "removed")
			}
			rm = nil
		case creating && len(ids) == 0:
			continue // nothing attributable: a group needs at least one member
		case creating:
			if g, err = c.CreateGroup(ctx, npi, ids, att); err == nil {
				rep.CreatedGroups = append(rep.CreatedGroups, g.ID)
			}
		case len(ids) > 0:
			g, err = c.AddMembers(ctx, gid, npi, ids, att)
		}
		if err != nil {
			for _, a := range todo {
				fail("attribute", npi, a.MBI, []int{a.Line}, err)
			}
		} else {
			members := map[string]dpc.Member{}
			for _, m := range g.Member {
				members[m.PatientID()] = m
			}
			for _, a := range todo {
				if m, ok := members[a.PatientID]; ok {
					a.setPeriod(m)
				}
				a.GroupID = g.ID
				switch a.Status {
				case "new", "expired", "removed":
					recordAll(&rep.Added, []Attribution{a}, "added")
				default: // expiring, or a listed member a PUT renews
					recordAll(&rep.Renewed, []Attribution{a}, "renewed")
				}
			}
		}
		if len(rm) > 0 {
			var rids []string
			for _, a := range rm {
				rids = append(rids, a.PatientID)
			}
			if _, err := c.RemoveMembers(ctx, gid, npi, rids); err != nil {
				for _, a := range rm {
					fail("remove", npi, a.MBI, nil, err)
				}
			} else {
				recordAll(&rep.Removed, rm, "removed")
			}
		}
	}
	if len(rep.Failed) > 0 {
		return rep, failedError(rep.Failed)
	}
	return rep, nil
}

// recordAll appends as to list, each with status.
func recordAll(list *[]Attribution, as []Attribution, status string) {
	for _, a := range as {
		a.Status = status
		*list = append(*list, a)
	}
}

// register creates the resources build makes of rows in $submit calls of at most 500. A batch
// that fails may have been applied in part (or whole): what exists now is kept and the rest
// is created one by one to learn which rows fail (fail gets the row's key).
func register[T any](ctx context.Context, rows []Row, build func(Row) T, key func(T) string,
	submit func(context.Context, []T) ([]T, error), create func(context.Context, T) (T, error),
	list func(context.Context) ([]T, error), fail func(key string, err error)) []T {
	var out []T
	for chunk := range slices.Chunk(rows, 500) {
		res := make([]T, len(chunk))
		for i, r := range chunk {
			res[i] = build(r)
		}
		created, err := submit(ctx, res)
		if err == nil {
			out = append(out, created...)
			continue
		}
		all, _ := list(ctx) // what cannot be listed is created one by one
		now := keyed(all, key)
		for _, v := range res {
			got, ok := now[key(v)]
			if !ok {
				if got, err = create(ctx, v); err != nil {
					fail(key(v), err)
					continue
				}
			}
			out = append(out, got)
		}
	}
	return out
}

// failedError is Apply's error for failed rows: it names the rows and reasons, and wraps
// ErrPartial and the sentinel the failures call for (auth, then retryable, then invalid).
func failedError(failed []Failure) error {
	errs := []error{ErrPartial}
	var retry, auth, invalid bool
	var lines []int
	var reasons []string
	for _, f := range failed {
		retry = retry || errors.Is(f.err, extract.ErrRetryable)
		auth = auth || errors.Is(f.err, extract.ErrAuth)
		invalid = invalid || errors.Is(f.err, dpc.ErrInvalid) || errors.Is(f.err, dpc.ErrRosterLimit)
		lines = append(lines, f.Lines...)
		if r := failureReason(f.err); !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	switch {
	case auth:
		errs = append(errs, extract.ErrAuth)
	case retry:
		errs = append(errs, extract.ErrRetryable)
	case invalid:
		errs = append(errs, dpc.ErrInvalid)
	}
	return fmt.Errorf("%d of the planned changes failed (roster rows %s: %s): %w",
		len(failed), rowList(lines), strings.Join(reasons, "; "), errors.Join(errs...))
}

// failureReason is the short why of a failed row, for the one-line error.
func failureReason(err error) string {
	switch {
	case errors.Is(err, dpc.ErrRosterLimit):
		return "roster limit reached"
	case errors.Is(err, extract.ErrAuth):
		return "credentials refused"
	case errors.Is(err, extract.ErrRetryable):
		return "DPC unavailable, retry"
	}
	var ae *dpc.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return ae.Message
	}
	return err.Error()
}

// rowList formats roster rows compactly: "2,5-9,14".
func rowList(lines []int) string {
	if len(lines) == 0 {
		return "(none)"
	}
	ls := append([]int(nil), lines...)
	sort.Ints(ls)
	var b strings.Builder
	for i := 0; i < len(ls); {
		j := i
		for j+1 < len(ls) && ls[j+1] <= ls[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i && ls[j] != ls[i] {
			fmt.Fprintf(&b, "%d-%d", ls[i], ls[j])
		} else {
			fmt.Fprintf(&b, "%d", ls[i])
		}
		i = j + 1
	}
	return b.String()
}

// Expiring lists the organization's attributions that lapse within window of now, soonest
// first, and, when includeLapsed, those whose period already ended. DPC's Group does not say
// why a member is inactive, so a member removed with $remove shows up as lapsed once its
// original period has ended.
func Expiring(ctx context.Context, c *dpc.Client, now time.Time, window time.Duration, includeLapsed bool) ([]Attribution, error) {
	gs, err := c.AllGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("roster: list groups: %w", err)
	}
	pats, err := c.Patients(ctx)
	if err != nil {
		return nil, fmt.Errorf("roster: list patients: %w", err)
	}
	byID := keyed(pats, patientID)
	var out []Attribution
	for _, g := range gs {
		for _, m := range g.Member {
			st := memberStatus(m, now, window)
			if st != "expiring" && !(includeLapsed && st == "expired") {
				continue
			}
			a := Attribution{NPI: g.NPI(), MBI: byID[m.PatientID()].MBI(), GroupID: g.ID, PatientID: m.PatientID(), Status: st}
			a.setPeriod(m)
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].End.Before(out[j].End) })
	return out, nil
}
