package customer_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// TestCustomerPageShowsCooperationsMasked: the customer page lists the agreements masked,
// even to a holder of cooperation:reveal (the clear text is for the audited API), and
// not at all to a role without cooperation:read.
func TestCustomerPageShowsCooperationsMasked(t *testing.T) {
	s := apptest.New(t)
	withCooperations(t, s)
	a := create(t, s.As(t, "agent"), map[string]any{"kind": "org", "name": "Page Coop Customer", "mobile": "13812340011"})
	const title, number = "2026 cleaning service agreement", "HT-2026-0999"
	if r := s.As(t, "supervisor").Do(t, "POST", coopPath(a), map[string]any{"title": title, "number": number,
		"start_on": "2026-01-01"}); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	page := "/customers/" + strconv.FormatInt(a, 10)
	for _, who := range []string{"agent", "director"} {
		r := s.As(t, who).Do(t, "GET", page, nil)
		body := string(r.Body)
		if r.Status != 200 || !strings.Contains(body, `id="coop-table"`) || !strings.Contains(body, "****99") {
			t.Fatalf("%s: %d, the masked agreement is not on the page", who, r.Status)
		}
		if strings.Contains(body, title) || strings.Contains(body, number) {
			t.Errorf("%s: the page shows the agreement in clear", who)
		}
	}
	if r := s.As(t, "qa").Do(t, "GET", page, nil); r.Status == 200 && strings.Contains(string(r.Body), `id="cooperations"`) {
		t.Error("qa (no cooperation:read) sees the agreements")
	}
}
