package portal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// TestPublicLetters: the portal shows published public letters to anyone, never a draft.
func TestPublicLetters(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	cs := e.s.App.Complaint
	sys := apptest.SystemCtx()
	c, err := cs.Create(sys, ticket.Input{Channel: ticket.ChannelPhone, Severity: ticket.SeverityGeneral,
		Title: "Water cut in block 3", Body: "No water for two days"})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cs.DraftLetter(sys, complaint.LetterInput{Title: "About the water cut in block 3",
		Body: "A burst main caused the cut; it is repaired.", ComplaintIDs: []int64{c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ApproveLetter(sys, pub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.PublishLetter(sys, pub.ID); err != nil {
		t.Fatal(err)
	}
	draft, err := cs.DraftLetter(sys, complaint.LetterInput{Title: "Unfinished draft on lifts", Body: "Not yet.",
		ComplaintIDs: []int64{c.ID}})
	if err != nil {
		t.Fatal(err)
	}

	list := b.get(t, "/portal/letters")
	if list.status != 200 {
		t.Fatalf("letters: %d\n%s", list.status, list.body)
	}
	if !strings.Contains(list.body, "About the water cut in block 3") ||
		!strings.Contains(list.body, fmt.Sprintf(`href="/portal/letters/%d"`, pub.ID)) {
		t.Errorf("the published letter is not listed:\n%s", list.body)
	}
	if strings.Contains(list.body, "Unfinished draft") {
		t.Error("a draft is listed in the portal")
	}
	if !strings.Contains(list.body, `href="/portal/letters" class="active"`) {
		t.Error("no active navigation entry for the letters")
	}
	e.s.App.Portal.SetLetters(nil)
	if p := b.get(t, "/portal/letters"); p.status != 404 || strings.Contains(p.body, `href="/portal/letters"`) {
		t.Errorf("letters without the complaint capability: %d, want 404 without the entry", p.status)
	}
	e.s.App.Portal.SetLetters(cs)
	one := b.get(t, fmt.Sprintf("/portal/letters/%d", pub.ID))
	if one.status != 200 || !strings.Contains(one.body, "A burst main caused the cut; it is repaired.") {
		t.Errorf("published letter page: %d\n%s", one.status, one.body)
	}
	for _, path := range []string{fmt.Sprintf("/portal/letters/%d", draft.ID), "/portal/letters/999999",
		"/portal/letters/x", "/portal/letters?before=-1"} {
		if p := b.get(t, path); p.status != 404 {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
}
