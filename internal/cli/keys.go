package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// encColumn is a column holding values encrypted with secure.Keyring.Encrypt, and the
// additional data (AES-GCM) the owning package encrypts it with.
type encColumn struct{ name, aad string }

// encTable is a table with encrypted columns, keyed by an integer column.
type encTable struct {
	table, key string
	cols       []encColumn
}

// encryptedTables lists every encrypted column of the schema. The additional data
// must match the owning package: internal/customer/protect.go (aad* constants),
// internal/platform/auth/totp.go (totpAAD) and internal/org/service.go (aadStaffMobile), internal/fieldvisit/service.go (aadPhone).
// keys_test.go checks that every value still
// opens through those packages after a rotation, and that no *_enc column of the
// schema is missing here. Blind indexes (*_bidx, *_l4) are HMACs under the blind key,
// which rotation does not change, so they stay valid.
var encryptedTables = []encTable{
	{table: "customers", key: "id", cols: []encColumn{
		{"mobile_enc", "customer.mobile"}, {"phone_enc", "customer.phone"}, {"id_number_enc", "customer.id_number"},
		{"address_enc", "customer.address"}, {"bank_account_enc", "customer.bank_account"}}},
	{table: "customer_contacts", key: "id", cols: []encColumn{
		{"mobile_enc", "customer_contact.mobile"}, {"phone_enc", "customer_contact.phone"}}},
	{table: "credentials", key: "staff_id", cols: []encColumn{{"totp_secret", "credentials.totp_secret"}}},
	{table: "staff", key: "id", cols: []encColumn{{"mobile_enc", "staff.mobile"}}},
	{table: "field_visits", key: "id", cols: []encColumn{{"phone_enc", "field_visit.phone"}}},
}

// rekeyBatch is the default number of rows re-encrypted per transaction.
const rekeyBatch = 500

// runKeys is `kefu keys rotate`.
func runKeys(ctx context.Context, env *Env, args []string) error {
	const usage = "usage: kefu keys rotate [--resume] [--wait 25s] [--batch 500]"
	if len(args) == 0 || args[0] != "rotate" {
		return Usagef(usage)
	}
	var c common
	var resume bool
	var wait time.Duration
	var batch int
	fs := newFlagSet(env, "keys rotate", &c)
	fs.BoolVar(&resume, "resume", false, "add no new key: re-encrypt what is still under an older key (after an interruption)")
	fs.DurationVar(&wait, "wait", 25*time.Second, "pause after adding the key, so that running servers load it (they check the key file every 10s); 0 when no server runs")
	fs.IntVar(&batch, "batch", rekeyBatch, "rows per transaction")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (%s)", fs.Arg(0), usage)
	}
	if batch < 1 || batch > 10000 || wait < 0 {
		return Usagef("--batch must be 1..10000 and --wait not negative")
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	active := a.Keys.ActiveKeyID()
	if resume {
		fmt.Fprintf(env.Stdout, "active key %s (no new key added)\n", active)
	} else {
		if active, err = a.Keys.Rotate(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "added key %s to %s and made it active; older keys stay in the ring\n", active, a.Keys.Path())
		if err := a.Audit.Record(sctx, audit.Entry{Action: "keys.rotate", TargetType: "key", TargetID: active}); err != nil {
			return err
		}
		if wait > 0 {
			fmt.Fprintf(env.Stdout, "waiting %s for running servers to load the new key...\n", wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	r := rekeyer{a: a, keys: a.Keys, active: active, batch: batch, env: env}
	total := 0
	for round := 1; ; round++ {
		n, err := r.pass(sctx)
		total += n
		if err != nil {
			return fmt.Errorf("re-encryption stopped (safe to re-run with --resume): %w", err)
		}
		left, err := r.remaining(sctx)
		if err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if round == 3 {
			return Exitf(ExitFail, "%d values are still under an older key (written by a server that has not loaded %s yet?): restart the servers and run kefu keys rotate --resume", left, active)
		}
		fmt.Fprintf(env.Stdout, "%d values were written under an older key meanwhile; another pass\n", left)
	}
	if err := a.Audit.Record(sctx, audit.Entry{Action: "keys.reencrypt", TargetType: "key", TargetID: active,
		Detail: map[string]any{"values": total}}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "done: %d values re-encrypted; every encrypted value is under key %s\n", total, active)
	return nil
}

// rekeyer re-encrypts values under older keys with the active key.
type rekeyer struct {
	a      *app.App
	keys   *secure.Keyring
	active string
	batch  int
	env    *Env
}

// pass walks every table once, in batches of rows by key; each batch is one
// transaction. It returns the number of values re-encrypted.
func (r rekeyer) pass(ctx context.Context) (int, error) {
	done := 0
	for _, t := range encryptedTables {
		var rows int
		if err := r.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.table).Scan(&rows); err != nil {
			return done, fmt.Errorf("%s: %w", t.table, err)
		}
		var after int64
		seen, changed := 0, 0
		for {
			n, last, c, err := r.batchOf(ctx, t, after)
			if err != nil {
				return done, fmt.Errorf("%s: %w", t.table, err)
			}
			if n == 0 {
				break
			}
			after, seen, changed, done = last, seen+n, changed+c, done+c
			fmt.Fprintf(r.env.Stdout, "%s: %d/%d rows checked, %d values re-encrypted\n", t.table, seen, rows, changed)
		}
	}
	return done, nil
}

// batchOf re-encrypts one batch of rows with key > after in one transaction. It
// returns the rows read, the last key and the values changed. A row changed
// concurrently (its stored value no longer the one read) is left alone: the final
// check finds it if it is still under an older key.
func (r rekeyer) batchOf(ctx context.Context, t encTable, after int64) (n int, last int64, changed int, err error) {
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = c.name
	}
	sel := `SELECT ` + t.key + `, ` + strings.Join(cols, ", ") + ` FROM ` + t.table + ` WHERE ` + t.key + ` > ? ORDER BY ` +
		t.key + ` LIMIT ?`
	err = r.a.DB.WithTx(ctx, func(ctx context.Context) error {
		n, changed = 0, 0
		rows, err := r.a.DB.Query(ctx, sel, after, r.batch)
		if err != nil {
			return err
		}
		type row struct {
			key  int64
			vals []string
		}
		var got []row
		for rows.Next() {
			rw := row{vals: make([]string, len(cols))}
			dest := []any{&rw.key}
			for i := range rw.vals {
				dest = append(dest, &rw.vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			got = append(got, rw)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, rw := range got {
			n, last = n+1, rw.key
			for i, c := range t.cols {
				old := rw.vals[i]
				if old == "" || secure.KeyID(old) == r.active {
					continue
				}
				plain, err := r.keys.Decrypt(old, c.aad)
				if err != nil {
					return fmt.Errorf("%s %s=%d: %w", c.name, t.key, rw.key, err)
				}
				fresh, err := r.keys.Encrypt(plain, c.aad)
				if err != nil {
					return err
				}
				res, err := r.a.DB.Exec(ctx, `UPDATE `+t.table+` SET `+c.name+` = ? WHERE `+t.key+` = ? AND `+c.name+` = ?`,
					fresh, rw.key, old)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 1 {
					changed++
				}
			}
		}
		return nil
	})
	return n, last, changed, err
}

// remaining counts the values not under the active key.
func (r rekeyer) remaining(ctx context.Context) (int, error) {
	total := 0
	for _, t := range encryptedTables {
		for _, c := range t.cols {
			var n sql.NullInt64
			err := r.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE `+c.name+` <> '' AND `+c.name+` NOT LIKE ?`,
				r.active+":%").Scan(&n)
			if err != nil {
				return 0, fmt.Errorf("%s.%s: %w", t.table, c.name, err)
			}
			total += int(n.Int64)
		}
	}
	return total, nil
}
