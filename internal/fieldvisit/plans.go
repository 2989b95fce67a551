package fieldvisit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Visit plans (SPEC §2.7): rules "customers of class X are visited every N months (or
// days)", kept as one settings row (JSON validated here) with a version; and the
// overdue list: the customers in the actor's scope whose last visit is older than the
// shortest interval of the plans their classes match, or who were never visited.

const (
	settingPlans = "plans"
	maxPlans     = 50
	maxMonths    = 24
	maxDays      = 730
	// scanLimit bounds the customers one overdue run examines per plan.
	scanLimit = 5000
	pageSize  = 500
)

// classValues lists the values a class kind accepts.
func classValues(kind string) []string {
	switch kind {
	case KindTier:
		return customer.Tiers
	case KindValueClass:
		return customer.ValueClasses
	case KindCreditGrade:
		return customer.CreditGrades
	case KindIntentClass:
		return IntentClasses
	}
	return nil
}

// validatePlans checks every plan; problems name "plans.<i>.<field>".
func validatePlans(ps []Plan) ([]Plan, apperr.Fields) {
	f := apperr.Fields{}
	if ps == nil {
		f.Add("plans", "field.required")
		return nil, f
	}
	if len(ps) > maxPlans {
		f.Add("plans", "fieldvisit.invalid.too_many_plans", "max", maxPlans)
		return nil, f
	}
	out := make([]Plan, 0, len(ps))
	seen := map[string]bool{}
	for i, p := range ps {
		field := "plans." + strconv.Itoa(i)
		if kind := p.Kind; !slices.Contains(ClassKinds, kind) {
			f.Add(field+".kind", "field.invalid_choice")
		} else {
			if kind == KindCreditGrade || kind == KindIntentClass {
				p.Value = upper(p.Value)
			}
			if !slices.Contains(classValues(kind), p.Value) {
				f.Add(field+".value", "field.invalid_choice")
			} else if key := kind + "=" + p.Value; seen[key] {
				f.Add(field+".value", "fieldvisit.invalid.plan_duplicate")
			} else {
				seen[key] = true
			}
		}
		switch {
		case p.Months != 0 && p.Days != 0:
			f.Add(field+".days", "fieldvisit.invalid.plan_interval")
		case p.Months == 0 && p.Days == 0:
			f.Add(field+".months", "fieldvisit.invalid.plan_interval")
		case p.Months < 0 || p.Months > maxMonths:
			f.Add(field+".months", "fieldvisit.invalid.plan_months", "max", maxMonths)
		case p.Days < 0 || p.Days > maxDays:
			f.Add(field+".days", "fieldvisit.invalid.plan_days", "max", maxDays)
		}
		out = append(out, p)
	}
	return out, f
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// loadPlans reads the plans (the defaults, version 0, before anyone saved them).
func (s *Service) loadPlans(ctx context.Context) (Plans, error) {
	val, ver, at, err := s.store.Setting(ctx, settingPlans)
	if err != nil {
		if db.IsNoRows(err) {
			return Plans{Plans: DefaultPlans()}, nil
		}
		return Plans{}, fmt.Errorf("fieldvisit: plans: %w", err)
	}
	var ps []Plan
	if err := json.Unmarshal([]byte(val), &ps); err != nil {
		return Plans{}, fmt.Errorf("fieldvisit: plans: %w", err)
	}
	p := Plans{Plans: ps, Version: ver}
	if at > 0 {
		p.UpdatedAt = db.Time(at).UTC()
	}
	return p, nil
}

// GetPlans returns the visit plans (fieldvisit:read).
func (s *Service) GetPlans(ctx context.Context) (Plans, error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return Plans{}, err
	}
	return s.loadPlans(ctx)
}

// SavePlans replaces the visit plans (fieldvisit:manage) when in.Version is the current
// version (409 otherwise; 428 without one); the change is audited.
func (s *Service) SavePlans(ctx context.Context, in PlansInput) (Plans, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Plans{}, err
	}
	if in.Version == nil {
		return Plans{}, apperr.VersionRequired()
	}
	ps, f := validatePlans(in.Plans)
	if err := f.Err(); err != nil {
		return Plans{}, err
	}
	raw, err := json.Marshal(ps)
	if err != nil {
		return Plans{}, fmt.Errorf("fieldvisit: plans: %w", err)
	}
	now := s.now()
	var out Plans
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.loadPlans(ctx)
		if err != nil {
			return err
		}
		if cur.Version != *in.Version {
			return apperr.StaleVersion(cur.Version)
		}
		ok, err := s.store.SaveSetting(ctx, settingPlans, string(raw), cur.Version, cur.Version+1, db.Millis(now))
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		out = Plans{Plans: ps, Version: cur.Version + 1, UpdatedAt: now.UTC()}
		return s.record(ctx, "fieldvisit.plans.update", 0, map[string]any{"before": cur.Plans, "after": ps,
			"version": out.Version})
	})
	if err != nil {
		return Plans{}, err
	}
	return out, nil
}

// candidate is a customer one plan applies to.
type candidate struct {
	id        int64
	name      string
	ownerID   int64
	createdAt time.Time
	plans     []Plan
}

// Overdue lists the customers in the actor's customer scope that a plan applies to and
// whose last visit is older than the plan's interval, or who were never visited (then
// counted from the day their file was created), most overdue first (fieldvisit:read).
func (s *Service) Overdue(ctx context.Context) (OverdueList, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return OverdueList{}, err
	}
	out := OverdueList{Items: []Overdue{}}
	if !a.Can(customer.PermRead) {
		return out, nil
	}
	plans, err := s.loadPlans(ctx)
	if err != nil {
		return OverdueList{}, err
	}
	cands := map[int64]*candidate{}
	add := func(id int64, name string, owner int64, created time.Time, p Plan) {
		c := cands[id]
		if c == nil {
			c = &candidate{id: id, name: name, ownerID: owner, createdAt: created}
			cands[id] = c
		}
		c.plans = append(c.plans, p)
	}
	for _, p := range plans.Plans {
		if p.Kind == KindIntentClass {
			ids, err := s.store.LatestIntent(ctx, p.Value, scanLimit+1)
			if err != nil {
				return OverdueList{}, err
			}
			if len(ids) > scanLimit {
				ids, out.Truncated = ids[:scanLimit], true
			}
			refs, err := s.d.Customers.Refs(ctx, ids)
			if err != nil {
				return OverdueList{}, err
			}
			for _, id := range ids {
				ref, ok := refs[id]
				if !ok || ref.Status != customer.StatusActive {
					continue
				}
				if a.Kind != authz.KindSystem && !a.Reaches(customer.PermRead,
					authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID}) {
					continue
				}
				add(id, ref.Name, ref.OwnerID, time.Time{}, p)
			}
			continue
		}
		f := customer.Filter{}
		switch p.Kind {
		case KindTier:
			f.Tier = p.Value
		case KindValueClass:
			f.ValueClass = p.Value
		case KindCreditGrade:
			f.CreditGrade = p.Value
		}
		cur, seen := "", 0
		for {
			page, err := s.d.Customers.ListCustomers(ctx, f, pageSize, cur)
			if err != nil {
				return OverdueList{}, err
			}
			for _, c := range page.Items {
				add(c.ID, c.Name, c.OwnerID, c.CreatedAt, p)
			}
			seen += len(page.Items)
			if page.NextCursor == "" {
				break
			}
			if seen >= scanLimit {
				out.Truncated = true
				break
			}
			cur = page.NextCursor
		}
	}
	ids := make([]int64, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	last, err := s.store.LastVisits(ctx, ids)
	if err != nil {
		return OverdueList{}, err
	}
	now := s.now()
	for _, id := range ids {
		c := cands[id]
		lastAt, visited := last[id]
		from := c.createdAt
		if visited {
			from = db.Time(lastAt)
		}
		// The plan due first decides.
		var best Plan
		var due time.Time
		for i, p := range c.plans {
			d := p.due(from)
			if i == 0 || d.Before(due) {
				best, due = p, d
			}
		}
		if !visited || due.Before(now) {
			o := Overdue{CustomerID: id, CustomerName: c.name, OwnerID: c.ownerID, Plan: best, Never: !visited,
				DueAt: due.UTC()}
			if visited {
				t := db.Time(lastAt).UTC()
				o.LastVisitAt = &t
			}
			if due.Before(now) {
				o.DaysOverdue = int(now.Sub(due) / (24 * time.Hour))
			}
			out.Items = append(out.Items, o)
		}
	}
	sort.Slice(out.Items, func(i, j int) bool {
		x, y := out.Items[i], out.Items[j]
		if x.Never != y.Never {
			return x.Never
		}
		if x.DaysOverdue != y.DaysOverdue {
			return x.DaysOverdue > y.DaysOverdue
		}
		return x.CustomerID < y.CustomerID
	})
	return out, nil
}
