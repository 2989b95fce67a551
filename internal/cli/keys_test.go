package cli

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// encColumnsInSchema lists every "<table>.<column>" whose name ends in _enc, plus the
// TOTP secret, as the migrated schema has them.
func encColumnsInSchema(t *testing.T, d *db.DB) []string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	if d.Dialect == db.SQLite {
		q = `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
	}
	rows, err := d.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(col, "_enc") || col == "totp_secret" {
			out = append(out, tbl+"."+col)
		}
	}
	slices.Sort(out)
	return out
}

func TestKeysRotate(t *testing.T) {
	dsn := cliDB(t)
	keys := filepath.Join(t.TempDir(), "kefu.keys")
	if r := runCLI(t, keys, "Str0ng-Secret\n", "user", "add", "--username", "boss", "--role", "admin", "--db", dsn); r.code != ExitOK {
		t.Fatalf("user add: %d %s", r.code, r.stderr)
	}
	a := openTestApp(t, dsn, keys)
	ctx := authz.WithActor(context.Background(), authz.System("test"))

	// Every encrypted column of the schema is known to the rotation.
	var known []string
	for _, tb := range encryptedTables {
		for _, c := range tb.cols {
			known = append(known, tb.table+"."+c.name)
		}
	}
	slices.Sort(known)
	if got := encColumnsInSchema(t, a.DB); !slices.Equal(got, known) {
		t.Fatalf("encrypted columns in the schema %v, rotation knows %v", got, known)
	}

	// Data under the first key: customers with contacts, a TOTP secret.
	type person struct {
		id                                  int64
		mobile, idNumber, address, ctMobile string
	}
	var people []person
	mobiles := []string{"13900001111", "13900002222", "13900003333"}
	for i, m := range mobiles {
		c, err := a.Customer.CreateCustomer(ctx, customer.Input{Kind: customer.KindPerson, Name: "Rotation " + m, Mobile: m,
			Phone: "010-8765432" + string(rune('1'+i)), IDNumber: []string{"11010519491231002X", cnid.GenerateResidentID(rand.New(rand.NewPCG(1, 2)), "310101", time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC), false), ""}[i],
			Province: "Beijing", City: "Beijing", District: "Chaoyang", Address: "Road " + m, BankAccount: "6222 0212 3456 7890",
			Contacts: []customer.ContactInput{{Name: "Contact " + m, Mobile: "1860000000" + string(rune('1'+i))}}})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, person{id: c.ID, mobile: m, idNumber: c.IDNumber, address: c.Address, ctMobile: c.Contacts[0].Mobile})
	}
	boss, err := a.Org.StaffByUsername(ctx, "boss")
	if err != nil {
		t.Fatal(err)
	}
	bossActor, err := a.Org.LoadActor(ctx, boss.ID)
	if err != nil {
		t.Fatal(err)
	}
	bossCtx := authz.WithActor(context.Background(), bossActor)
	bossMobile := "13700001234" // staff mobiles are encrypted too
	if _, err := a.Org.UpdateStaff(ctx, boss.ID, org.StaffPatch{Mobile: &bossMobile}); err != nil {
		t.Fatal(err)
	}
	enrol, err := a.Auth.BeginTOTP(bossCtx)
	if err != nil {
		t.Fatal(err)
	}
	var oldMobile string
	if err := a.DB.QueryRow(context.Background(), `SELECT mobile_enc FROM customers WHERE id = ?`, people[0].id).Scan(&oldMobile); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(oldMobile, "k1:") {
		t.Fatalf("stored mobile %q", oldMobile)
	}

	// Rotate: a new key, everything re-encrypted in batches.
	r := runCLI(t, keys, "", "keys", "rotate", "--wait", "0", "--batch", "2", "--db", dsn)
	if r.code != ExitOK || !strings.Contains(r.stdout, "added key k2") || !strings.Contains(r.stdout, "customers: 3/3 rows checked") ||
		!strings.Contains(r.stdout, "every encrypted value is under key k2") {
		t.Fatalf("rotate: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	countOld := func() int {
		n := 0
		for _, tb := range encryptedTables {
			for _, c := range tb.cols {
				var k int
				if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+tb.table+` WHERE `+c.name+` LIKE 'k1:%'`).Scan(&k); err != nil {
					t.Fatal(err)
				}
				n += k
			}
		}
		return n
	}
	if n := countOld(); n != 0 {
		t.Fatalf("%d values still under k1", n)
	}

	// A running server picks the new key up from the file; every value still opens,
	// the blind indexes still find customers by phone.
	changed, err := a.Keys.Reload()
	if err != nil || !changed || a.Keys.ActiveKeyID() != "k2" {
		t.Fatalf("reload: %v %v %s", changed, err, a.Keys.ActiveKeyID())
	}
	for _, p := range people {
		got, err := a.Customer.Reveal(ctx, p.id, []string{"mobile", "id_number", "address", "bank_account", "contacts"}, "key rotation test")
		if err != nil {
			t.Fatal(err)
		}
		if got.Fields["mobile"] != p.mobile || got.Fields["id_number"] != p.idNumber || got.Fields["address"] != p.address ||
			got.Fields["bank_account"] != "6222 0212 3456 7890" || got.Contacts[0].Mobile != p.ctMobile {
			t.Fatalf("after rotation: %+v", got)
		}
		for _, q := range []string{p.mobile, p.mobile[7:], p.ctMobile} {
			list, err := a.Customer.ListCustomers(ctx, customer.Filter{Q: q}, 10, "")
			if err != nil || len(list.Items) != 1 || list.Items[0].ID != p.id {
				t.Fatalf("search %s after rotation: %v %d", q, err, len(list.Items))
			}
		}
	}
	if got, err := a.Org.StaffByUsername(ctx, "boss"); err != nil || got.Mobile != bossMobile {
		t.Fatalf("staff mobile after rotation: %q %v", got.Mobile, err)
	}
	again, err := a.Auth.BeginTOTP(bossCtx)
	if err != nil || again.Secret != enrol.Secret {
		t.Fatalf("TOTP secret after rotation: %v", err)
	}

	// A value written under the old key meanwhile (a server that had not reloaded, or an
	// interrupted run) is picked up by --resume.
	if _, err := a.DB.Exec(context.Background(), `UPDATE customers SET mobile_enc = ? WHERE id = ?`, oldMobile, people[0].id); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, keys, "", "keys", "rotate", "--resume", "--wait", "0", "--db", dsn)
	if r.code != ExitOK || !strings.Contains(r.stdout, "done: 1 values re-encrypted") || countOld() != 0 {
		t.Fatalf("resume: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got, err := a.Customer.Reveal(ctx, people[0].id, []string{"mobile"}, "check"); err != nil || got.Fields["mobile"] != people[0].mobile {
		t.Fatalf("after resume: %v %+v", err, got)
	}
	var audited int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('keys.rotate', 'keys.reencrypt')`).Scan(&audited); err != nil || audited != 3 {
		t.Errorf("key audit entries: %d %v", audited, err)
	}
	if r := runCLI(t, keys, "", "keys", "--db", dsn); r.code != ExitUsage {
		t.Errorf("keys without subcommand: %d", r.code)
	}
}
