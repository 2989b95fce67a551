package customer_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func TestPortalLookups(t *testing.T) {
	s := apptest.New(t)
	ctx := apptest.SystemCtx()
	svc := s.App.Customer
	mk := func(name, email, mobile string) int64 {
		t.Helper()
		c, err := svc.CreateCustomer(ctx, customer.Input{Kind: customer.KindPerson, Name: name, Email: email, Mobile: mobile})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return c.ID
	}
	older := mk("Older", "Shared@Example.com", "13900001111")
	s.Clock.Advance(time.Second)
	newer := mk("Newer", "shared@example.com", "")
	other := mk("Other", "other@example.com", "+86 139 0000 2222")

	tests := []struct {
		name  string
		email string
		want  []int64
	}{
		{"case-insensitive, newest first", "SHARED@example.COM", []int64{newer, older}},
		{"single", "other@example.com", []int64{other}},
		{"unknown", "nobody@example.com", nil},
		{"malformed", "not an address", nil},
	}
	for _, tc := range tests {
		got, err := svc.CustomerIDsByEmail(ctx, tc.email)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: CustomerIDsByEmail(%q) = %v, %v; want %v", tc.name, tc.email, got, err, tc.want)
		}
	}
	for mobile, want := range map[string][]int64{"13900001111": {older}, "139-0000-2222": {other}, "13900003333": nil, "123": nil} {
		got, err := svc.CustomerIDsByMobile(ctx, mobile)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("CustomerIDsByMobile(%q) = %v, %v; want %v", mobile, got, err, want)
		}
	}
	who, err := svc.PortalIdentity(ctx, newer)
	if err != nil || who.Name != "Newer" || who.Status != customer.StatusActive || who.Email != "shared@example.com" {
		t.Errorf("PortalIdentity = %+v, %v", who, err)
	}
	if _, err := svc.PortalIdentity(ctx, 987654); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("PortalIdentity of a missing customer: %v", err)
	}
}
