package revisit

// False records and their sanctions. A record found false (the customer denies a field
// visit, say) is flagged (revisit:verify, reason required) and goes to the director;
// the director confirms it (revisit:approve), which counts the salesperson's confirmed
// false visits and proposes the seed's sanction in order: the first, the month's
// performance pay (jixiao gongzi); the second, the month's whole pay and commission; the
// third, dismissal. A manager approves or rejects each proposal (revisit:approve), never
// one on themselves.

import (
	"context"
	"net/http"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

const thingSanction = "thing.revisit_sanction"

// sanctionZone is the zone of the pay month.
var sanctionZone = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// FlagFalseInput flags a record of a task false.
type FlagFalseInput struct {
	RecordID int64  `json:"record_id"`
	Reason   string `json:"reason" text:"multiline"`
	// StaffID is whose false visit it is: the salesperson whose visit the record
	// verifies (the default) or the record's own visitor.
	StaffID int64 `json:"staff_id"`
}

// ConfirmFalseInput confirms a flagged record false.
type ConfirmFalseInput struct {
	RecordID int64  `json:"record_id"`
	Note     string `json:"note" text:"multiline"`
}

// FlagFalse flags a record of task id false.
func (s *Service) FlagFalse(ctx context.Context, id int64, in FlagFalseInput) (RecordView, error) {
	return s.reviewTask(ctx, id, workPermVerify, in.RecordID, func(ctx context.Context, a *authz.Actor, t *Task, rec *VisitRecord) error {
		f := apperr.Fields{}
		reason := wText(f, "reason", in.Reason, workMaxText, true)
		concerned, err := s.concernedStaff(ctx, t)
		if err != nil {
			return err
		}
		staff := concerned
		if staff == 0 {
			staff = rec.AgentID
		}
		if in.StaffID != 0 {
			if in.StaffID != concerned && in.StaffID != rec.AgentID {
				f.Add("staff_id", "revisit.work.invalid.false_staff")
			}
			staff = in.StaffID
		}
		if staff == 0 {
			f.Add("staff_id", "field.required")
		}
		if err := f.Err(); err != nil {
			return err
		}
		if !rec.FlaggedFalseAt.IsZero() {
			return apperr.New(apperr.Conflict, "revisit.work.error.flagged")
		}
		if staff == workActorID(a) {
			return apperr.New(apperr.Forbidden, "revisit.work.error.own_record").WithCode("self_flag")
		}
		now := s.now()
		rec.FlaggedFalseAt, rec.FlaggedBy, rec.FalseReason, rec.FalseStaffID = now, workActorID(a), reason, staff
		if err := s.saveRecord(ctx, rec); err != nil {
			return err
		}
		if err := s.record(ctx, "revisit.record.flag_false", "revisit_task", t.ID, map[string]any{"record_id": rec.ID,
			"reason": reason, "staff_id": staff}); err != nil {
			return err
		}
		dirs, err := s.directors(ctx)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			if d == workActorID(a) {
				continue
			}
			fn, err := s.addNotice(ctx, t, rec.ID, d, NoticeFalseRecord, now)
			if err != nil {
				return err
			}
			queueAfter(ctx, fn)
		}
		return nil
	})
}

// ConfirmFalse confirms a flagged record of task id false and proposes the sanction.
func (s *Service) ConfirmFalse(ctx context.Context, id int64, in ConfirmFalseInput) (RecordView, error) {
	return s.reviewTask(ctx, id, workPermApprove, in.RecordID, func(ctx context.Context, a *authz.Actor, t *Task, rec *VisitRecord) error {
		f := apperr.Fields{}
		note := wText(f, "note", in.Note, workMaxText, false)
		if err := f.Err(); err != nil {
			return err
		}
		switch {
		case rec.FlaggedFalseAt.IsZero():
			return apperr.New(apperr.Conflict, "revisit.work.error.not_flagged")
		case !rec.FalseConfirmedAt.IsZero():
			return apperr.New(apperr.Conflict, "revisit.work.error.confirmed")
		case rec.FalseStaffID == workActorID(a):
			return apperr.New(apperr.Forbidden, "revisit.work.error.self_sanction").WithCode("self_approval")
		}
		now := s.now()
		rec.FalseConfirmedAt, rec.FalseConfirmedBy = now, workActorID(a)
		if err := s.saveRecord(ctx, rec); err != nil {
			return err
		}
		n, err := s.work().ConfirmedFalse(ctx, rec.FalseStaffID)
		if err != nil {
			return err
		}
		x := Sanction{StaffID: rec.FalseStaffID, RecordID: rec.ID, Offence: n, Kind: SanctionFor(n),
			Month: now.In(sanctionZone).Format("2006-01"), Status: SanctionProposed, ProposedBy: workActorID(a),
			Note: note, Version: 1, CreatedAt: now}
		if err := s.work().InsertSanction(ctx, &x); err != nil {
			return err
		}
		return s.record(ctx, "revisit.record.confirm_false", "revisit_task", t.ID, map[string]any{"record_id": rec.ID,
			"staff_id": rec.FalseStaffID, "offence": n, "sanction_id": x.ID, "sanction": x.Kind, "month": x.Month})
	})
}

// SanctionView is the JSON form of a sanction.
type SanctionView struct {
	ID         int64      `json:"id"`
	StaffID    int64      `json:"staff_id"`
	RecordID   int64      `json:"record_id"`
	TaskID     int64      `json:"task_id"`
	Offence    int        `json:"offence"`
	Kind       string     `json:"kind"`
	KindLabel  string     `json:"kind_label"`
	Month      string     `json:"month"`
	Status     string     `json:"status"`
	ProposedBy int64      `json:"proposed_by"`
	DecidedBy  int64      `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
	Note       string     `json:"note"`
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
}

func (s *Service) sanctionView(ctx context.Context, x *Sanction, taskID int64) SanctionView {
	label := "revisit.work.sanction." + x.Kind
	if cat := httpx.CatalogFrom(ctx); cat != nil {
		label = cat.T(i18n.Lang(ctx), label, nil)
	}
	return SanctionView{ID: x.ID, StaffID: x.StaffID, RecordID: x.RecordID, TaskID: taskID, Offence: x.Offence,
		Kind: x.Kind, KindLabel: label, Month: x.Month, Status: x.Status, ProposedBy: x.ProposedBy,
		DecidedBy: x.DecidedBy, DecidedAt: wOptTime(x.DecidedAt), Note: x.Note, Version: x.Version,
		CreatedAt: x.CreatedAt.UTC()}
}

// sanctionTask is the task of a sanction's record, and whether the actor reaches it with perm.
func (s *Service) sanctionTask(ctx context.Context, a *authz.Actor, x *Sanction, perm string) (Task, bool, error) {
	rec, err := s.work().Record(ctx, x.RecordID, false)
	if err != nil {
		return Task{}, false, err
	}
	t, err := s.store.GetTask(ctx, rec.TaskID)
	if err != nil {
		return Task{}, false, err
	}
	return t, a.Reaches(perm, t.Record()), nil
}

// SanctionFilter narrows the sanction list.
type SanctionFilter struct {
	Status  string
	StaffID int64
	Limit   int
	Cursor  string
}

// Sanctions lists proposed and decided sanctions in the actor's reach, newest first.
func (s *Service) Sanctions(ctx context.Context, f SanctionFilter) ([]SanctionView, string, error) {
	a, err := authz.RequireStaff(ctx, workPermApprove)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && f.Status != SanctionProposed && f.Status != SanctionApproved && f.Status != SanctionRejected {
		return nil, "", apperr.InvalidField("status", "field.invalid_choice")
	}
	if f.Limit <= 0 {
		f.Limit = httpx.DefaultLimit
	}
	var before int64
	if err := httpx.DecodeCursor(f.Cursor, &before); err != nil {
		return nil, "", err
	}
	out := []SanctionView{}
	next := ""
	for len(out) < f.Limit {
		page, err := s.work().Sanctions(ctx, f.Status, f.StaffID, before, f.Limit+1)
		if err != nil {
			return nil, "", err
		}
		for i := range page {
			x := &page[i]
			before = x.ID
			t, ok, err := s.sanctionTask(ctx, a, x, workPermApprove)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				continue
			}
			if len(out) == f.Limit {
				next = httpx.EncodeCursor(out[len(out)-1].ID)
				return out, next, nil
			}
			out = append(out, s.sanctionView(ctx, x, t.ID))
		}
		if len(page) <= f.Limit {
			break
		}
	}
	return out, next, nil
}

// DecideInput approves or rejects a sanction.
type DecideInput struct {
	Note    string `json:"note" text:"multiline"`
	Version *int64 `json:"version"`
}

// DecideSanction approves (approve true) or rejects a proposed sanction; a rejection
// needs a note, and nobody decides a sanction on themselves.
func (s *Service) DecideSanction(ctx context.Context, id int64, approve bool, in DecideInput) (SanctionView, error) {
	a, err := authz.RequireStaff(ctx, workPermApprove)
	if err != nil {
		return SanctionView{}, err
	}
	var view SanctionView
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		x, err := s.work().Sanction(ctx, id, true)
		if err != nil {
			return wNotFound(err, thingSanction)
		}
		t, ok, err := s.sanctionTask(ctx, a, &x, workPermApprove)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFoundf(thingSanction)
		}
		f := apperr.Fields{}
		note := wText(f, "note", in.Note, workMaxText, !approve)
		if err := f.Err(); err != nil {
			return err
		}
		if in.Version != nil && *in.Version != x.Version {
			return apperr.StaleVersion(x.Version)
		}
		if x.StaffID == workActorID(a) {
			return apperr.New(apperr.Forbidden, "revisit.work.error.self_sanction").WithCode("self_approval")
		}
		if x.Status != SanctionProposed {
			return apperr.New(apperr.Conflict, "revisit.work.error.sanction_decided", "status", x.Status)
		}
		x.Status = SanctionRejected
		action := "revisit.sanction.reject"
		if approve {
			x.Status, action = SanctionApproved, "revisit.sanction.approve"
		}
		if note != "" {
			x.Note = note
		}
		x.DecidedBy, x.DecidedAt = workActorID(a), s.now()
		prev := x.Version
		x.Version++
		if ok, err := s.work().UpdateSanction(ctx, &x, prev); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(x.Version)
		}
		if err := s.record(ctx, action, "revisit_sanction", x.ID, map[string]any{"staff_id": x.StaffID,
			"kind": x.Kind, "offence": x.Offence, "month": x.Month, "note": note}); err != nil {
			return err
		}
		view = s.sanctionView(ctx, &x, t.ID)
		return nil
	})
	return view, err
}

// sanctionRoutes are the sanction routes.
func (s *Service) sanctionRoutes() []httpx.Route {
	decide := func(approve bool) http.HandlerFunc {
		return httpx.UpdateByID(func(ctx context.Context, id int64, in DecideInput) (SanctionView, error) {
			return s.DecideSanction(ctx, id, approve, in)
		})
	}
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/revisit-sanctions", Perm: workPermApprove, Handler: func(w http.ResponseWriter, r *http.Request) {
			limit, cursor, err := httpx.ListParams(r)
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			staff, err := httpx.QueryInt64(r, "staff_id")
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			items, next, err := s.Sanctions(r.Context(), SanctionFilter{Status: r.URL.Query().Get("status"),
				StaffID: staff, Limit: limit, Cursor: cursor})
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.JSON(w, http.StatusOK, httpx.Page[SanctionView]{Items: items, NextCursor: next})
		}},
		{Method: http.MethodPost, Path: "/api/v1/revisit-sanctions/{id}/approve", Perm: workPermApprove, Handler: decide(true)},
		{Method: http.MethodPost, Path: "/api/v1/revisit-sanctions/{id}/reject", Perm: workPermApprove, Handler: decide(false)},
	}
}
