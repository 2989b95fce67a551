package complaint

// OWNED BY the merge engineer: likely duplicates, merge and unmerge, issue counts.
//
// One issue, many complaints: intake offers the complaints that are likely about the
// same issue (same customer, same address or building, similar text, received within
// Settings.DuplicateDays); merging links a complaint to a master complaint (never in a
// chain: a master is never merged itself), and the reports count each issue once.

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Why a complaint is offered as a likely duplicate.
const (
	ReasonCustomer = "customer" // the same customer
	ReasonLocation = "location" // the same address or building
	ReasonText     = "text"     // similar text (Similarity >= Settings.DuplicateScore)
)

// maxDuplicates is how many likely duplicates are offered at most.
const maxDuplicates = 20

// Duplicate is a complaint that is likely about the same issue.
type Duplicate struct {
	Complaint Complaint
	Score     float64  // the text similarity, 0-1
	Reasons   []string // ReasonCustomer, ReasonLocation, ReasonText, in that order
}

// DuplicateQuery describes a complaint not yet saved (the intake form asks before saving).
type DuplicateQuery struct {
	CustomerID int64  `json:"customer_id"`
	Location   string `json:"location"`
	Title      string `json:"title"`
	Body       string `json:"body" text:"multiline"`
}

// scopeFor is the actor's reach with perm as SQL (scopeOf for another permission).
func scopeFor(a *authz.Actor, perm string) listScope {
	if a == nil || a.Kind == authz.KindSystem {
		return listScope{all: true}
	}
	if isCustomer(a) {
		return listScope{customer: a.ID}
	}
	switch a.ScopeOf(perm) {
	case authz.ScopeAll:
		return listScope{all: true}
	case authz.ScopeDept:
		return listScope{dept: max(a.DeptID, -1)}
	case authz.ScopeTeam:
		return listScope{team: max(a.TeamID, -1), self: a.ID}
	}
	return listScope{self: max(a.ID, -1)}
}

// Duplicates offers the complaints likely about the same issue as complaint id: received
// within Settings.DuplicateDays of it (either side), open or closed, not merged into
// another, in the actor's reach, best first (more reasons, then the higher score, then
// the newer), at most 20.
func (s *Service) Duplicates(ctx context.Context, id int64) ([]Duplicate, error) {
	actor, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if err := canSee(actor, PermRead, &c); err != nil {
		return nil, err
	}
	t, err := s.tickets.Load(ctx, c.TicketID)
	if err != nil {
		return nil, err
	}
	st, err := s.store.loadSettings(ctx)
	if err != nil {
		return nil, err
	}
	span := time.Duration(st.DuplicateDays) * 24 * time.Hour
	out, err := s.duplicates(ctx, actor, st, DuplicateQuery{CustomerID: c.CustomerID, Location: c.Location,
		Title: t.Title, Body: t.Body}, c.CreatedAt.Add(-span), c.CreatedAt.Add(span), c.ID, c.MasterID)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.duplicates", id, map[string]any{"number": c.Number, "ids": duplicateIDs(out)})
	})
	return out, err
}

// CheckDuplicates offers the complaints likely about the same issue as the complaint
// described by q, before it is saved (received within Settings.DuplicateDays before now).
func (s *Service) CheckDuplicates(ctx context.Context, q DuplicateQuery) ([]Duplicate, error) {
	actor, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	q.Location = textField(f, "location", q.Location, maxShort, false)
	q.Title = textField(f, "title", q.Title, maxShort, false)
	q.Body = textField(f, "body", q.Body, maxText, false)
	if q.CustomerID < 0 {
		f.Add("customer_id", "field.invalid")
	}
	if q.CustomerID == 0 && q.Location == "" && q.Title == "" && q.Body == "" {
		f.Add("title", "complaint.dup.invalid.empty")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	st, err := s.store.loadSettings(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out, err := s.duplicates(ctx, actor, st, q, now.Add(-time.Duration(st.DuplicateDays)*24*time.Hour), now.Add(time.Minute), 0, 0)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.duplicates", 0, map[string]any{"customer_id": q.CustomerID, "ids": duplicateIDs(out)})
	})
	return out, err
}

// duplicates scores the candidates received in [from, to) against q (except and also
// are left out: the complaint itself and the master it is merged into).
func (s *Service) duplicates(ctx context.Context, actor *authz.Actor, st Settings, q DuplicateQuery, from, to time.Time,
	except, also int64) ([]Duplicate, error) {
	cands, err := s.store.duplicateCandidates(ctx, scopeFor(actor, PermRead), from, to, q.CustomerID, except)
	if err != nil {
		return nil, err
	}
	mine := similarityTerms(q.Title + "\n" + q.Body)
	var out []Duplicate
	for _, c := range cands {
		if c.ID == also || !reaches(actor, PermRead, &c) {
			continue
		}
		t, err := s.tickets.Load(ctx, c.TicketID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				continue
			}
			return nil, err
		}
		d := Duplicate{Complaint: c, Score: dice(mine, similarityTerms(t.Title+"\n"+t.Body))}
		if q.CustomerID != 0 && c.CustomerID == q.CustomerID {
			d.Reasons = append(d.Reasons, ReasonCustomer)
		}
		if SameLocation(q.Location, c.Location) {
			d.Reasons = append(d.Reasons, ReasonLocation)
		}
		if d.Score >= st.DuplicateScore {
			d.Reasons = append(d.Reasons, ReasonText)
		}
		if len(d.Reasons) > 0 {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b Duplicate) int {
		if n := cmp.Compare(len(b.Reasons), len(a.Reasons)); n != 0 {
			return n
		}
		if n := cmp.Compare(b.Score, a.Score); n != 0 {
			return n
		}
		return cmp.Compare(b.Complaint.ID, a.Complaint.ID)
	})
	if len(out) > maxDuplicates {
		out = out[:maxDuplicates]
	}
	return out, nil
}

func duplicateIDs(ds []Duplicate) []int64 {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.Complaint.ID
	}
	return ids
}

// MergeInput merges a complaint into a master complaint about the same issue.
type MergeInput struct {
	Into   int64  `json:"into"`
	Reason string `json:"reason" text:"multiline"`
}

// UnmergeInput undoes a merge.
type UnmergeInput struct {
	Reason string `json:"reason" text:"multiline"`
}

// Merge links complaint id to master complaint in.Into (complaint:merge, reaching both).
// Never a chain: the master may not be merged itself (422 on "into"), and a complaint
// that is the master of others is refused (409 merge_has_linked: unmerge them first). A
// closed complaint may be linked, and may be a master. Both requests stay and record
// the link on their timelines.
func (s *Service) Merge(ctx context.Context, id int64, in MergeInput) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermMerge)
	if err != nil {
		return Complaint{}, err
	}
	f := apperr.Fields{}
	switch {
	case in.Into <= 0:
		f.Add("into", "field.required")
	case in.Into == id:
		f.Add("into", "complaint.merge.invalid.self")
	}
	in.Reason = textField(f, "reason", in.Reason, maxText, false)
	if err := f.Err(); err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, master, err := s.lockPair(ctx, id, in.Into)
		if err != nil {
			return err
		}
		if err := canSee(actor, PermMerge, &c); err != nil {
			return err
		}
		if master.ID == 0 || !reaches(actor, PermMerge, &master) {
			return apperr.InvalidField("into", "complaint.merge.invalid.into_unknown")
		}
		if master.MasterID != 0 {
			return apperr.InvalidField("into", "complaint.merge.invalid.into_merged", "number", master.Number)
		}
		if c.MasterID != 0 {
			return apperr.New(apperr.Conflict, "complaint.merge.error.already_merged").WithCode("already_merged")
		}
		if n, err := s.store.linkedCount(ctx, c.ID); err != nil {
			return err
		} else if n > 0 {
			return apperr.New(apperr.Conflict, "complaint.merge.error.has_linked", "count", n).WithCode("merge_has_linked")
		}
		if ok, err := s.store.setMaster(ctx, &c, master.ID, s.now()); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(c.Version)
		}
		if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: in.Reason,
			Data: map[string]any{"merged_into": master.ID, "master_number": master.Number, "reason": in.Reason}}); err != nil {
			return err
		}
		if _, err := s.tickets.AddEvent(ctx, master.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: in.Reason,
			Data: map[string]any{"linked": c.ID, "linked_number": c.Number, "reason": in.Reason}}); err != nil {
			return err
		}
		if err := s.record(ctx, "complaint.merge", c.ID, map[string]any{"number": c.Number, "into": master.ID,
			"master_number": master.Number, "reason": in.Reason}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// lockPair locks complaints a and b in id order (no deadlock between two merges); a
// missing a is not found, a missing b comes back as the zero Complaint.
func (s *Service) lockPair(ctx context.Context, a, b int64) (Complaint, Complaint, error) {
	var ca, cb Complaint
	lock := func(id int64, dst *Complaint, required bool) error {
		c, err := s.store.Lock(ctx, id)
		if err != nil {
			if required || !db.IsNoRows(err) {
				return notFound(err)
			}
			return nil
		}
		*dst = c
		return nil
	}
	first, second := func() error { return lock(a, &ca, true) }, func() error { return lock(b, &cb, false) }
	if b < a {
		first, second = second, first
	}
	if err := first(); err != nil {
		return ca, cb, err
	}
	if err := second(); err != nil {
		return ca, cb, err
	}
	return ca, cb, nil
}

// Unmerge undoes the merge of complaint id (complaint:merge); a reason is required.
func (s *Service) Unmerge(ctx context.Context, id int64, in UnmergeInput) (Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermMerge)
	if err != nil {
		return Complaint{}, err
	}
	f := apperr.Fields{}
	in.Reason = textField(f, "reason", in.Reason, maxText, true)
	if err := f.Err(); err != nil {
		return Complaint{}, err
	}
	var out Complaint
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.lockReached(ctx, actor, id, PermMerge, nil)
		if err != nil {
			return err
		}
		if c.MasterID == 0 {
			return apperr.New(apperr.Conflict, "complaint.merge.error.not_merged").WithCode("not_merged")
		}
		master, err := s.store.Get(ctx, c.MasterID)
		if err != nil {
			return notFound(err)
		}
		if ok, err := s.store.setMaster(ctx, &c, 0, s.now()); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(c.Version)
		}
		if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: in.Reason,
			Data: map[string]any{"unmerged_from": master.ID, "master_number": master.Number, "reason": in.Reason}}); err != nil {
			return err
		}
		if _, err := s.tickets.AddEvent(ctx, master.TicketID, ticket.Event{Kind: ticket.EventComplaint, Body: in.Reason,
			Data: map[string]any{"unlinked": c.ID, "linked_number": c.Number, "reason": in.Reason}}); err != nil {
			return err
		}
		if err := s.record(ctx, "complaint.unmerge", c.ID, map[string]any{"number": c.Number, "from": master.ID,
			"master_number": master.Number, "reason": in.Reason}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// maxLinked bounds the linked complaints listed for one master.
const maxLinked = 500

// Linked lists the complaints merged into complaint id that the actor reaches, newest first.
func (s *Service) Linked(ctx context.Context, id int64) ([]Complaint, error) {
	actor, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if err := canSee(actor, PermRead, &c); err != nil {
		return nil, err
	}
	items, err := s.store.List(ctx, Filter{MasterID: id}, scopeOf(actor), 0, maxLinked)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(items))
	for i, x := range items {
		ids[i] = x.ID
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.record(ctx, "complaint.linked", id, map[string]any{"number": c.Number, "ids": ids})
	})
	return items, err
}

// IssueCounts counts the complaints received in [from, to) that the actor reaches
// (complaint:analyze, else complaint:read scope) and the issues they are about: a
// complaint merged into another counts with its master's issue, so issues <= complaints.
// A zero from or to leaves that side open.
func (s *Service) IssueCounts(ctx context.Context, from, to time.Time) (issues, complaints int, err error) {
	a := authz.From(ctx)
	if a == nil {
		return 0, 0, apperr.Unauth()
	}
	if isCustomer(a) || !a.Can(PermAnalyze) && !a.Can(PermRead) {
		return 0, 0, apperr.ForbiddenErr()
	}
	perm := PermRead
	if a.Can(PermAnalyze) {
		perm = PermAnalyze
	}
	return s.store.issueCounts(ctx, scopeFor(a, perm), from, to)
}

// ---- HTTP ----

func (s *Service) mergeRoutes() []httpx.Route {
	a := mergeAPI{s: s}
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/complaints/duplicates/check", Perm: PermWrite, Handler: a.check},
		{Method: "GET", Path: "/api/v1/complaints/{id}/duplicates", Perm: PermRead, Handler: a.duplicates},
		{Method: "POST", Path: "/api/v1/complaints/{id}/merge", Perm: PermMerge, Handler: a.merge},
		{Method: "POST", Path: "/api/v1/complaints/{id}/unmerge", Perm: PermMerge, Handler: a.unmerge},
		{Method: "GET", Path: "/api/v1/complaints/{id}/linked", Perm: PermRead, Handler: a.linked},
	}
}

type mergeAPI struct{ s *Service }

// DuplicateView is a likely duplicate in JSON: the complaint, its score and the reasons.
type DuplicateView struct {
	View
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
}

func duplicateViews(ctx context.Context, ds []Duplicate) map[string]any {
	items := make([]DuplicateView, len(ds))
	for i := range ds {
		score, _ := strconv.ParseFloat(strconv.FormatFloat(ds[i].Score, 'f', 3, 64), 64)
		items[i] = DuplicateView{View: ViewOf(ctx, &ds[i].Complaint), Score: score, Reasons: ds[i].Reasons}
	}
	return map[string]any{"items": items}
}

func (a mergeAPI) duplicates(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var ds []Duplicate
		if ds, err = a.s.Duplicates(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, duplicateViews(r.Context(), ds))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a mergeAPI) check(w http.ResponseWriter, r *http.Request) {
	var q DuplicateQuery
	err := httpx.Decode(r, &q)
	if err == nil {
		var ds []Duplicate
		if ds, err = a.s.CheckDuplicates(r.Context(), q); err == nil {
			httpx.JSON(w, http.StatusOK, duplicateViews(r.Context(), ds))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a mergeAPI) merge(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(viewing(a.s.Merge))(w, r)
}

func (a mergeAPI) unmerge(w http.ResponseWriter, r *http.Request) {
	httpx.UpdateByID(viewing(a.s.Unmerge))(w, r)
}

func (a mergeAPI) linked(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var cs []Complaint
		if cs, err = a.s.Linked(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, map[string]any{"items": views(r.Context(), cs)})
			return
		}
	}
	httpx.Error(w, r, err)
}
