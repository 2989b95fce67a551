package revisit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

func wkPath(id int64, tail string) string { return fmt.Sprintf("/api/v1/revisits/%d/%s", id, tail) }

// TestSignoff: a supervisor signs off a record with a note, once; never their own record.
func TestSignoff(t *testing.T) {
	e := newWorkEnv(t)
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 4)), http.StatusOK)
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkPath(tk.ID, "signoff"), map[string]any{"note": "ok"}), http.StatusForbidden)
	wkStatus(t, e.srv.As(t, "supervisor@other").Do(t, http.MethodPost, wkPath(tk.ID, "signoff"), map[string]any{"note": "ok"}), http.StatusNotFound)
	r := e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "signoff"), map[string]any{"note": "  "})
	wkStatus(t, r, http.StatusUnprocessableEntity)
	if f := wkErrFields(t, r); len(f) != 1 || f[0] != "note" {
		t.Fatalf("fields %v", f)
	}
	r = e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "signoff"), map[string]any{"note": "Checked: the customer confirms the call"})
	wkStatus(t, r, http.StatusOK)
	var v revisit.RecordView
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Records[0].SignoffBy != e.sup.Staff.ID || v.Records[0].SignoffAt == nil || v.Records[0].SignoffNote == "" {
		t.Fatalf("signed off: %s", r.Body)
	}
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "signoff"), map[string]any{"note": "again"}), http.StatusConflict)

	// The supervisor's own record is signed off by someone else.
	own := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkRecordPath(own.ID), e.reached(revisit.MethodPhone, 5)), http.StatusOK)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(own.ID, "signoff"), map[string]any{"note": "fine"}), http.StatusForbidden)
	wkStatus(t, e.director.Do(t, http.MethodPost, wkPath(own.ID, "signoff"), map[string]any{"note": "fine"}), http.StatusOK)
	// A task without a record has nothing to sign off.
	none := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(none.ID, "signoff"), map[string]any{"note": "x"}), http.StatusNotFound)
}

// salesTask is a verification visit of a field visit made by salesperson sales.
func (e *workEnv) salesTask(t *testing.T, fieldVisitID, sales int64) revisit.Task {
	t.Helper()
	now := e.srv.Clock.Now().UnixMilli()
	_, err := e.srv.App.DB.Exec(apptest.SystemCtx(), `INSERT INTO revisit_events (event_key, event, subject_key, source_type,
		source_id, customer_id, dept_id, team_id, actor_id, agent_id, level, attrs, occurred_at, processed_at, created_at)
		VALUES (?, 'fieldvisit.recorded', '', 'fieldvisit', ?, ?, 0, 0, ?, 0, '', '{}', ?, ?, ?)`,
		fmt.Sprintf("fieldvisit:%d", fieldVisitID), fieldVisitID, e.cust, sales, now, now, now)
	if err != nil {
		t.Fatalf("inbox row: %v", err)
	}
	return e.task(t, "sales_visit", revisit.MethodPhone, revisit.LevelNone, func(tk *revisit.Task) {
		tk.SourceType, tk.SourceID = revisit.SourceFieldVisit, fieldVisitID
	})
}

type wkSanctions struct {
	Items []revisit.SanctionView `json:"items"`
}

// TestFalseRecordsAndSanctions: a record the customer denies is flagged and goes to the
// director; each confirmation counts the salesperson's false visits and proposes the
// seed's sanction in order; a manager approves or rejects each, never one on themselves.
func TestFalseRecordsAndSanctions(t *testing.T) {
	e := newWorkEnv(t)
	sales := e.srv.As(t, "sales")
	admin := e.srv.As(t, "admin")
	qs := e.script(t, "sales_visit")
	want := []string{revisit.SanctionPerformancePay, revisit.SanctionMonthPay, revisit.SanctionDismissal}
	for i, kind := range want {
		tk := e.salesTask(t, int64(100+i), sales.Staff.ID)
		wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 1, qs...)), http.StatusOK)
		if i == 0 {
			wkStatus(t, e.director.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{}), http.StatusConflict)
			wkStatus(t, e.agent.Do(t, http.MethodPost, wkPath(tk.ID, "flag-false"), map[string]any{"reason": "x"}), http.StatusForbidden)
			r := e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "flag-false"), map[string]any{})
			wkStatus(t, r, http.StatusUnprocessableEntity)
			if f := wkErrFields(t, r); len(f) != 1 || f[0] != "reason" {
				t.Fatalf("fields %v", f)
			}
		}
		r := e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "flag-false"), map[string]any{"reason": "The customer says nobody visited"})
		wkStatus(t, r, http.StatusOK)
		var v revisit.RecordView
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		if v.Records[0].FlaggedFalseAt == nil || v.Records[0].FalseStaffID != sales.Staff.ID {
			t.Fatalf("flagged: %s", r.Body)
		}
		toDirector := false
		for _, n := range v.Notices {
			toDirector = toDirector || n.StaffID == e.director.Staff.ID && n.Reason == revisit.NoticeFalseRecord
		}
		if !toDirector {
			t.Fatalf("the flag did not go to the director: %+v", v.Notices)
		}
		wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "flag-false"), map[string]any{"reason": "again"}), http.StatusConflict)
		wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{}), http.StatusForbidden)
		wkStatus(t, e.director.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{"note": "confirmed by phone"}), http.StatusOK)
		wkStatus(t, e.director.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{}), http.StatusConflict)
		r = e.director.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisit-sanctions?staff_id=%d", sales.Staff.ID), nil)
		wkStatus(t, r, http.StatusOK)
		var list wkSanctions
		if err := json.Unmarshal(r.Body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != i+1 || list.Items[0].Kind != kind || list.Items[0].Offence != i+1 ||
			list.Items[0].Status != revisit.SanctionProposed || list.Items[0].TaskID != tk.ID {
			t.Fatalf("offence %d: %s", i+1, r.Body)
		}
	}
	r := e.director.Do(t, http.MethodGet, "/api/v1/revisit-sanctions?status=proposed", nil)
	wkStatus(t, r, http.StatusOK)
	var list wkSanctions
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 {
		t.Fatalf("proposed: %s", r.Body)
	}
	first, second := list.Items[2], list.Items[1]
	wkStatus(t, sales.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/approve", first.ID), map[string]any{}), http.StatusForbidden)
	wkStatus(t, e.director.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/approve", first.ID), map[string]any{}), http.StatusOK)
	wkStatus(t, e.director.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/reject", first.ID), map[string]any{"note": "x"}), http.StatusConflict)
	wkStatus(t, e.director.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/reject", second.ID), map[string]any{}), http.StatusUnprocessableEntity)
	wkStatus(t, e.director.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/reject", second.ID), map[string]any{"note": "The customer was mistaken"}), http.StatusOK)
	wkStatus(t, e.director.Do(t, http.MethodGet, "/api/v1/revisit-sanctions?status=bogus", nil), http.StatusUnprocessableEntity)

	// A record of the director's own: they may neither confirm it nor decide its sanction.
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.director.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 5)), http.StatusOK)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkPath(tk.ID, "flag-false"), map[string]any{"reason": "invented", "staff_id": e.director.Staff.ID}), http.StatusOK)
	wkStatus(t, e.director.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{}), http.StatusForbidden)
	wkStatus(t, admin.Do(t, http.MethodPost, wkPath(tk.ID, "confirm-false"), map[string]any{}), http.StatusOK)
	r = admin.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisit-sanctions?staff_id=%d", e.director.Staff.ID), nil)
	wkStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Items) != 1 || list.Items[0].Kind != revisit.SanctionPerformancePay {
		t.Fatalf("director's sanction: %s", r.Body)
	}
	own := list.Items[0].ID
	r = e.director.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/approve", own), map[string]any{})
	wkStatus(t, r, http.StatusForbidden)
	wkStatus(t, admin.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/revisit-sanctions/%d/approve", own), map[string]any{}), http.StatusOK)
}
