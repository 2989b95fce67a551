package complaint

// OWNED BY the merge engineer: public letters.
//
// A public letter answers a problem many customers share: drafted (complaint:letter),
// approved by someone else who holds complaint:approve, then published. Publishing shows
// it in the portal, keeps it in the archive (the list with status=published), puts it on
// the timeline of every linked request and completes the feedback step of the linked
// complaints still being carried out (executing -> feedback, the letter being the reply).

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// LetterStatuses lists every letter status in order.
var LetterStatuses = []string{LetterDraft, LetterApproved, LetterPublished}

// maxLetterLinks bounds the complaints linked in one call.
const maxLetterLinks = 500

// LetterInput is a new public letter (a draft) and the complaints it answers.
type LetterInput struct {
	Title        string  `json:"title"`
	Body         string  `json:"body" text:"multiline"`
	ComplaintIDs []int64 `json:"complaint_ids"`
}

// LetterPatch changes a draft; Version is required.
type LetterPatch struct {
	Title   *string `json:"title"`
	Body    *string `json:"body" text:"multiline"`
	Version *int64  `json:"version"`
}

// LetterLinks links more complaints to a draft or approved letter.
type LetterLinks struct {
	ComplaintIDs []int64 `json:"complaint_ids"`
}

func errLetterNotFound() error { return apperr.NotFoundf("thing.complaint_letter") }

func letterNotFound(err error) error {
	if db.IsNoRows(err) {
		return errLetterNotFound()
	}
	return fmt.Errorf("complaint: letter: %w", err)
}

// recordLetter writes an audit entry about letter id in ctx's transaction.
func (s *Service) recordLetter(ctx context.Context, action string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "complaint_letter",
		TargetID: strconv.FormatInt(id, 10), Detail: detail}); err != nil {
		return fmt.Errorf("complaint: audit %s: %w", action, err)
	}
	return nil
}

// checkLinks validates complaint ids to link (into f on "complaint_ids"): positive, at most
// maxLetterLinks, each a complaint the actor reaches with perm. It returns them, sorted,
// without repeats.
func (s *Service) checkLinks(ctx context.Context, actor *authz.Actor, perm string, f apperr.Fields, ids []int64,
	required bool) ([]Complaint, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		if required {
			f.Add("complaint_ids", "field.required")
		}
		return nil, nil
	case len(ids) > maxLetterLinks:
		f.Add("complaint_ids", "complaint.letters.invalid.too_many", "max", maxLetterLinks)
		return nil, nil
	case ids[0] <= 0:
		f.Add("complaint_ids", "complaint.letters.invalid.complaint_unknown", "id", ids[0])
		return nil, nil
	}
	cs, err := s.store.complaintsIn(ctx, scopeFor(actor, perm), ids)
	if err != nil {
		return nil, err
	}
	found := map[int64]bool{}
	var out []Complaint
	for _, c := range cs {
		if reaches(actor, perm, &c) {
			found[c.ID] = true
			out = append(out, c)
		}
	}
	for _, id := range ids {
		if !found[id] {
			f.Add("complaint_ids", "complaint.letters.invalid.complaint_unknown", "id", id)
			break
		}
	}
	return out, nil
}

// withLinks fills the Complaints of ls with the linked complaints the actor reaches.
func (s *Service) withLinks(ctx context.Context, actor *authz.Actor, ls []Letter) error {
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	links, err := s.store.letterLinks(ctx, ids)
	if err != nil {
		return err
	}
	var all []int64
	for _, cs := range links {
		all = append(all, cs...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	seen := map[int64]bool{}
	for start := 0; start < len(all); start += maxLetterLinks {
		cs, err := s.store.complaintsIn(ctx, scopeFor(actor, PermRead), all[start:min(start+maxLetterLinks, len(all))])
		if err != nil {
			return err
		}
		for _, c := range cs {
			seen[c.ID] = reaches(actor, PermRead, &c)
		}
	}
	for i := range ls {
		ls[i].Complaints = []int64{}
		for _, c := range links[ls[i].ID] {
			if seen[c] {
				ls[i].Complaints = append(ls[i].Complaints, c)
			}
		}
	}
	return nil
}

// withLinksOne is withLinks for one letter.
func (s *Service) withLinksOne(ctx context.Context, actor *authz.Actor, l Letter) (Letter, error) {
	ls := []Letter{l}
	if err := s.withLinks(ctx, actor, ls); err != nil {
		return Letter{}, err
	}
	return ls[0], nil
}

// lockLinked locks the complaints linked to letter l in id order and checks that the
// actor reaches each with perm (403 otherwise: the letter itself is visible).
func (s *Service) lockLinked(ctx context.Context, actor *authz.Actor, perm string, l *Letter) ([]Complaint, error) {
	links, err := s.store.letterLinks(ctx, []int64{l.ID})
	if err != nil {
		return nil, err
	}
	ids := links[l.ID]
	if len(ids) == 0 {
		return nil, apperr.InvalidField("complaint_ids", "complaint.letters.invalid.needs_complaints")
	}
	out := make([]Complaint, 0, len(ids))
	for _, id := range ids {
		c, err := s.store.Lock(ctx, id)
		if err != nil {
			return nil, notFound(err)
		}
		if !reaches(actor, perm, &c) {
			return nil, apperr.New(apperr.Forbidden, "complaint.letters.error.out_of_scope", "number", c.Number).
				WithCode("letter_out_of_scope")
		}
		out = append(out, c)
	}
	return out, nil
}

// DraftLetter stores a new draft letter linked to the complaints it answers.
func (s *Service) DraftLetter(ctx context.Context, in LetterInput) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermLetter)
	if err != nil {
		return Letter{}, err
	}
	f := apperr.Fields{}
	in.Title = textField(f, "title", in.Title, maxShort, true)
	in.Body = textField(f, "body", in.Body, maxText, true)
	cs, err := s.checkLinks(ctx, actor, PermLetter, f, in.ComplaintIDs, false)
	if err != nil {
		return Letter{}, err
	}
	if err := f.Err(); err != nil {
		return Letter{}, err
	}
	now := s.now()
	_, aid, _ := actorFields(actor)
	l := Letter{Title: in.Title, Body: in.Body, Status: LetterDraft, DraftedBy: aid, Version: 1, CreatedAt: now, UpdatedAt: now}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.insertLetter(ctx, &l); err != nil {
			return err
		}
		ids, err := s.linkComplaints(ctx, &l, cs, now)
		if err != nil {
			return err
		}
		l.Complaints = ids
		return s.recordLetter(ctx, "complaint.letter.draft", l.ID, map[string]any{"title": l.Title, "complaint_ids": ids})
	})
	if err != nil {
		return Letter{}, err
	}
	return l, nil
}

// linkComplaints links cs to letter l and notes it on each newly linked request's
// timeline (not public: the customer sees the letter when it is published).
func (s *Service) linkComplaints(ctx context.Context, l *Letter, cs []Complaint, now time.Time) ([]int64, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	added, err := s.store.linkLetter(ctx, l.ID, ids, now)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if !slices.Contains(added, c.ID) {
			continue
		}
		if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint,
			Data: map[string]any{"letter_id": l.ID, "letter_title": l.Title, "letter_status": l.Status}}); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// PatchLetter changes the title or body of a draft (complaint:letter; Version required).
func (s *Service) PatchLetter(ctx context.Context, id int64, p LetterPatch) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermLetter)
	if err != nil {
		return Letter{}, err
	}
	if p.Version == nil {
		return Letter{}, apperr.VersionRequired()
	}
	f := apperr.Fields{}
	if p.Title != nil {
		*p.Title = textField(f, "title", *p.Title, maxShort, true)
	}
	if p.Body != nil {
		*p.Body = textField(f, "body", *p.Body, maxText, true)
	}
	if err := f.Err(); err != nil {
		return Letter{}, err
	}
	var out Letter
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		l, err := s.store.letter(ctx, id, true)
		if err != nil {
			return letterNotFound(err)
		}
		if l.Status != LetterDraft {
			return apperr.New(apperr.Conflict, "complaint.letters.error.not_draft").WithCode("letter_not_draft")
		}
		if *p.Version != l.Version {
			return apperr.StaleVersion(l.Version)
		}
		changed := map[string]any{}
		if p.Title != nil && *p.Title != l.Title {
			changed["title"], l.Title = *p.Title, *p.Title
		}
		if p.Body != nil && *p.Body != l.Body {
			changed["body"], l.Body = true, *p.Body
		}
		if len(changed) > 0 {
			if err := s.saveLetter(ctx, &l, s.now()); err != nil {
				return err
			}
			if err := s.recordLetter(ctx, "complaint.letter.update", l.ID, changed); err != nil {
				return err
			}
		}
		out = l
		return nil
	})
	if err != nil {
		return Letter{}, err
	}
	return s.withLinksOne(ctx, actor, out)
}

// saveLetter writes l, changed in ctx's transaction, as its next version (409 when the
// stored one moved on), as save does for a complaint.
func (s *Service) saveLetter(ctx context.Context, l *Letter, now time.Time) error {
	prev := l.Version
	l.Version, l.UpdatedAt = l.Version+1, now
	if ok, err := s.store.updateLetter(ctx, l, prev); err != nil {
		return err
	} else if !ok {
		return apperr.StaleVersion(l.Version)
	}
	return nil
}

// ApproveLetter approves a draft (complaint:letter and complaint:approve, reaching every
// linked complaint). Nobody approves a letter they drafted (403 self_approval).
func (s *Service) ApproveLetter(ctx context.Context, id int64) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermLetter)
	if err != nil {
		return Letter{}, err
	}
	if !actor.Can(PermApprove) {
		return Letter{}, apperr.ForbiddenErr()
	}
	_, aid, _ := actorFields(actor)
	var out Letter
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		l, err := s.store.letter(ctx, id, true)
		if err != nil {
			return letterNotFound(err)
		}
		if l.Status != LetterDraft {
			return apperr.New(apperr.Conflict, "complaint.letters.error.not_draft").WithCode("letter_not_draft")
		}
		if actor.Kind != authz.KindSystem && l.DraftedBy == aid {
			return apperr.New(apperr.Forbidden, "complaint.letters.error.self_approval").WithCode("self_approval")
		}
		cs, err := s.lockLinked(ctx, actor, PermApprove, &l)
		if err != nil {
			return err
		}
		now := s.now()
		l.Status, l.ApprovedBy, l.ApprovedAt = LetterApproved, aid, now
		if err := s.saveLetter(ctx, &l, now); err != nil {
			return err
		}
		if err := s.recordLetter(ctx, "complaint.letter.approve", l.ID, map[string]any{"title": l.Title,
			"complaint_ids": complaintIDs(cs)}); err != nil {
			return err
		}
		out = l
		return nil
	})
	if err != nil {
		return Letter{}, err
	}
	return s.withLinksOne(ctx, actor, out)
}

func complaintIDs(cs []Complaint) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// PublishLetter publishes an approved letter (complaint:letter, reaching every linked
// complaint): it shows in the portal, goes on every linked request's public timeline,
// and each linked complaint being carried out (executing) moves to feedback with the
// letter as its reply; the others are only linked.
func (s *Service) PublishLetter(ctx context.Context, id int64) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermLetter)
	if err != nil {
		return Letter{}, err
	}
	_, aid, _ := actorFields(actor)
	var out Letter
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		l, err := s.store.letter(ctx, id, true)
		if err != nil {
			return letterNotFound(err)
		}
		if l.Status != LetterApproved {
			return apperr.New(apperr.Conflict, "complaint.letters.error.not_approved").WithCode("letter_not_approved")
		}
		cs, err := s.lockLinked(ctx, actor, PermLetter, &l)
		if err != nil {
			return err
		}
		now := s.now()
		l.Status, l.PublishedBy, l.PublishedAt = LetterPublished, aid, now
		if err := s.saveLetter(ctx, &l, now); err != nil {
			return err
		}
		result := httpx.CatalogFrom(ctx).T(i18n.Lang(ctx), "complaint.letters.result", map[string]any{"title": l.Title})
		var moved []int64
		for i := range cs {
			c := &cs[i]
			if c.Stage == StageExecuting {
				if err := s.letterFeedback(ctx, actor, c, &l, result, now); err != nil {
					return err
				}
				moved = append(moved, c.ID)
				continue
			}
			if _, err := s.tickets.AddEvent(ctx, c.TicketID, ticket.Event{Kind: ticket.EventComplaint, Public: true,
				Body: l.Body, Data: map[string]any{"letter_id": l.ID, "letter_title": l.Title,
					"letter_status": LetterPublished}}); err != nil {
				return err
			}
		}
		if err := s.recordLetter(ctx, "complaint.letter.publish", l.ID, map[string]any{"title": l.Title,
			"complaint_ids": complaintIDs(cs), "feedback": moved}); err != nil {
			return err
		}
		out = l
		return nil
	})
	if err != nil {
		return Letter{}, err
	}
	return s.withLinksOne(ctx, actor, out)
}

// letterFeedback completes the feedback step of complaint c with letter l as the reply
// to the customer (executing -> feedback), inside the caller's transaction: the same
// move, stage log, timeline entry (public, the letter), request status, audit entry and
// events as a transition by hand.
func (s *Service) letterFeedback(ctx context.Context, actor *authz.Actor, c *Complaint, l *Letter, result string, now time.Time) error {
	in := MoveInput{Stage: StageFeedback, Reason: result, Result: result, Reply: l.Body}
	m := &move{c: c, from: c.Stage, in: &in, actor: actor, now: now,
		data: map[string]any{"letter_id": l.ID, "letter_title": l.Title}, fields: apperr.Fields{}}
	return s.applyMove(ctx, m)
}

// LinkLetter links more complaints to a draft or approved letter (complaint:letter).
func (s *Service) LinkLetter(ctx context.Context, id int64, in LetterLinks) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermLetter)
	if err != nil {
		return Letter{}, err
	}
	f := apperr.Fields{}
	cs, err := s.checkLinks(ctx, actor, PermLetter, f, in.ComplaintIDs, true)
	if err != nil {
		return Letter{}, err
	}
	if err := f.Err(); err != nil {
		return Letter{}, err
	}
	var out Letter
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		l, err := s.store.letter(ctx, id, true)
		if err != nil {
			return letterNotFound(err)
		}
		if l.Status == LetterPublished {
			return apperr.New(apperr.Conflict, "complaint.letters.error.published").WithCode("letter_published")
		}
		added, err := s.linkComplaints(ctx, &l, cs, s.now())
		if err != nil {
			return err
		}
		if err := s.recordLetter(ctx, "complaint.letter.link", l.ID, map[string]any{"title": l.Title,
			"complaint_ids": added}); err != nil {
			return err
		}
		out = l
		return nil
	})
	if err != nil {
		return Letter{}, err
	}
	return s.withLinksOne(ctx, actor, out)
}

// GetLetter returns letter id with the linked complaints the actor reaches (complaint:read).
func (s *Service) GetLetter(ctx context.Context, id int64) (Letter, error) {
	actor, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return Letter{}, err
	}
	l, err := s.store.letter(ctx, id, false)
	if err != nil {
		return Letter{}, letterNotFound(err)
	}
	return s.withLinksOne(ctx, actor, l)
}

type letterCursor struct {
	ID int64 `json:"i"`
}

// Letters pages through the letters, newest first, with status "" (any) or one of
// LetterStatuses (complaint:read). The published ones are the return-visit archive.
func (s *Service) Letters(ctx context.Context, status string, limit int, cur string) (Page[Letter], error) {
	actor, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return Page[Letter]{}, err
	}
	if status != "" && !slices.Contains(LetterStatuses, status) {
		return Page[Letter]{}, apperr.InvalidField("status", "field.invalid_choice")
	}
	var c letterCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[Letter]{}, err
	}
	limit = pageLimit(limit)
	items, err := s.store.letters(ctx, status, c.ID, limit+1)
	if err != nil {
		return Page[Letter]{}, err
	}
	page := Page[Letter]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = httpx.EncodeCursor(letterCursor{ID: page.Items[limit-1].ID})
	}
	if err := s.withLinks(ctx, actor, page.Items); err != nil {
		return Page[Letter]{}, err
	}
	return page, nil
}

// lettersOf lists the public letters linked to complaint id.
func (s *Service) lettersOf(ctx context.Context, id int64) ([]Letter, error) {
	ls, err := s.store.lettersOfComplaint(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.withLinks(ctx, authz.From(ctx), ls); err != nil {
		return nil, err
	}
	return ls, nil
}

// PublishedLetters lists published letters for anyone (the portal), newest first: up
// to limit with ids below before (0 = from the newest). The linked complaints are left out.
func (s *Service) PublishedLetters(ctx context.Context, limit int, before int64) ([]Letter, error) {
	ls, err := s.store.letters(ctx, LetterPublished, before, pageLimit(limit))
	if err != nil {
		return nil, err
	}
	return ls, nil
}

// PublishedLetter returns published letter id for anyone (the portal); a letter not
// published reads as not found.
func (s *Service) PublishedLetter(ctx context.Context, id int64) (Letter, error) {
	l, err := s.store.letter(ctx, id, false)
	if err != nil {
		return Letter{}, letterNotFound(err)
	}
	if l.Status != LetterPublished {
		return Letter{}, errLetterNotFound()
	}
	return l, nil
}

// ---- HTTP ----

func (s *Service) letterRoutes() []httpx.Route {
	a := letterAPI{s: s}
	const base = "/api/v1/complaint-letters"
	return []httpx.Route{
		{Method: "GET", Path: base, Perm: PermRead, Handler: a.list},
		{Method: "POST", Path: base, Perm: PermLetter, Handler: a.create},
		{Method: "GET", Path: base + "/{id}", Perm: PermRead, Handler: a.get},
		{Method: "PATCH", Path: base + "/{id}", Perm: PermLetter, Handler: a.patch},
		{Method: "POST", Path: base + "/{id}/approve", Perm: PermLetter, Handler: a.approve},
		{Method: "POST", Path: base + "/{id}/publish", Perm: PermLetter, Handler: a.publish},
		{Method: "POST", Path: base + "/{id}/links", Perm: PermLetter, Handler: a.links},
	}
}

type letterAPI struct{ s *Service }

// LetterView is the JSON form of a public letter.
type LetterView struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Body         string     `json:"body"`
	Status       string     `json:"status"`
	StatusLabel  string     `json:"status_label"`
	DraftedBy    int64      `json:"drafted_by"`
	ApprovedBy   int64      `json:"approved_by"`
	ApprovedAt   *time.Time `json:"approved_at"`
	PublishedBy  int64      `json:"published_by"`
	PublishedAt  *time.Time `json:"published_at"`
	Version      int64      `json:"version"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ComplaintIDs []int64    `json:"complaint_ids"`
}

// LetterViewOf is the JSON form of l in the request's language.
func LetterViewOf(ctx context.Context, l *Letter) LetterView {
	ids := l.Complaints
	if ids == nil {
		ids = []int64{}
	}
	return LetterView{ID: l.ID, Title: l.Title, Body: l.Body, Status: l.Status,
		StatusLabel: httpx.CatalogFrom(ctx).T(i18n.Lang(ctx), "complaint.letters.status."+l.Status, nil),
		DraftedBy:   l.DraftedBy, ApprovedBy: l.ApprovedBy, ApprovedAt: optTime(l.ApprovedAt), PublishedBy: l.PublishedBy,
		PublishedAt: optTime(l.PublishedAt), Version: l.Version, CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(),
		ComplaintIDs: ids}
}

func letterLocation(id int64) string { return "/api/v1/complaint-letters/" + strconv.FormatInt(id, 10) }

func (a letterAPI) list(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err == nil {
		var p Page[Letter]
		if p, err = a.s.Letters(r.Context(), r.URL.Query().Get("status"), limit, cur); err == nil {
			items := make([]LetterView, len(p.Items))
			for i := range p.Items {
				items[i] = LetterViewOf(r.Context(), &p.Items[i])
			}
			httpx.JSON(w, http.StatusOK, httpx.Page[LetterView]{Items: items, NextCursor: p.NextCursor})
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a letterAPI) create(w http.ResponseWriter, r *http.Request) {
	var in LetterInput
	err := httpx.Decode(r, &in)
	if err == nil {
		var l Letter
		if l, err = a.s.DraftLetter(r.Context(), in); err == nil {
			httpx.Created(w, letterLocation(l.ID), LetterViewOf(r.Context(), &l))
			return
		}
	}
	httpx.Error(w, r, err)
}

// one runs a letter use case on the letter in the path and writes the letter.
func (a letterAPI) one(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, id int64) (Letter, error)) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var l Letter
		if l, err = run(r.Context(), id); err == nil {
			httpx.JSON(w, http.StatusOK, LetterViewOf(r.Context(), &l))
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a letterAPI) get(w http.ResponseWriter, r *http.Request) { a.one(w, r, a.s.GetLetter) }

func (a letterAPI) approve(w http.ResponseWriter, r *http.Request) { a.one(w, r, a.s.ApproveLetter) }

func (a letterAPI) publish(w http.ResponseWriter, r *http.Request) { a.one(w, r, a.s.PublishLetter) }

func (a letterAPI) patch(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *LetterPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p LetterPatch) (any, int64, error) {
			l, err := a.s.PatchLetter(ctx, id, p)
			return LetterViewOf(ctx, &l), l.Version, err
		})(w, r)
}

func (a letterAPI) links(w http.ResponseWriter, r *http.Request) {
	a.one(w, r, func(ctx context.Context, id int64) (Letter, error) {
		var in LetterLinks
		if err := httpx.Decode(r, &in); err != nil {
			return Letter{}, err
		}
		return a.s.LinkLetter(ctx, id, in)
	})
}
