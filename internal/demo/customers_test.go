package demo_test

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/customer/classify"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
)

// TestPlanCustomers checks the generated demo customers without a database: valid and
// unique identity data, IDs born in the customer's district, every kind and several
// provinces, and — under the default classification rules — every tier, value class and
// credit grade, each customer getting the class its profile promises.
func TestPlanCustomers(t *testing.T) {
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	plans, err := demo.PlanCustomers(now)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := demo.PlanCustomers(now)
	if !reflect.DeepEqual(plans, again) {
		t.Fatal("PlanCustomers is not deterministic")
	}
	if len(plans) != 500 {
		t.Fatalf("%d demo customers, want 500", len(plans))
	}
	districtCode := map[string]string{"浦东新区": "310115", "朝阳区": "110105", "天河区": "440106", "南山区": "440305",
		"西湖区": "330106", "鼓楼区": "320106", "武侯区": "510107", "武昌区": "420106"}
	seen := map[string]bool{}
	unique := func(what, v string) {
		t.Helper()
		if v == "" {
			return
		}
		if seen[what+v] {
			t.Errorf("%s %s used twice", what, v)
		}
		seen[what+v] = true
	}
	count := map[string]int{}
	rules := classify.DefaultRules()
	today := now
	for i, p := range plans {
		in := p.Input
		count["kind:"+in.Kind]++
		count["province:"+in.Province]++
		if in.Name == "" || in.Province == "" || in.City == "" || in.District == "" || in.Address == "" || p.Owner == "" {
			t.Errorf("customer %d incomplete: %+v", i, in)
		}
		if in.Mobile != "" {
			if m, err := cnid.NormalizeMobile(in.Mobile); err != nil || m != in.Mobile {
				t.Errorf("customer %d mobile %q: %v", i, in.Mobile, err)
			}
		}
		unique("phone", in.Mobile)
		unique("phone", in.Phone)
		if in.Phone != "" {
			if _, err := cnid.NormalizePhone(in.Phone); err != nil {
				t.Errorf("customer %d phone %q: %v", i, in.Phone, err)
			}
		}
		switch in.Kind {
		case customer.KindPerson:
			id, err := cnid.ValidateResidentID(in.IDNumber, today)
			if err != nil {
				t.Errorf("customer %d ID %q: %v", i, in.IDNumber, err)
				continue
			}
			if want, ok := districtCode[in.District]; ok && in.IDNumber[:6] != want {
				t.Errorf("customer %d in %s has ID region %s, want %s", i, in.District, in.IDNumber[:6], want)
			}
			unique("id", id.Number)
			if in.Mobile == "" {
				t.Errorf("person %d has no mobile", i)
			}
		case customer.KindOrg:
			if _, err := cnid.ValidateUSCC(in.CreditCode); err != nil {
				t.Errorf("customer %d credit code %q: %v", i, in.CreditCode, err)
			}
			unique("uscc", in.CreditCode)
			unique("name", in.Name)
			keys := 0
			for _, c := range in.Contacts {
				if c.IsKeyPerson {
					keys++
				}
				unique("phone", c.Mobile)
			}
			if keys != 1 || in.Phone == "" || in.Industry == "" {
				t.Errorf("organisation %d: %d key persons, phone %q, industry %q", i, keys, in.Phone, in.Industry)
			}
		default:
			t.Errorf("customer %d kind %q", i, in.Kind)
		}
		for _, tx := range p.Transactions {
			if tx.On > today.Format("2006-01-02") || tx.On < in.RelationshipSince || tx.Note == "" {
				t.Errorf("customer %d transaction %+v (relationship since %s)", i, tx, in.RelationshipSince)
			}
		}
		f := classify.Facts{Kind: in.Kind, RelationshipSince: in.RelationshipSince, Credit: classify.CreditFacts(*in.CreditFacts)}
		for _, tx := range p.Transactions {
			f.Transactions = append(f.Transactions, classify.Transaction{On: tx.On, AmountFen: tx.AmountFen})
		}
		res := classify.Classify(rules, f, now)
		if res.Tier != p.WantTier || res.ValueClass != p.WantValue || res.CreditGrade != p.WantGrade {
			t.Errorf("customer %d (%s, %s): rules give %s/%s/%s (R%d F%d M%d, %d tx), want %s/%s/%s", i, in.Kind, p.Profile,
				res.Tier, res.ValueClass, res.CreditGrade, res.R, res.F, res.M, len(p.Transactions), p.WantTier, p.WantValue, p.WantGrade)
		}
		count["tier:"+res.Tier]++
		count["value:"+res.ValueClass]++
		count["grade:"+res.CreditGrade]++
	}
	for _, k := range []string{"kind:person", "kind:org", "tier:vip", "tier:regular", "tier:potential", "value:core",
		"value:important", "value:general", "value:churned", "grade:A", "grade:B", "grade:C"} {
		if count[k] < 10 {
			t.Errorf("only %d demo customers with %s", count[k], k)
		}
	}
	provinces := 0
	for k := range count {
		if strings.HasPrefix(k, "province:") {
			provinces++
		}
	}
	if provinces < 6 {
		t.Errorf("demo customers in %d provinces, want several", provinces)
	}
	t.Logf("mix: %v", count)
}

// TestSeedCustomers seeds the demo organisation and its 500 customers through the
// services, fast, and only once.
func TestSeedCustomers(t *testing.T) {
	srv := apptest.New(t)
	deps := demo.Deps{Org: srv.App.Org, Auth: srv.App.Auth, Customer: srv.App.Customer, Clock: srv.Clock}
	start := time.Now()
	logins, err := demo.Seed(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if len(logins) == 0 {
		t.Fatal("no demo logins")
	}
	ctx := apptest.SystemCtx()
	all := listAll(t, srv.App.Customer, ctx)
	if len(all) != 500 {
		t.Fatalf("%d customers after seeding, want 500", len(all))
	}
	t.Logf("seeded the demo organisation and 500 customers in %v", took)
	owners := map[int64]bool{}
	for _, c := range all {
		if c.OwnerID == 0 || c.DeptID == 0 {
			t.Fatalf("customer %d (%s) has no owner or department", c.ID, c.Name)
		}
		owners[c.OwnerID] = true
	}
	if len(owners) < 3 {
		t.Errorf("demo customers owned by %d staff, want several", len(owners))
	}
	// Stored classification: computed by the rules from the seeded facts and
	// transactions, as planned, with reasons.
	plans, err := demo.PlanCustomers(srv.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b customer.Customer) int { return cmp.Compare(a.ID, b.ID) })
	seen := map[string]int{}
	for i, c := range all {
		p := plans[i]
		if c.Name != p.Input.Name {
			t.Fatalf("customer %d is %s, planned %s", c.ID, c.Name, p.Input.Name)
		}
		if c.Tier != p.WantTier || c.ValueClass != p.WantValue || c.CreditGrade != p.WantGrade {
			t.Errorf("customer %d (%s, %s) classified %s/%s/%s, want %s/%s/%s", c.ID, c.Name, p.Profile, c.Tier,
				c.ValueClass, c.CreditGrade, p.WantTier, p.WantValue, p.WantGrade)
		}
		if len(c.CreditReasons) == 0 || len(c.ValueReasons) == 0 || len(c.TierReasons) == 0 {
			t.Errorf("customer %d classified without reasons: %+v %+v %+v", c.ID, c.TierReasons, c.ValueReasons, c.CreditReasons)
		}
		seen[c.Tier]++
		seen[c.ValueClass]++
		seen[c.CreditGrade]++
	}
	for _, k := range append(append(slices.Clone(customer.Tiers), customer.ValueClasses...), customer.CreditGrades...) {
		if seen[k] == 0 {
			t.Errorf("no demo customer classified %s", k)
		}
	}
	t.Logf("stored classification: %v", seen)

	// A Chinese two-character search finds demo customers.
	page, err := srv.App.Customer.ListCustomers(ctx, customer.Filter{Q: string([]rune(all[0].Name)[:2])}, 20, "")
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("search %q: %d hits, %v", string([]rune(all[0].Name)[:2]), len(page.Items), err)
	}

	again, err := demo.Seed(context.Background(), deps)
	if err != nil || again != nil {
		t.Fatalf("second seed: %v, %v", again, err)
	}
	if n := len(listAll(t, srv.App.Customer, ctx)); n != 500 {
		t.Fatalf("second seed changed the customer count to %d", n)
	}
}

// TestSeedCustomersSkipsOtherOrganisations: without the demo accounts, no demo customers.
func TestSeedCustomersSkipsOtherOrganisations(t *testing.T) {
	srv := apptest.New(t)
	srv.Staff(t, "first", "admin", "")
	if _, err := demo.Seed(context.Background(), demo.Deps{Org: srv.App.Org, Auth: srv.App.Auth, Customer: srv.App.Customer}); err != nil {
		t.Fatal(err)
	}
	if n := len(listAll(t, srv.App.Customer, apptest.SystemCtx())); n != 0 {
		t.Fatalf("%d demo customers added to a database with its own staff", n)
	}
}

func listAll(t *testing.T, s *customer.Service, ctx context.Context) []customer.Customer {
	t.Helper()
	var out []customer.Customer
	cur := ""
	for {
		p, err := s.ListCustomers(ctx, customer.Filter{Status: customer.StatusAll}, 200, cur)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		cur = p.NextCursor
	}
}
