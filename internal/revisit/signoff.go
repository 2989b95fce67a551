package revisit

// Supervisors review visit records and sign them off with their opinion (the seed:
// kefubu zhuguan dui wuye zhuli de huifang gongzuo jinxing jiancha bing qianshu yijian).
// POST /api/v1/revisits/{id}/signoff {"note", "record_id"} (revisit:signoff, the task
// in the supervisor's scope): the note is required, a record is signed off once, and
// nobody signs off their own record.

import (
	"context"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// SignoffInput signs off a record of a task (the latest when record_id is 0).
type SignoffInput struct {
	RecordID int64  `json:"record_id"`
	Note     string `json:"note" text:"multiline"`
}

// recordOf locks the record recordID of task t (its latest when 0) in ctx's transaction.
func (s *Service) recordOf(ctx context.Context, t *Task, recordID int64) (VisitRecord, error) {
	if recordID == 0 {
		id, err := s.work().LatestRecordID(ctx, t.ID)
		if err != nil {
			return VisitRecord{}, wNotFound(err, thingVisitRecord)
		}
		recordID = id
	}
	rec, err := s.work().Record(ctx, recordID, true)
	if err != nil {
		return VisitRecord{}, wNotFound(err, thingVisitRecord)
	}
	if rec.TaskID != t.ID {
		return VisitRecord{}, apperr.NotFoundf(thingVisitRecord)
	}
	return rec, nil
}

// saveRecord writes the review columns of rec as its next version.
func (s *Service) saveRecord(ctx context.Context, rec *VisitRecord) error {
	prev := rec.Version
	rec.Version++
	ok, err := s.work().UpdateRecord(ctx, rec, prev)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.StaleVersion(rec.Version)
	}
	return nil
}

// reviewTask runs fn on task id and one of its records, locked, for an actor holding
// perm who reaches the task, and answers the task's view.
func (s *Service) reviewTask(ctx context.Context, id int64, perm string, recordID int64,
	fn func(ctx context.Context, a *authz.Actor, t *Task, rec *VisitRecord) error) (RecordView, error) {
	a, err := authz.RequireStaff(ctx, perm)
	if err != nil {
		return RecordView{}, err
	}
	var view RecordView
	var after []func()
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockTaskFor(ctx, a, id, perm)
		if err != nil {
			return err
		}
		rec, err := s.recordOf(ctx, &t, recordID)
		if err != nil {
			return err
		}
		ctx = withAfter(ctx, &after)
		if err := fn(ctx, a, &t, &rec); err != nil {
			return err
		}
		if view, err = s.visitView(ctx, &t); err != nil {
			return err
		}
		view.RecordID = rec.ID
		return nil
	})
	if err != nil {
		return RecordView{}, err
	}
	for _, f := range after {
		f()
	}
	return view, nil
}

type afterKey struct{}

// withAfter lets a review step queue work for after the commit.
func withAfter(ctx context.Context, fns *[]func()) context.Context {
	return context.WithValue(ctx, afterKey{}, fns)
}

func queueAfter(ctx context.Context, fns ...func()) {
	if p, ok := ctx.Value(afterKey{}).(*[]func()); ok {
		*p = append(*p, fns...)
	}
}

// Signoff signs off a record of task id.
func (s *Service) Signoff(ctx context.Context, id int64, in SignoffInput) (RecordView, error) {
	return s.reviewTask(ctx, id, workPermSignoff, in.RecordID, func(ctx context.Context, a *authz.Actor, t *Task, rec *VisitRecord) error {
		f := apperr.Fields{}
		note := wText(f, "note", in.Note, workMaxText, true)
		if err := f.Err(); err != nil {
			return err
		}
		if rec.AgentID != 0 && rec.AgentID == workActorID(a) {
			return apperr.New(apperr.Forbidden, "revisit.work.error.own_record").WithCode("self_signoff")
		}
		if !rec.SignoffAt.IsZero() {
			return apperr.New(apperr.Conflict, "revisit.work.error.signed_off")
		}
		rec.SignoffBy, rec.SignoffAt, rec.SignoffNote = workActorID(a), s.now(), note
		if err := s.saveRecord(ctx, rec); err != nil {
			return err
		}
		return s.record(ctx, "revisit.record.signoff", "revisit_task", t.ID, map[string]any{"record_id": rec.ID,
			"note": note})
	})
}
