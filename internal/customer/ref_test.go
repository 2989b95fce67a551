package customer_test

import (
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// TestRef: the summary for other capabilities carries the masked mobile, tier and
// grade, needs no permission and writes no audit entry.
func TestRef(t *testing.T) {
	s := apptest.New(t)
	g := newIDs(11)
	mob := g.mobile()
	c, err := s.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson, Name: "Ref Zhang",
		Mobile: mob, Email: "ref@example.com", Tier: customer.TierVIP, CreditGrade: customer.GradeB})
	if err != nil {
		t.Fatal(err)
	}
	before := s.AuditSeq(t)
	ref, err := s.App.Customer.Ref(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ref.ID != c.ID || ref.Name != "Ref Zhang" || ref.Tier != customer.TierVIP || ref.CreditGrade != customer.GradeB ||
		ref.Email != "ref@example.com" || ref.Status != customer.StatusActive {
		t.Fatalf("ref = %+v", ref)
	}
	if ref.MaskedMobile == mob || !strings.HasSuffix(ref.MaskedMobile, mob[7:]) || !strings.Contains(ref.MaskedMobile, "*") {
		t.Fatalf("mobile not masked: %q", ref.MaskedMobile)
	}
	if s.AuditSeq(t) != before {
		t.Fatal("Ref wrote an audit entry")
	}
	if _, err := s.App.Customer.Ref(t.Context(), 999999); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("missing customer: %v", err)
	}
}
