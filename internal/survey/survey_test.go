package survey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/survey"
)

// A resolved request of a customer with an email address gets one invitation, sent by
// email at the configured delay (2 h) and never before; its link takes one answer.
func TestInviteAfterResolveAndAnswerOnce(t *testing.T) {
	e := newEnv(t)
	dept := e.s.Dept(t, "svc", "Service")
	agent := e.s.Staff(t, "agent_svc", "agent", "svc")
	c := e.customer(t, "李雷", "lilei@example.com", "")
	tk := e.resolved(t, c.ID, dept.ID, agent.ID)

	invs := e.invites(t, survey.InviteFilter{TicketID: tk.ID})
	if len(invs) != 1 {
		t.Fatalf("%d invitations after resolving, want 1", len(invs))
	}
	inv := invs[0]
	if inv.Status != survey.StatusPending || inv.Channel != survey.ChannelEmail || inv.Source != survey.SourceTicket ||
		inv.AgentID != agent.ID || inv.TicketType != "repair" || inv.CustomerID != c.ID {
		t.Fatalf("invitation %+v", inv)
	}
	if got := inv.DueAt.Sub(tk.ResolvedAt); got != 2*time.Hour {
		t.Errorf("due %v after resolving, want 2h", got)
	}
	if got := inv.SendBy.Sub(tk.ResolvedAt); got != 72*time.Hour {
		t.Errorf("send window %v, want 72h (within 3 days)", got)
	}

	// Reopened and resolved again: still one survey for the request.
	if _, err := e.s.App.Ticket.Reopen(sys(), tk.ID, "not fixed"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.App.Ticket.Transition(sys(), tk.ID, "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if n := len(e.invites(t, survey.InviteFilter{TicketID: tk.ID})); n != 1 {
		t.Fatalf("%d invitations after resolving twice, want 1", n)
	}

	if n := e.sendDue(t); n != 0 || len(e.mail.all()) != 0 {
		t.Fatalf("sent %d (%d mails) before the due time", n, len(e.mail.all()))
	}
	e.s.Clock.Advance(2 * time.Hour)
	if n := e.sendDue(t); n != 1 {
		t.Fatalf("sent %d at the due time, want 1", n)
	}
	mails := e.mail.all()
	if len(mails) != 1 || mails[0].To[0] != "lilei@example.com" {
		t.Fatalf("mails %+v", mails)
	}
	token := tokenIn(t, mails[0].Text)
	inv = e.invite(t, inv.ID)
	if inv.Status != survey.StatusSent || inv.ExpiresAt.Sub(inv.SentAt) != 7*24*time.Hour {
		t.Fatalf("after sending: %+v", inv)
	}
	var stored int
	if err := e.s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM survey_invites WHERE token_hash = ?`, token).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("the raw token is stored (%d, %v)", stored, err)
	}

	v := e.visitor()
	// A required question left out: 422, the form again with the error and the given values.
	form := v.answerForm(t, token, url.Values{"q_csat": {"4"}})
	p := v.post(t, "/s/"+token, form)
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-nps"`) || !strings.Contains(p.body, `value="4" id="q_csat_4" checked`) {
		t.Fatalf("incomplete answer: %d\n%s", p.status, p.body)
	}
	// Without the form's token: refused, nothing stored.
	p = v.post(t, "/s/"+token, url.Values{"q_csat": {"5"}, "q_nps": {"10"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("answer without the form token: %d", p.status)
	}
	form = v.answerForm(t, token, url.Values{"q_csat": {"4"}, "q_nps": {"9"}, "q_comment": {"师傅很准时"}})
	p = v.post(t, "/s/"+token, form)
	if p.status != http.StatusSeeOther || p.loc != "/s/"+token {
		t.Fatalf("answer: %d %q\n%s", p.status, p.loc, p.body)
	}
	if p = v.get(t, "/s/"+token); p.status != http.StatusOK || !strings.Contains(p.body, `id="survey-done"`) {
		t.Fatalf("after answering: %d\n%s", p.status, p.body)
	}
	// A second answer through the same link: 409 with the friendly page.
	p = e.visitor().post(t, "/s/"+token, form)
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="survey-done"`) {
		t.Fatalf("second answer: %d\n%s", p.status, p.body)
	}
	inv, resp, err := e.svc.Get(sys(), inv.ID)
	if err != nil || inv.Status != survey.StatusAnswered || resp == nil || resp.CSAT == nil || *resp.CSAT != 4 ||
		resp.NPS == nil || *resp.NPS != 9 || resp.CES != nil || len(resp.Answers) != 3 || resp.Channel != survey.ChannelEmail {
		t.Fatalf("answered invitation %+v, response %+v, %v", inv, resp, err)
	}
}

// The link is refused after its time (410 and the expired page); a guessed, altered or
// malformed token reads exactly like an unknown one (404).
func TestPublicLinkExpiredAlteredUnknown(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "韩梅梅", "hmm@example.com", "")
	e.resolved(t, c.ID, 0, 0)
	e.s.Clock.Advance(3 * time.Hour)
	e.sendDue(t)
	token := tokenIn(t, e.mail.all()[0].Text)
	v := e.visitor()

	notFound := v.get(t, "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if notFound.status != http.StatusNotFound || !strings.Contains(notFound.body, `id="survey-notfound"`) {
		t.Fatalf("unknown token: %d\n%s", notFound.status, notFound.body)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, path := range map[string]string{
		"altered first": "/s/" + flip(token, 0), "altered last": "/s/" + flip(token, len(token)-1),
		"shortened": "/s/" + token[:42], "longer": "/s/" + token + "A", "bad characters": "/s/" + token[:40] + "%2B%2F%3D",
	} {
		p := v.get(t, path)
		if p.status != http.StatusNotFound || p.body != notFound.body {
			t.Errorf("%s token: %d, not the unknown-token page\n%s", name, p.status, p.body)
		}
		if p := v.post(t, path, url.Values{"q_csat": {"5"}}); p.status != http.StatusNotFound {
			t.Errorf("%s token, POST: %d", name, p.status)
		}
	}

	form := v.answerForm(t, token, url.Values{"q_csat": {"2"}, "q_nps": {"3"}})
	e.s.Clock.Advance(7*24*time.Hour + time.Minute)
	if p := v.get(t, "/s/"+token); p.status != http.StatusGone || !strings.Contains(p.body, `id="survey-expired"`) {
		t.Fatalf("expired link: %d\n%s", p.status, p.body)
	}
	if p := v.post(t, "/s/"+token, form); p.status != http.StatusGone {
		t.Fatalf("answer through an expired link: %d", p.status)
	}
	e.sendDue(t) // the sweep marks it expired
	invs := e.invites(t, survey.InviteFilter{CustomerID: c.ID})
	if len(invs) != 1 || invs[0].Status != survey.StatusExpired {
		t.Fatalf("after the sweep: %+v", invs)
	}
}

// A return visit that reached the customer gives an invitation (the revisit OnDone
// listener, called here as H2's record would, inside a transaction); one that did not
// reach them gives none, and the same task gives one only.
func TestInviteAfterRevisit(t *testing.T) {
	e := newEnv(t)
	dept := e.s.Dept(t, "rv", "Revisit center")
	agent := e.s.Staff(t, "agent_rv", "agent", "rv")
	c := e.customer(t, "王芳", "wf@example.com", "")
	done := func(v revisit.VisitDone) {
		t.Helper()
		if err := e.s.App.DB.WithTx(sys(), func(ctx context.Context) error { return e.svc.HandleVisitDone(ctx, v) }); err != nil {
			t.Fatalf("visit done: %v", err)
		}
	}
	done(revisit.VisitDone{TaskID: 41, CustomerID: c.ID, AssigneeID: agent.ID, DeptID: dept.ID, Method: "phone",
		Reached: false, At: e.s.Clock.Now()})
	if n := len(e.invites(t, survey.InviteFilter{CustomerID: c.ID})); n != 0 {
		t.Fatalf("%d invitations for an unreached visit", n)
	}
	v := revisit.VisitDone{TaskID: 42, CustomerID: c.ID, AssigneeID: agent.ID, DeptID: dept.ID, Method: "phone",
		Reached: true, Satisfaction: 5, At: e.s.Clock.Now()}
	done(v)
	done(v)
	invs := e.invites(t, survey.InviteFilter{CustomerID: c.ID})
	if len(invs) != 1 || invs[0].Source != survey.SourceRevisit || invs[0].RevisitTaskID != 42 ||
		invs[0].AgentID != agent.ID || invs[0].DeptID != dept.ID || invs[0].Status != survey.StatusPending {
		t.Fatalf("invitations %+v", invs)
	}
	// Switched off in the settings: nothing more.
	off, version := false, int64(0)
	if _, err := e.svc.UpdateSettings(sys(), survey.SettingsInput{AfterRevisit: &off, Version: &version}); err != nil {
		t.Fatal(err)
	}
	done(revisit.VisitDone{TaskID: 43, CustomerID: c.ID, Reached: true, At: e.s.Clock.Now()})
	if n := len(e.invites(t, survey.InviteFilter{CustomerID: c.ID})); n != 1 {
		t.Fatalf("%d invitations with after_revisit off, want 1", n)
	}
}

// SMS: without a provider the invitation is marked unsendable (with the reason); with
// one, the text carries the link.
func TestSMSInvitation(t *testing.T) {
	e := newEnv(t)
	version := int64(0)
	if _, err := e.svc.UpdateSettings(sys(), survey.SettingsInput{Channels: []survey.Channel{survey.ChannelSMS},
		Version: &version}); err != nil {
		t.Fatal(err)
	}
	c := e.customer(t, "张伟", "", testMobile())
	// The provider is missing when the request is resolved: the portal is chosen instead.
	e.resolved(t, c.ID, 0, 0)
	if invs := e.invites(t, survey.InviteFilter{CustomerID: c.ID}); len(invs) != 1 || invs[0].Channel != survey.ChannelPortal {
		t.Fatalf("without a provider: %+v", invs)
	}
	// An SMS invitation whose provider went away by the send time: unsendable.
	e.svc.SetSenders(e.mail, e.sms)
	c2 := e.customer(t, "赵敏", "", testMobile())
	e.resolved(t, c2.ID, 0, 0)
	e.svc.SetSenders(e.mail, nil)
	e.s.Clock.Advance(3 * time.Hour)
	e.sendDue(t)
	invs := e.invites(t, survey.InviteFilter{CustomerID: c2.ID})
	if len(invs) != 1 || invs[0].Channel != survey.ChannelSMS || invs[0].Status != survey.StatusUnsendable || invs[0].FailReason != "sms_unavailable" {
		t.Fatalf("without a provider at send time: %+v", invs)
	}
	// With a provider: sent, the text names the link.
	e.svc.SetSenders(e.mail, e.sms)
	c3 := e.customer(t, "周杰", "", testMobile())
	e.resolved(t, c3.ID, 0, 0)
	e.s.Clock.Advance(3 * time.Hour)
	e.sendDue(t)
	if len(e.sms.sent) != 1 || !strings.Contains(e.sms.sent[0].text, "/s/") || !strings.HasPrefix(e.sms.sent[0].text, "尊敬的贵宾") {
		t.Fatalf("SMS %+v", e.sms.sent)
	}
	// The portal invitation of the first customer is open on the portal with a fresh link.
	pend, err := e.svc.PendingForCustomer(context.Background(), c.ID)
	if err != nil || len(pend) != 1 || !strings.HasPrefix(pend[0].Link, "/s/") {
		t.Fatalf("portal invitations %+v, %v", pend, err)
	}
	if p := e.visitor().get(t, pend[0].Link); p.status != http.StatusOK {
		t.Fatalf("portal link: %d", p.status)
	}
}

// Phone surveys: an agent creates one and keys in the answers; a second keying is 409.
func TestPhoneKeyIn(t *testing.T) {
	e := newEnv(t)
	agent := e.s.As(t, "agent@svc")
	c := e.customer(t, "陈晨", "", "")
	tk := e.resolved(t, c.ID, agent.Staff.DeptID, agent.Staff.ID)
	r := agent.Do(t, "POST", "/api/v1/surveys", map[string]any{"ticket_id": tk.ID, "channel": "phone"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var inv struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(r.Body, &inv)
	if inv.Status != "sent" {
		t.Fatalf("phone invitation %s", r.Body)
	}
	path := "/api/v1/surveys/" + itoa(inv.ID) + "/answers"
	bad := agent.Do(t, "POST", path, map[string]any{"answers": map[string]any{"csat": 6, "nps": 9}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), "answers.csat") {
		t.Fatalf("score out of range: %d %s", bad.Status, bad.Body)
	}
	ok := agent.Do(t, "POST", path, map[string]any{"answers": map[string]any{"csat": 5, "nps": 10, "comment": "很满意"}})
	if ok.Status != http.StatusOK || !strings.Contains(string(ok.Body), `"status":"answered"`) ||
		!strings.Contains(string(ok.Body), `"keyed_by":`+itoa(agent.Staff.ID)) {
		t.Fatalf("key in: %d %s", ok.Status, ok.Body)
	}
	if again := agent.Do(t, "POST", path, map[string]any{"answers": map[string]any{"csat": 1, "nps": 0}}); again.Status != http.StatusConflict {
		t.Fatalf("second keying: %d %s", again.Status, again.Body)
	}
	// Another team's agent does not see it (404), the supervisor of the department does.
	if r := e.s.As(t, "agent@other").Do(t, "GET", "/api/v1/surveys/"+itoa(inv.ID), nil); r.Status != http.StatusNotFound {
		t.Fatalf("other department's agent: %d", r.Status)
	}
	if r := e.s.As(t, "supervisor@svc").Do(t, "GET", "/api/v1/surveys/"+itoa(inv.ID), nil); r.Status != http.StatusOK {
		t.Fatalf("department supervisor: %d %s", r.Status, r.Body)
	}
}

// Results: CSAT average and distribution, NPS the standard way, CES, response rate.
func TestResults(t *testing.T) {
	e := newEnv(t)
	qa := e.s.As(t, "qa")
	c := e.customer(t, "刘洋", "", "")
	tpl, err := e.svc.CreateTemplate(sys(), survey.TemplateInput{Name: "CES", Questions: []survey.Question{
		{Key: "csat", Kind: survey.KindCSAT, Text: "满意吗", Required: true},
		{Key: "nps", Kind: survey.KindNPS, Text: "推荐吗", Required: true},
		{Key: "ces", Kind: survey.KindCES, Text: "费力吗"}}})
	if err != nil {
		t.Fatal(err)
	}
	answers := []map[string]any{{"csat": 5, "nps": 10, "ces": 2}, {"csat": 4, "nps": 9, "ces": 4}, {"csat": 2, "nps": 3},
		{"csat": 5, "nps": 7}}
	for _, a := range answers {
		inv, err := e.svc.Create(sys(), survey.CreateInput{CustomerID: c.ID, TemplateID: tpl.ID, Channel: survey.ChannelPhone})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(a)
		if _, _, err := e.svc.KeyIn(sys(), inv.ID, survey.KeyInInput{Answers: raw}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Create(sys(), survey.CreateInput{CustomerID: c.ID, TemplateID: tpl.ID, Channel: survey.ChannelPhone}); err != nil {
		t.Fatal(err) // one not answered
	}
	r := qa.Do(t, "GET", "/api/v1/survey-results?group=channel", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("results: %d %s", r.Status, r.Body)
	}
	var res survey.Results
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	tot := res.Total
	if tot.Invited != 5 || tot.Answered != 4 || *tot.ResponseRate != 80 || *tot.CSAT.Average != 4 ||
		tot.CSAT.Distribution != [5]int{0, 1, 0, 1, 2} || *tot.CSAT.Satisfied != 75 || *tot.NPS.Score != 25 ||
		tot.NPS.Promoters != 2 || tot.NPS.Detractors != 1 || *tot.CES.Average != 3 || tot.CES.Responses != 2 {
		t.Fatalf("total %+v", tot)
	}
	if len(res.Groups) != 1 || res.Groups[0].Key != "phone" {
		t.Fatalf("groups %+v", res.Groups)
	}
	for _, g := range []string{"agent", "team", "type", "period"} {
		if r := qa.Do(t, "GET", "/api/v1/survey-results?group="+g+"&from=2026-10-01&to=2026-12-01", nil); r.Status != http.StatusOK {
			t.Errorf("group %s: %d %s", g, r.Status, r.Body)
		}
	}
	if r := qa.Do(t, "GET", "/api/v1/survey-results?group=colour", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown group: %d", r.Status)
	}
	if r := qa.Do(t, "GET", "/surveys", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="results-total"`) {
		t.Errorf("results page: %d", r.Status)
	}
}

// Templates through the API: validation, the default template rule, versions.
func TestTemplateAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.s.As(t, "admin")
	r := admin.Do(t, "GET", "/api/v1/survey-templates", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"is_default":true`) {
		t.Fatalf("seeded default template: %d %s", r.Status, r.Body)
	}
	bad := admin.Do(t, "POST", "/api/v1/survey-templates", map[string]any{"name": "x", "questions": []map[string]any{
		{"key": "Q1", "kind": "csat", "text": "a"}, {"key": "c", "kind": "single", "text": "b", "options": []string{"one"}}}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), "questions[0].key") ||
		!strings.Contains(string(bad.Body), "questions[1].options") {
		t.Fatalf("invalid template: %d %s", bad.Status, bad.Body)
	}
	good := admin.Do(t, "POST", "/api/v1/survey-templates", map[string]any{"name": "回访后调查", "is_default": true,
		"questions": []map[string]any{{"key": "ces", "kind": "ces", "text": "办理是否方便？", "required": true},
			{"key": "what", "kind": "multiple", "text": "哪些方面好？", "options": []string{"态度", "速度", "质量"}}}})
	if good.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", good.Status, good.Body)
	}
	var tpl survey.Template
	_ = json.Unmarshal(good.Body, &tpl)
	// The seeded template is no longer the default; the new one cannot be switched off.
	if r := admin.Do(t, "GET", "/api/v1/survey-templates/1", nil); !strings.Contains(string(r.Body), `"is_default":false`) {
		t.Fatalf("old default: %s", r.Body)
	}
	path := "/api/v1/survey-templates/" + itoa(tpl.ID)
	if r := admin.Do(t, "PATCH", path, map[string]any{"active": false, "version": tpl.Version}); r.Status != http.StatusConflict {
		t.Fatalf("switch the default off: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "PATCH", path, map[string]any{"name": "x"}); r.Status != http.StatusPreconditionRequired {
		t.Fatalf("patch without version: %d", r.Status)
	}
	if r := admin.DoWithHeaders(t, "PATCH", path, map[string]any{"name": "x"}, map[string]string{"If-Match": `"987654"`}); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "version_conflict") {
		t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
	}
	if r := admin.DoWithHeaders(t, "PATCH", path, map[string]any{"name": "回访后满意度"}, map[string]string{"If-Match": `"` + itoa(tpl.Version) + `"`}); r.Status != http.StatusOK || r.Header.Get("ETag") != `"`+itoa(tpl.Version+1)+`"` {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "PATCH", path, map[string]any{"name": "y", "version": tpl.Version}); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "version_conflict") {
		t.Fatalf("stale version: %d", r.Status)
	}
	if r := admin.Do(t, "GET", "/surveys/templates", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "回访后满意度") {
		t.Fatalf("templates page: %d", r.Status)
	}
}

// Settings: validation and versions.
func TestSettings(t *testing.T) {
	e := newEnv(t)
	admin := e.s.As(t, "admin")
	r := admin.Do(t, "GET", "/api/v1/survey-settings", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"send_window":"72h"`) {
		t.Fatalf("defaults: %d %s", r.Status, r.Body)
	}
	for _, body := range []map[string]any{
		{"send_window": "0h", "version": 0}, {"send_delay": "5d", "version": 0}, {"link_ttl": "soon", "version": 0},
		{"channels": []string{"phone"}, "version": 0}, {"channels": []string{"email", "email"}, "version": 0},
		{"template_id": 999, "version": 0},
	} {
		if r := admin.Do(t, "PUT", "/api/v1/survey-settings", body); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	r = admin.Do(t, "PUT", "/api/v1/survey-settings", map[string]any{"send_delay": "1d", "link_ttl": "14d", "version": 0})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"version":1`) {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	if r := admin.Do(t, "PUT", "/api/v1/survey-settings", map[string]any{"send_delay": "2h", "version": 0}); r.Status != http.StatusConflict {
		t.Fatalf("stale: %d", r.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The invitation recorded in the resolving transaction carries its own send job, due
// at the send time: the job runner (on the fake clock) sends it then and not before.
func TestSendJobRunsAtDueTime(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "吴静", "wujing@example.com", "")
	e.resolved(t, c.ID, 0, 0)
	run := func() {
		t.Helper()
		if _, err := e.s.App.Jobs.RunDue(context.Background()); err != nil {
			t.Logf("other jobs: %v", err) // the survey's outcome is checked below
		}
	}
	run()
	if n := len(e.mail.all()); n != 0 {
		t.Fatalf("%d mails before the due time", n)
	}
	e.s.Clock.Advance(2*time.Hour + time.Second)
	run()
	if m := e.mail.all(); len(m) != 1 || m[0].To[0] != "wujing@example.com" || !strings.Contains(m[0].Text, "/s/") {
		t.Fatalf("mails at the due time: %+v", m)
	}
	if invs := e.invites(t, survey.InviteFilter{CustomerID: c.ID}); len(invs) != 1 || invs[0].Status != survey.StatusSent {
		t.Fatalf("invitations %+v", invs)
	}
}

// The staff page of a survey: an agent keys in the phone answers through its form
// (422 with the form again when a required answer is missing), then sees them.
func TestDetailPageKeyIn(t *testing.T) {
	e := newEnv(t)
	agent := e.s.As(t, "agent@svc")
	c := e.customer(t, "郑爽", "", "")
	tk := e.resolved(t, c.ID, agent.Staff.DeptID, agent.Staff.ID)
	inv, err := e.svc.Create(sys(), survey.CreateInput{TicketID: tk.ID, Channel: survey.ChannelPhone})
	if err != nil {
		t.Fatal(err)
	}
	br := e.s.Browser(t, agent.Staff.Username, "Test-Passw0rd!")
	path := "/surveys/" + itoa(inv.ID)
	if r := br.Do(t, "GET", path, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="keyin-form"`) {
		t.Fatalf("detail page: %d\n%s", r.Status, r.Body)
	}
	if r := br.PostForm(t, path+"/answers", url.Values{"q_nps": {"8"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), `id="err-csat"`) || !strings.Contains(string(r.Body), `id="q_nps_8" checked`) {
		t.Fatalf("incomplete form: %d\n%s", r.Status, r.Body)
	}
	if r := br.PostForm(t, path+"/answers", url.Values{"q_csat": {"3"}, "q_nps": {"8"}, "q_comment": {"等待时间有点长"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("key in: %d\n%s", r.Status, r.Body)
	}
	r := br.Do(t, "GET", path, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="survey-answers"`) || !strings.Contains(string(r.Body), "等待时间有点长") ||
		strings.Contains(string(r.Body), `id="keyin-form"`) {
		t.Fatalf("answered detail page: %d\n%s", r.Status, r.Body)
	}
	if r := br.PostForm(t, path+"/answers", url.Values{"q_csat": {"5"}, "q_nps": {"10"}}); r.Status != http.StatusConflict {
		t.Fatalf("second key-in through the page: %d", r.Status)
	}
	// Out of reach: another department's agent gets the 404 page.
	if r := e.s.As(t, "agent@other").Do(t, "GET", path, nil); r.Status != http.StatusNotFound {
		t.Fatalf("other department: %d", r.Status)
	}
}
