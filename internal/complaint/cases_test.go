package complaint_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
)

// Chinese test words, escaped (no Han characters in Go files).
const (
	caseLeak      = "\u6f0f\u6c34"                                           // a two-character word: water leak
	caseSummary   = "\u7ef4\u4fee\u540e\u6f0f\u6c34\uff0c\u5df2\u8d54\u507f" // repaired, then leaking; compensated
	caseAttitude  = "\u6001\u5ea6"                                           // attitude: in the cause's name only
	caseNotInside = "\u9000\u6b3e"                                           // refund: nowhere
)

func casePath(id int64) string { return fmt.Sprintf("/api/v1/complaints/%d/case", id) }

// caseList reads the case library as c with query q.
func caseList(t *testing.T, c *apptest.Client, q string) []map[string]any {
	t.Helper()
	r := c.Do(t, "GET", "/api/v1/complaint-cases?q="+url.QueryEscape(q), nil)
	if r.Status != 200 {
		t.Fatalf("cases %q: %d %s", q, r.Status, r.Body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// TestCaseMarking: only a closed complaint in reach becomes a case, by those who may
// analyse; marking and unmarking are audited.
func TestCaseMarking(t *testing.T) {
	e := anDataset(t)
	c1, c3 := e.complaints["c1"], e.complaints["c3"]
	body := map[string]any{"summary": caseSummary}
	apptest.Run(t, e.s, []apptest.Scenario{
		{Name: "not closed", As: "supervisor@ana", Method: "POST", Path: casePath(c3.ID), Body: body, Status: 409,
			Has: []string{"complaint_not_closed"}},
		{Name: "agent", As: "agent@ana", Method: "POST", Path: casePath(c1.ID), Body: body, Status: 403},
		{Name: "out of reach", As: "supervisor@anb", Method: "POST", Path: casePath(c1.ID), Body: body, Status: 404},
		{Name: "no summary", As: "supervisor@ana", Method: "POST", Path: casePath(c1.ID), Body: map[string]any{"summary": " "},
			Status: 422, Has: []string{`"summary"`}},
		{Name: "missing", As: "supervisor@ana", Method: "POST", Path: casePath(999999), Body: body, Status: 404},
		{Name: "mark", As: "supervisor@ana", Method: "POST", Path: casePath(c1.ID), Body: body, Status: 200,
			Has: []string{`"is_case":true`}, Audit: "complaint.case.mark"},
		{Name: "agent reads", As: "agent@anb", Method: "GET", Path: "/api/v1/complaint-cases", Status: 200,
			Has: []string{"Water leak after repair", caseSummary}, Not: []string{"customer", e.custX.Name}},
		{Name: "agent may not unmark", As: "agent@ana", Method: "DELETE", Path: casePath(c1.ID), Status: 403},
		{Name: "unmark", As: "director@ana", Method: "DELETE", Path: casePath(c1.ID), Status: 200,
			Has: []string{`"is_case":false`}, Audit: "complaint.case.unmark"},
		{Name: "gone", As: "agent@anb", Method: "GET", Path: "/api/v1/complaint-cases", Status: 200,
			Not: []string{"Water leak after repair"}},
		{Name: "customer", As: "", Method: "GET", Path: "/api/v1/complaint-cases", Status: 401},
	})
	got, err := e.svc.Store().Get(apptest.SystemCtx(), c3.ID)
	if err != nil || got.IsCase || got.Version != c3.Version {
		t.Errorf("the refused marking changed c3: %+v %v", got, err)
	}
}

// TestCaseSearchChinese: a two-character Chinese word of the summary, of the title or
// of the cause's name finds the case; the page shows it too.
func TestCaseSearchChinese(t *testing.T) {
	e := anDataset(t)
	sup := e.s.As(t, "supervisor@ana")
	for _, k := range []string{"c1", "c2"} {
		summary := caseSummary
		if k == "c2" {
			summary = "Late first answer; apologised"
		}
		if r := sup.Do(t, "POST", casePath(e.complaints[k].ID), map[string]any{"summary": summary}); r.Status != 200 {
			t.Fatalf("mark %s: %d %s", k, r.Status, r.Body)
		}
	}
	agent := e.s.As(t, "agent@anb")
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{caseLeak, []string{"c1"}},
		{caseAttitude, []string{"c2", "c1"}}, // both causes are service attitude; newest first
		{"apologised", []string{"c2"}},
		{"leak", []string{"c1"}}, // the title
		{caseNotInside, nil},
	} {
		items := caseList(t, agent, tc.q)
		var got []string
		for _, it := range items {
			for k, c := range e.complaints {
				if int64(it["id"].(float64)) == c.ID {
					got = append(got, k)
				}
			}
			if _, ok := it["customer_id"]; ok {
				t.Errorf("a case must not carry the customer: %v", it)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("q=%q: %v, want %v", tc.q, got, tc.want)
		}
	}
	items := caseList(t, agent, caseLeak)
	if len(items) == 1 && (items[0]["level"] != string(complaint.LevelGeneral) || items[0]["cause"] == "" ||
		items[0]["summary"] != caseSummary) {
		t.Errorf("case view: %v", items[0])
	}
	e.s.Staff(t, "an_case_agent", "agent", "anb")
	b := e.s.Browser(t, "an_case_agent", apptest.Password)
	r := b.Do(t, "GET", "/complaints/cases?q="+url.QueryEscape(caseLeak), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "Water leak after repair") ||
		strings.Contains(string(r.Body), "case-unmark-") {
		t.Errorf("cases page: %d\n%s", r.Status, r.Body)
	}
	// A supervisor unmarks from the page.
	e.s.Staff(t, "an_case_sup", "supervisor", "ana")
	bs := e.s.Browser(t, "an_case_sup", apptest.Password)
	if r := bs.Do(t, "GET", "/complaints/cases", nil); !strings.Contains(string(r.Body), "case-unmark-") {
		t.Errorf("supervisor sees no unmark button: %d", r.Status)
	}
	r = bs.PostForm(t, fmt.Sprintf("/complaints/%d/case/delete", e.complaints["c1"].ID), url.Values{})
	if r.Status >= 400 {
		t.Fatalf("unmark form: %d %s", r.Status, r.Body)
	}
	if items := caseList(t, agent, caseLeak); len(items) != 0 {
		t.Errorf("unmarked case still found: %v", items)
	}
}
