package revisit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"mime/multipart"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// errFields are the field names of a 422 answer.
func wkErrFields(t *testing.T, r *apptest.Response) []string {
	t.Helper()
	var b struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("error body: %v\n%s", err, r.Body)
	}
	var out []string
	for k := range b.Error.Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// script reads the question set of a rule.
func (e *workEnv) script(t *testing.T, rule string) []string {
	t.Helper()
	var raw string
	if err := e.srv.App.DB.QueryRow(apptest.SystemCtx(), `SELECT script FROM revisit_rules WHERE code = ?`, rule).Scan(&raw); err != nil {
		t.Fatalf("script: %v", err)
	}
	var qs []struct {
		Q string `json:"q"`
	}
	if err := json.Unmarshal([]byte(raw), &qs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Q
	}
	return out
}

func wkWith(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestRecordCompleteness: a record missing a part is refused with every missing part named.
func TestRecordCompleteness(t *testing.T) {
	e := newWorkEnv(t)
	qs := e.script(t, "complaint_closed")
	if len(qs) == 0 {
		t.Fatal("complaint_closed has no script")
	}
	phone := e.task(t, "complaint_closed", revisit.MethodPhone, revisit.LevelGeneral)
	onsite := e.task(t, "complaint_closed", revisit.MethodOnsite, revisit.LevelGeneral)
	full := e.reached(revisit.MethodPhone, 4, qs...)
	future := e.now().Add(time.Hour).Format(time.RFC3339)
	past := e.now().Add(-time.Hour).Format(time.RFC3339)
	sig := wkDataURL(wkSignaturePNG(t, 200, 80))
	cases := []struct {
		name   string
		task   int64
		body   map[string]any
		fields []string
	}{
		{"empty", phone.ID, map[string]any{}, []string{"method", "reached"}},
		{"no satisfaction", phone.ID, wkWith(full, "satisfaction", 0), []string{"satisfaction"}},
		{"satisfaction 6", phone.ID, wkWith(full, "satisfaction", 6), []string{"satisfaction"}},
		{"no answers", phone.ID, wkWith(full, "answers", map[string]string{}), func() []string {
			var f []string
			for i := range qs {
				f = append(f, fmt.Sprintf("answers[%d]", i))
			}
			return f
		}()},
		{"future visit", phone.ID, wkWith(full, "visited_at", future), []string{"visited_at"}},
		{"sms on a phone task", phone.ID, wkWith(full, "method", "sms"), []string{"method"}},
		{"unknown method", phone.ID, wkWith(full, "method", "fax"), []string{"method"}},
		{"signature on a phone visit", phone.ID, wkWith(full, "signature", sig), []string{"signature"}},
		{"onsite without signature", onsite.ID, wkWith(full, "method", "onsite"), []string{"signature"}},
		{"onsite bad signature", onsite.ID, wkWith(full, "method", "onsite", "signature", "data:image/png;base64,AAAA"), []string{"signature"}},
		{"onsite jpeg", onsite.ID, wkWith(full, "method", "onsite", "signature", "data:image/jpeg;base64,AAAA"), []string{"signature"}},
		{"unreached with satisfaction", phone.ID, wkWith(e.unreached("phone"), "satisfaction", 3), []string{"satisfaction"}},
		{"issue without appointment", phone.ID, wkWith(full, "issues", []map[string]any{{"text": "leak again"}}), []string{"issues[0].appointment_at"}},
		{"issue in the past", phone.ID, wkWith(full, "issues", []map[string]any{{"text": "leak", "appointment_at": past}}), []string{"issues[0].appointment_at"}},
		{"issue without text", phone.ID, wkWith(full, "issues", []map[string]any{{"appointment_at": future}}), []string{"issues[0].text"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.agent.Do(t, http.MethodPost, wkRecordPath(c.task), c.body)
			wkStatus(t, r, http.StatusUnprocessableEntity)
			got := wkErrFields(t, r)
			for _, f := range c.fields {
				if !slices.Contains(got, f) {
					t.Fatalf("fields %v lack %s\n%s", got, f, r.Body)
				}
			}
		})
	}
	// Nothing was written by the refused records.
	v := e.agent.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d", phone.ID), nil)
	wkStatus(t, v, http.StatusOK)
	var view revisit.RecordView
	if err := json.Unmarshal(v.Body, &view); err != nil {
		t.Fatal(err)
	}
	if len(view.Records) != 0 || view.Task.Status != revisit.StatusOpen {
		t.Fatalf("refused records left traces: %+v", view)
	}

	// The complete phone record closes the task; it is marked as a phone visit.
	done := 0
	e.rv.OnDone(func(_ context.Context, v revisit.VisitDone) error {
		if v.TaskID == phone.ID && v.Satisfaction == 4 && v.Reached {
			done++
		}
		return nil
	})
	r := e.agent.Do(t, http.MethodPost, wkRecordPath(phone.ID), full)
	wkStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &view); err != nil {
		t.Fatal(err)
	}
	if view.Task.Status != revisit.StatusDone || len(view.Records) != 1 || !view.Records[0].Phone || view.Records[0].Signed {
		t.Fatalf("after a phone visit: %s", r.Body)
	}
	if done != 1 {
		t.Fatalf("done listeners called %d times", done)
	}
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(phone.ID), full), http.StatusConflict)

	// The on-site record keeps the signature, served as a PNG to those who reach the task.
	r = e.agent.Do(t, http.MethodPost, wkRecordPath(onsite.ID), wkWith(full, "method", "onsite", "signature", sig))
	wkStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &view); err != nil {
		t.Fatal(err)
	}
	if !view.Records[0].Signed || view.Records[0].Phone {
		t.Fatalf("on-site record: %s", r.Body)
	}
	img := e.agent.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d/signature", onsite.ID), nil)
	wkStatus(t, img, http.StatusOK)
	if ct := img.Header.Get("Content-Type"); ct != "image/png" || img.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("signature served as %q", ct)
	}
	if _, err := png.Decode(bytes.NewReader(img.Body)); err != nil {
		t.Fatalf("signature is not a PNG: %v", err)
	}
	other := e.srv.As(t, "agent@other")
	wkStatus(t, other.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d/signature", onsite.ID), nil), http.StatusNotFound)
	wkStatus(t, other.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d", onsite.ID), nil), http.StatusNotFound)
	wkStatus(t, other.Do(t, http.MethodPost, wkRecordPath(onsite.ID), full), http.StatusNotFound)
	// A phone task has no signature.
	wkStatus(t, e.agent.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d/signature", phone.ID), nil), http.StatusNotFound)
}

// TestRecordMultipartSignature: the signature may come as a file part.
func TestRecordMultipartSignature(t *testing.T) {
	e := newWorkEnv(t)
	tk := e.task(t, "visit_plain", revisit.MethodOnsite, revisit.LevelGeneral)
	send := func(sig []byte) *apptest.Response {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		js, _ := json.Marshal(e.reached(revisit.MethodOnsite, 5))
		pw, _ := mw.CreateFormField("record")
		_, _ = pw.Write(js)
		fw, _ := mw.CreateFormFile("signature", "sig.png")
		_, _ = fw.Write(sig)
		_ = mw.Close()
		return e.agent.DoWithHeaders(t, http.MethodPost, wkRecordPath(tk.ID), b.Bytes(),
			map[string]string{"Content-Type": mw.FormDataContentType()})
	}
	wkStatus(t, send([]byte("GIF89a not a png")), http.StatusUnprocessableEntity)
	wkStatus(t, send(wkSignaturePNG(t, 10, 10)), http.StatusUnprocessableEntity)    // too small
	wkStatus(t, send(wkSignaturePNG(t, 2100, 100)), http.StatusUnprocessableEntity) // too wide
	r := send(wkSignaturePNG(t, 300, 120))
	wkStatus(t, r, http.StatusOK)
	img := e.agent.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/revisits/%d/signature", tk.ID), nil)
	wkStatus(t, img, http.StatusOK)
	cfg, err := png.DecodeConfig(bytes.NewReader(img.Body))
	if err != nil || cfg.Width != 300 || cfg.Height != 120 {
		t.Fatalf("stored signature %+v %v", cfg, err)
	}
}

// TestRetriesThenUnreached: each unreached call is an attempt with a retry on the
// schedule, outside the quiet hours; after the last step the task is unreached with
// its attempts kept. The schedule is editable.
func TestRetriesThenUnreached(t *testing.T) {
	e := newWorkEnv(t)
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	var view revisit.RecordView
	steps := len(revisit.DefaultRetrySteps)
	for i := 1; i <= steps+1; i++ {
		r := e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.unreached("phone"))
		wkStatus(t, r, http.StatusOK)
		if err := json.Unmarshal(r.Body, &view); err != nil {
			t.Fatal(err)
		}
		if view.Task.Attempts != i || len(view.Attempts) != i {
			t.Fatalf("attempt %d: %s", i, r.Body)
		}
		if i <= steps {
			next := view.Task.NextAttemptAt
			if view.Task.Status != revisit.StatusOpen || next == nil || !next.After(e.now()) {
				t.Fatalf("attempt %d: no retry scheduled: %s", i, r.Body)
			}
			in, err := e.rv.InDND(apptest.SystemCtx(), e.cust, *next)
			if err != nil || in {
				t.Fatalf("retry %v inside the quiet hours (%v)", next, err)
			}
			if i == 1 && next.Sub(e.now()) < 2*time.Hour {
				t.Fatalf("first retry %v is sooner than +2h", next)
			}
		} else if view.Task.Status != revisit.StatusUnreached || view.Task.NextAttemptAt != nil {
			t.Fatalf("after the last step: %s", r.Body)
		}
	}
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.unreached("phone")), http.StatusConflict)

	// An administrator shortens the schedule to one step.
	admin := e.srv.As(t, "admin")
	wkStatus(t, admin.Do(t, http.MethodPut, "/api/v1/revisit-retry-schedule", map[string]any{"steps": []string{"+3x"}}),
		http.StatusUnprocessableEntity)
	wkStatus(t, e.agent.Do(t, http.MethodPut, "/api/v1/revisit-retry-schedule", map[string]any{"steps": []string{"+1h"}}),
		http.StatusForbidden)
	wkStatus(t, admin.Do(t, http.MethodPut, "/api/v1/revisit-retry-schedule", map[string]any{"steps": []string{"+1wd"}}),
		http.StatusOK)
	tk2 := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.agent.Do(t, http.MethodPost, wkRecordPath(tk2.ID), e.unreached("phone")), http.StatusOK)
	r := e.agent.Do(t, http.MethodPost, wkRecordPath(tk2.ID), e.unreached("phone"))
	wkStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &view); err != nil {
		t.Fatal(err)
	}
	if view.Task.Status != revisit.StatusUnreached || view.Task.Attempts != 2 {
		t.Fatalf("one-step schedule: %s", r.Body)
	}
}
