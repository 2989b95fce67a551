package customer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// TestPages drives the customer pages with real browser sessions: masking, inline
// field errors, reveal with a reason, edit without echoing personal data, contacts and
// scope.
func TestPages(t *testing.T) {
	s := apptest.New(t)
	s.As(t, "supervisor")
	s.As(t, "qa")
	s.As(t, "agent@other")
	sup := s.Browser(t, "supervisor_cs", apptest.Password)
	qa := s.Browser(t, "qa_cs", apptest.Password)
	other := s.Browser(t, "agent_other", apptest.Password)
	g := newIDs(6)
	mob, id := "13912348765", g.resident()

	has := func(t *testing.T, r *apptest.Response, status int, want []string, not []string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
		}
		for _, w := range want {
			if !bytes.Contains(r.Body, []byte(w)) {
				t.Errorf("page lacks %q", w)
			}
		}
		for _, n := range not {
			if bytes.Contains(r.Body, []byte(n)) {
				t.Errorf("page has %q", n)
			}
		}
	}

	if r := s.Anonymous().Do(t, "GET", "/customers", nil); r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous list: %d %s", r.Status, r.Header.Get("Location"))
	}
	has(t, sup.Do(t, "GET", "/customers/new", nil), 200, []string{`id="customer-form"`, `name="mobile"`}, nil)

	// Inline field errors; nothing stored.
	form := url.Values{"kind": {"person"}, "name": {"Page Customer"}, "mobile": {"1391234"}, "id_number": {"110105194912310022"},
		"province": {"Beijing"}, "city": {"Beijing"}, "district": {"Haidian"}, "address": {"Zhongguancun Street 1"}}
	has(t, sup.PostForm(t, "/customers", form), 422, []string{`id="err-mobile"`, `id="err-id_number"`, `value="Page Customer"`}, nil)
	if n := countCustomers(t, s); n != 0 {
		t.Fatalf("%d customers stored after a refused form", n)
	}
	form.Set("mobile", mob)
	form.Set("id_number", id)
	r := sup.PostForm(t, "/customers", form)
	if r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/customers/") {
		t.Fatalf("create: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	detail := r.Header.Get("Location")

	// Duplicate from the form: 409 with a link to the existing file.
	has(t, sup.PostForm(t, "/customers", url.Values{"kind": {"person"}, "name": {"Twin"}, "mobile": {mob}}), 409,
		[]string{`id="duplicate-link"`, `id="err-mobile"`}, nil)

	before := s.AuditSeq(t)
	has(t, sup.Do(t, "GET", "/customers", nil), 200, []string{"Page Customer", "139****8765", "Beijing"}, []string{mob, "Zhongguancun"})
	if !s.AuditSince(t, before, "customer.list") {
		t.Error("list page wrote no customer.list entry")
	}
	before = s.AuditSeq(t)
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"139****8765", id[:3] + "***********" + id[14:], `id="reveal-form"`, "****"},
		[]string{mob, id, "Zhongguancun"})
	if !s.AuditSince(t, before, "customer.read") {
		t.Error("detail page wrote no customer.read entry")
	}
	has(t, sup.Do(t, "GET", "/customers?q=8765", nil), 200, []string{"Page Customer"}, nil)

	// Reveal: a reason is required; then the clear values show and the reveal is audited.
	has(t, sup.PostForm(t, detail+"/reveal", url.Values{"fields": {"mobile"}}), 422, []string{`id="err-reason"`}, []string{mob})
	before = s.AuditSeq(t)
	has(t, sup.PostForm(t, detail+"/reveal", url.Values{"fields": {"mobile", "address"}, "reason": {"callback"}}), 200,
		[]string{mob, "Zhongguancun Street 1", `id="revealed-note"`}, []string{id})
	if !s.AuditSince(t, before, "customer.reveal") {
		t.Error("reveal page wrote no customer.reveal entry")
	}

	// Edit never echoes personal data; an empty sensitive input keeps the value.
	has(t, sup.Do(t, "GET", detail+"/edit", nil), 200, []string{`value="Page Customer"`, `placeholder="139****8765"`}, []string{mob, id, "Zhongguancun"})
	edit := url.Values{"kind": {"person"}, "name": {"Renamed Customer"}, "mobile": {""}, "version": {"1"}, "facts_present": {"1"}}
	if r := sup.PostForm(t, detail, edit); r.Status != 303 {
		t.Fatalf("update: %d\n%s", r.Status, r.Body)
	}
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"Renamed Customer", "139****8765"}, nil)
	edit.Set("name", "Stale")
	has(t, sup.PostForm(t, detail, edit), 409, []string{`id="form-message"`}, nil)

	// Contacts.
	has(t, sup.PostForm(t, detail+"/contacts", url.Values{"name": {""}, "mobile": {"12"}}), 422, []string{`id="err-ct-name"`, `id="err-ct-mobile"`}, nil)
	if r := sup.PostForm(t, detail+"/contacts", url.Values{"name": {"Zhao Liu"}, "mobile": {"18800001234"}, "is_key_person": {"1"}}); r.Status != 303 {
		t.Fatalf("add contact: %d\n%s", r.Status, r.Body)
	}
	has(t, sup.Do(t, "GET", detail, nil), 200, []string{"Zhao Liu", "188****1234"}, []string{"18800001234"})
	// Deleting the contact from the page goes back to the file, without the contact.
	var list struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(sup.Do(t, "GET", "/api/v1"+detail+"/contacts", nil).Body, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("contacts: %v %+v", err, list)
	}
	if r := sup.PostForm(t, fmt.Sprintf("%s/contacts/%d/delete", detail, list.Items[0].ID), url.Values{}); r.Status != 303 ||
		!strings.HasSuffix(r.Header.Get("Location"), detail+"#contacts") {
		t.Fatalf("delete contact: %d %q", r.Status, r.Header.Get("Location"))
	}
	has(t, sup.Do(t, "GET", detail, nil), 200, nil, []string{"Zhao Liu"})

	// qa reads masked, without a reveal form or edit link; another department gets 404.
	has(t, qa.Do(t, "GET", detail, nil), 200, []string{"139****8765"}, []string{`id="reveal-form"`, `id="customer-edit"`, mob})
	has(t, qa.PostForm(t, detail+"/reveal", url.Values{"fields": {"mobile"}, "reason": {"curious"}}), 403, nil, []string{mob})
	has(t, other.Do(t, "GET", detail, nil), 404, nil, []string{"Renamed"})
	has(t, other.Do(t, "GET", detail+"/edit", nil), 404, nil, nil)
	edit.Del("csrf_token")
	has(t, other.PostForm(t, detail, edit), 404, nil, nil)
	has(t, other.Do(t, "GET", "/customers", nil), 200, nil, []string{"Renamed"})
	// Without CSRF token a form post is refused.
	bad := url.Values{"csrf_token": {"nope"}, "name": {"x"}}
	if r := sup.PostForm(t, detail+"/contacts", bad); r.Status != 403 {
		t.Fatalf("post without a valid CSRF token: %d", r.Status)
	}
}
