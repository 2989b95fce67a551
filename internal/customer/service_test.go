package customer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// TestValidation: each bad value is refused naming its field, and nothing is stored.
func TestValidation(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "agent"))
	svc := s.App.Customer
	g := newIDs(1)
	good := func() customer.Input {
		return customer.Input{Kind: "person", Name: "Zhang San", Mobile: g.mobile(), IDNumber: g.resident()}
	}
	cases := []struct {
		name  string
		mod   func(*customer.Input)
		field string
	}{
		{"bad mobile", func(in *customer.Input) { in.Mobile = "12345678901" }, "mobile"},
		{"short mobile", func(in *customer.Input) { in.Mobile = "1381234" }, "mobile"},
		{"id checksum", func(in *customer.Input) { in.IDNumber = "110105194912310022" }, "id_number"},
		{"id birth date", func(in *customer.Input) { in.IDNumber = "110105194902300021" }, "id_number"},
		{"id length", func(in *customer.Input) { in.IDNumber = "11010519491231002" }, "id_number"},
		{"credit code checksum", func(in *customer.Input) { in.Kind, in.CreditCode = "org", "91350100M000100Y44" }, "credit_code"},
		{"email", func(in *customer.Input) { in.Email = "zhang@" }, "email"},
		{"phone", func(in *customer.Input) { in.Phone = "12" }, "phone"},
		{"kind", func(in *customer.Input) { in.Kind = "robot" }, "kind"},
		{"name", func(in *customer.Input) { in.Name = " " }, "name"},
		{"tier", func(in *customer.Input) { in.Tier = "gold" }, "tier"},
		{"founded in future", func(in *customer.Input) { in.FoundedOn = "2999-01-01" }, "founded_on"},
		{"bad date", func(in *customer.Input) { in.RelationshipSince = "2024-02-30" }, "relationship_since"},
		{"bank account", func(in *customer.Input) { in.BankAccount = "12ab" }, "bank_account"},
		{"negative size", func(in *customer.Input) { in.SizeEmployees = -1 }, "size_employees"},
		{"contact mobile", func(in *customer.Input) {
			in.Contacts = []customer.ContactInput{{Name: "Li", Mobile: "999"}}
		}, "contacts[0].mobile"},
		{"owner unknown", func(in *customer.Input) { in.OwnerID = 999999 }, "owner_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.mod(&in)
			_, err := svc.CreateCustomer(ctx, in)
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != apperr.Invalid {
				t.Fatalf("err = %v, want validation error", err)
			}
			if _, ok := ae.Fields[tc.field]; !ok {
				t.Fatalf("fields %v lack %q", ae.Fields, tc.field)
			}
			if n := countCustomers(t, s); n != 0 {
				t.Fatalf("%d customers stored after a refused create", n)
			}
		})
	}
	// A valid one passes, with full-width digits folded.
	c, err := svc.CreateCustomer(ctx, customer.Input{Kind: "person", Name: "Ok", Mobile: "\uff11\uff13\uff18 1234 5678"})
	if err != nil || c.Mobile != "13812345678" {
		t.Fatalf("valid create: %v %q", err, c.Mobile)
	}
}

// TestNoPlaintextAtRest: the SQLite file and its WAL never contain a mobile, phone, ID
// number, address detail, bank account or contact phone in clear.
func TestNoPlaintextAtRest(t *testing.T) {
	if dbtest.Engine() != "sqlite" {
		t.Skip("reads the SQLite file")
	}
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "agent"))
	g := newIDs(2)
	var secrets []string
	for i := range 20 {
		mob, id, contactMob := g.mobile(), g.resident(), g.mobile()
		addr := "Jianguo Road " + string(rune('A'+i)) + " Building 7 Room 1203"
		bank := "6222021234567890" + string(rune('0'+i%10))
		in := customer.Input{Kind: "person", Name: "Secret holder", Mobile: mob, Phone: fmt.Sprintf("010-876543%02d", i),
			IDNumber: id, Province: "Beijing", City: "Beijing", District: "Chaoyang", Address: addr, BankAccount: bank,
			Notes: "ordinary note", Contacts: []customer.ContactInput{{Name: "Li Si", Mobile: contactMob}}}
		c, err := s.App.Customer.CreateCustomer(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, mob, id, addr, bank, contactMob, fmt.Sprintf("876543%02d", i))
		// Update too: the old and new values must not appear.
		newMob := g.mobile()
		if _, err := s.App.Customer.UpdateCustomer(ctx, c.ID, customer.Patch{Version: ver(t, s, c.ID), Mobile: &newMob}); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, newMob)
		// Reads, searches and reveals write audit entries: they must not leak either.
		if _, err := s.App.Customer.GetCustomer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Customer.ListCustomers(ctx, customer.Filter{Q: newMob}, 10, ""); err != nil {
			t.Fatal(err)
		}
	}
	sup := actorCtx(t, s, s.As(t, "supervisor"))
	rev, err := s.App.Customer.Reveal(sup, 1, []string{"mobile", "id_number"}, "customer called back")
	if err != nil || rev.Fields["id_number"] == "" {
		t.Fatalf("reveal: %v %+v", err, rev)
	}
	check := func(stage string) {
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(s.App.DB.Path + suffix)
			if err != nil {
				if suffix == "-wal" && os.IsNotExist(err) {
					continue
				}
				t.Fatal(err)
			}
			if len(b) == 0 && suffix == "" {
				t.Fatalf("%s: empty database file", stage)
			}
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Errorf("%s: %s%s contains %q in clear", stage, "db", suffix, sec)
				}
			}
		}
	}
	check("before checkpoint")
	if _, err := s.App.DB.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	check("after checkpoint")
	// The non-secret note is stored in clear: the check would see a leak.
	b, _ := os.ReadFile(s.App.DB.Path)
	if !bytes.Contains(b, []byte("ordinary note")) {
		t.Fatal("control value not found in the database file: the byte search is broken")
	}
}

// TestSearch: Chinese two-character words, email, credit code, whole phone numbers and
// their last 4 digits, contacts' numbers, on both engines.
func TestSearch(t *testing.T) {
	s := apptest.New(t)
	agent := s.As(t, "supervisor")
	ctx := actorCtx(t, s, agent)
	svc := s.App.Customer
	g := newIDs(3)
	mob1, mob2, contactMob, uscc, id1 := "13812345678", "13998761234", "15011112222", g.uscc(), g.resident()
	mk := func(in customer.Input) int64 {
		c, err := svc.CreateCustomer(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	zhang := mk(customer.Input{Kind: "person", Name: "\u5f20\u4e09", Mobile: mob1, IDNumber: id1, Email: "zhangsan@example.com",
		Province: "\u5317\u4eac\u5e02", District: "\u671d\u9633\u533a"})
	wuye := mk(customer.Input{Kind: "org", Name: "\u9633\u5149\u7269\u4e1a\u7ba1\u7406\u6709\u9650\u516c\u53f8", CreditCode: uscc,
		Phone: "021-62345678", Contacts: []customer.ContactInput{{Name: "\u674e\u56db", Mobile: contactMob}}})
	other := mk(customer.Input{Kind: "person", Name: "Wang Wu", Mobile: mob2, Tags: []string{"vip-care"}})
	cases := []struct {
		q    string
		want []int64
	}{
		{"\u7269\u4e1a", []int64{wuye}},  // 物业
		{"\u5f20\u4e09", []int64{zhang}}, // 张三
		{"\u674e\u56db", []int64{wuye}},  // a contact's name
		{"\u671d\u9633", []int64{zhang}}, // district
		{"zhangsan@example.com", []int64{zhang}},
		{"example.com", []int64{zhang}},
		{uscc, []int64{wuye}},
		{mob1, []int64{zhang}},
		{"138 1234 5678", []int64{zhang}},
		{"+86 139 9876 1234", []int64{other}},
		{"5678", []int64{wuye, zhang}}, // last 4 of mob1 and of the landline
		{"1234", []int64{other}},
		{"(021)62345678", []int64{wuye}},
		{contactMob, []int64{wuye}},
		{"2222", []int64{wuye}},
		{id1, []int64{zhang}},
		{"vip-care", []int64{other}},
		{"nothing-like-this", nil},
		{"!!!", nil},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			p, err := svc.ListCustomers(ctx, customer.Filter{Q: tc.q}, 50, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range p.Items {
				got = append(got, c.ID)
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%q: got %v, want %v", tc.q, got, want)
			}
		})
	}
	// Paging through a merged search: many text hits, one page at a time.
	for i := range 7 {
		mk(customer.Input{Kind: "org", Name: "\u7269\u4e1a Batch", Mobile: g.mobile(), Notes: string(rune('a' + i))})
	}
	seen := map[int64]bool{}
	cur := ""
	for pages := 0; pages < 10; pages++ {
		p, err := svc.ListCustomers(ctx, customer.Filter{Q: "\u7269\u4e1a"}, 3, cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			if seen[c.ID] {
				t.Fatalf("id %d on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	if len(seen) != 8 {
		t.Fatalf("paged search found %d customers, want 8", len(seen))
	}
	// A contact's new number is searchable after an update; the old one no longer is.
	cts, err := svc.ListContacts(ctx, wuye)
	if err != nil || len(cts) != 1 {
		t.Fatalf("contacts: %v %v", err, cts)
	}
	newMob := "18600001111"
	if _, err := svc.UpdateContact(ctx, wuye, cts[0].ID, customer.ContactPatch{Mobile: &newMob, Version: &cts[0].Version}); err != nil {
		t.Fatal(err)
	}
	for q, n := range map[string]int{newMob: 1, contactMob: 0} {
		p, err := svc.ListCustomers(ctx, customer.Filter{Q: q}, 10, "")
		if err != nil || len(p.Items) != n {
			t.Fatalf("q=%s after contact update: %d hits (%v), want %d", q, len(p.Items), err, n)
		}
	}
}

// TestDuplicates through the service: mobile, phone, ID number and credit code.
func TestDuplicates(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "agent"))
	sup := actorCtx(t, s, s.As(t, "supervisor"))
	svc := s.App.Customer
	g := newIDs(4)
	mob, id, uscc := g.mobile(), g.resident(), g.uscc()
	first, err := svc.CreateCustomer(ctx, customer.Input{Kind: "org", Name: "First", Mobile: mob, IDNumber: id, CreditCode: uscc,
		Phone: "0755-23456789"})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]customer.Input{
		"mobile":          {Kind: "person", Name: "Second", Mobile: mob},
		"mobile as phone": {Kind: "person", Name: "Second", Phone: mob},
		"landline":        {Kind: "person", Name: "Second", Phone: "(0755)23456789-12"},
		"id number":       {Kind: "person", Name: "Second", IDNumber: id},
		"credit code":     {Kind: "org", Name: "Second", CreditCode: uscc},
	} {
		_, err := svc.CreateCustomer(ctx, in)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != "duplicate_customer" || ae.Extra["existing_id"] != first.ID {
			t.Fatalf("%s: err = %v, want duplicate_customer with existing_id %d", name, err, first.ID)
		}
	}
	if _, err := svc.CreateCustomer(ctx, customer.Input{Kind: "person", Name: "Forced", Mobile: mob, Force: true}); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("agent force: %v, want forbidden", err)
	}
	forced, err := svc.CreateCustomer(sup, customer.Input{Kind: "person", Name: "Forced", Mobile: mob, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	var pairs int
	if err := s.App.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customer_dup_pairs WHERE a_id = ? AND b_id = ? AND status = 'open'`,
		first.ID, forced.ID).Scan(&pairs); err != nil || pairs != 1 {
		t.Fatalf("duplicate pair for review: %d %v", pairs, err)
	}
	// Updating another customer to an existing mobile is refused the same way.
	third, err := svc.CreateCustomer(ctx, customer.Input{Kind: "person", Name: "Third"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateCustomer(ctx, third.ID, customer.Patch{Version: ver(t, s, third.ID), Mobile: &mob}); apperr.CodeOf(err) != "duplicate_customer" {
		t.Fatalf("update to a duplicate mobile: %v", err)
	}
	// Stale version: 409.
	old := int64(0)
	name := "Renamed"
	if _, err := svc.UpdateCustomer(ctx, third.ID, customer.Patch{Name: &name, Version: &old}); apperr.CodeOf(err) != "version_conflict" {
		t.Fatalf("stale version: %v", err)
	}
}
