package customer

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/search"
)

// Merged search: the blind indexes (whole phone number, last 4 digits, ID number; the
// customers' and their contacts') give a set of ids by indexed lookups joined with
// UNION. The text index gives ids newest first in batches; each batch fixes a window of
// ids [floor, before) in which the text hits are complete, and one SQL query returns the
// customers of that window that are text or blind hits, within the actor's scope and
// the filters. Windows are walked until the page is full or the index is exhausted.
const (
	textBatch      = 500
	maxSearchSteps = 20
)

func checkFilter(f *Filter) error {
	fe := apperr.Fields{}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > maxQuery {
		fe.Add("q", "field.too_long", "max", maxQuery)
	}
	check := func(field, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			fe.Add(field, "field.invalid_choice")
		}
	}
	check("kind", f.Kind, Kinds)
	check("status", f.Status, append(slices.Clone(Statuses), StatusAll))
	check("tier", f.Tier, Tiers)
	check("value_class", f.ValueClass, ValueClasses)
	f.CreditGrade = strings.ToUpper(f.CreditGrade)
	check("credit_grade", f.CreditGrade, CreditGrades)
	for _, v := range []struct{ field, v string }{{"province", f.Province}, {"city", f.City}, {"district", f.District},
		{"industry", f.Industry}, {"tag", f.Tag}} {
		if utf8.RuneCountInString(v.v) > maxShort || badText(v.v, false) {
			fe.Add(v.field, "field.invalid")
		}
	}
	return fe.Err()
}

// ListCustomers pages through the customers the actor's customer:read scope reaches,
// newest first, narrowed by f (and f.Q: full-text plus blind-index search). Every call
// is audited ("customer.list" with the ids returned).
func (s *Service) ListCustomers(ctx context.Context, f Filter, limit int, cur string) (Page[Customer], error) {
	actor, err := authz.Require(ctx, PermRead)
	if err != nil {
		return Page[Customer]{}, err
	}
	if err := checkFilter(&f); err != nil {
		return Page[Customer]{}, err
	}
	before, err := decodeCursor(cur)
	if err != nil {
		return Page[Customer]{}, err
	}
	limit = pageLimit(limit)
	q := listQuery{f: f, sc: scope{Scope: actor.ScopeOf(PermRead), DeptID: actor.DeptID, TeamID: actor.TeamID, SelfID: actor.ID},
		before: before}
	var rows []custRow
	next := int64(0)
	if f.Q == "" {
		q.limit = limit + 1
		if rows, err = s.store.ListCustomers(ctx, q); err != nil {
			return Page[Customer]{}, err
		}
	} else if rows, next, err = s.search(ctx, q, limit); err != nil {
		return Page[Customer]{}, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	page := Page[Customer]{Items: make([]Customer, 0, len(rows))}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		c, err := s.fromRow(r)
		if err != nil {
			return Page[Customer]{}, err
		}
		page.Items = append(page.Items, c)
		ids = append(ids, c.ID)
	}
	if next > 0 {
		page.NextCursor = httpx.EncodeCursor(cursor{ID: next})
	}
	detail := map[string]any{"ids": ids, "count": len(ids)}
	if f.Q != "" {
		detail["q"] = auditQuery(f.Q)
	}
	if err := s.record(ctx, "customer.list", 0, detail); err != nil {
		return Page[Customer]{}, err
	}
	return page, nil
}

// search runs the merged search; it returns up to limit+1 rows, or fewer with next set
// to where the walk stopped when it ran out of steps.
func (s *Service) search(ctx context.Context, q listQuery, limit int) ([]custRow, int64, error) {
	pq := search.ParseQuery(q.f.Q)
	look := s.prot.parseLookup(q.f.Q)
	if pq.Empty() && look.empty() {
		return nil, 0, nil
	}
	var blind []int64
	if !look.empty() {
		var err error
		if blind, err = s.store.BlindHits(ctx, look); err != nil {
			return nil, 0, err
		}
	}
	var got []custRow
	before := q.before
	for step := 0; step < maxSearchSteps; step++ {
		var ids []int64
		floor := int64(0)
		if !pq.Empty() {
			var err error
			if ids, err = s.index.SearchQuery(ctx, pq, textBatch, before); err != nil {
				return nil, 0, err
			}
			if len(ids) == textBatch {
				floor = ids[len(ids)-1]
			}
		}
		for _, id := range blind {
			if (before == 0 || id < before) && id >= floor && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			if floor == 0 {
				return got, 0, nil
			}
			before = floor
			continue
		}
		w := q
		w.before, w.floor, w.search, w.textIDs = before, floor, true, ids
		w.limit = limit + 1 - len(got)
		rows, err := s.store.ListCustomers(ctx, w)
		if err != nil {
			return nil, 0, err
		}
		got = append(got, rows...)
		if len(got) > limit || floor == 0 {
			return got, 0, nil
		}
		before = floor
	}
	return got, before, nil
}

// auditQuery keeps a search query for the audit log without the personal data it may
// hold: digits beyond the last four are masked (a phone or ID number typed in).
func auditQuery(q string) string {
	rs := []rune(q)
	digits := 0
	for _, r := range rs {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits <= 4 {
		return q
	}
	seen := 0
	for i, r := range rs {
		if r >= '0' && r <= '9' {
			seen++
			if seen <= digits-4 {
				rs[i] = '*'
			}
		}
	}
	return string(rs)
}
