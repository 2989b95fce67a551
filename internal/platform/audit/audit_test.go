package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

type fixture struct {
	db    *db.DB
	log   *Log
	keys  *secure.Keyring
	clock *clock.Fake
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	d := dbtest.New(t)
	keys, err := secure.LoadOrCreate(filepath.Join(t.TempDir(), "kefu.keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{db: d, keys: keys, clock: clk, log: New(Options{DB: d, Keys: keys, Clock: clk, Log: quiet})}
}

func staff(id int64, username string) *authz.Actor {
	return &authz.Actor{ID: id, Kind: authz.KindStaff, Username: username}
}

// record writes n entries, one transaction each.
func (f *fixture) record(t testing.TB, n int) {
	t.Helper()
	ctx := authz.WithActor(context.Background(), staff(7, "wang.fang"))
	for i := 0; i < n; i++ {
		f.clock.Advance(time.Second)
		err := f.db.WithTx(ctx, func(ctx context.Context) error {
			return f.log.Record(ctx, Entry{Action: "staff.update", TargetType: "staff", TargetID: fmt.Sprint(i + 1),
				Detail: map[string]any{"field": "mobile", "n": i}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) head(t testing.TB) (int64, string) {
	t.Helper()
	var seq int64
	var hash string
	if err := f.db.QueryRow(context.Background(), `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		t.Fatal(err)
	}
	return seq, hash
}

func (f *fixture) count(t testing.TB) int64 {
	t.Helper()
	var n int64
	if err := f.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) mustVerify(t testing.TB) Report {
	t.Helper()
	rep, err := f.log.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: %+v", rep)
	}
	return rep
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := f.db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestRecordRollbackLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := f.db.WithTx(ctx, func(ctx context.Context) error {
		for i := 0; i < 3; i++ {
			if err := f.log.Record(ctx, Entry{Action: "staff.create", TargetType: "staff", TargetID: "1"}); err != nil {
				return err
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if n := f.count(t); n != 0 {
		t.Fatalf("rolled-back transaction left %d entries", n)
	}
	if seq, hash := f.head(t); seq != 0 || hash != "" {
		t.Fatalf("head moved to %d %q after rollback", seq, hash)
	}
	// A later transaction starts the chain at 1, its entries contiguous and in order.
	err = f.db.WithTx(ctx, func(ctx context.Context) error {
		for _, a := range []string{"a.one", "a.two", "a.three"} {
			if err := f.log.Record(ctx, Entry{Action: a}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.db.Query(ctx, `SELECT seq, action FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var seq int64
		var a string
		if err := rows.Scan(&seq, &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", seq, a))
	}
	if strings.Join(got, " ") != "1:a.one 2:a.two 3:a.three" {
		t.Fatalf("entries = %v", got)
	}
	if rep := f.mustVerify(t); rep.Entries != 3 {
		t.Fatalf("verified %d entries, want 3", rep.Entries)
	}
}

func TestRecordFields(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		actor     *authz.Actor
		entry     Entry
		wantID    int64
		wantActor string
		wantDet   string
		wantErr   string
	}{
		{"staff", staff(12, "li.lei"), Entry{Action: "staff.create", TargetType: "staff", TargetID: "99",
			Detail: map[string]any{"b": 2, "a": "x"}}, 12, "li.lei", `{"a":"x","b":2}`, ""},
		{"system", authz.System("cli"), Entry{Action: "user.add", Detail: struct {
			Role string `json:"role"`
		}{"admin"}}, 0, "system:cli", `{"role":"admin"}`, ""},
		{"anonymous", nil, Entry{Action: "auth.login.failure", Detail: nil}, 0, "anonymous", `{}`, ""},
		{"customer", &authz.Actor{ID: 5, Kind: authz.KindCustomer, Username: "c5"}, Entry{Action: "portal.view"},
			5, "customer:c5", `{}`, ""},
		{"no action", nil, Entry{}, 0, "", "", "no action"},
		{"detail not an object", nil, Entry{Action: "x", Detail: []int{1}}, 0, "", "", "JSON object"},
		{"detail not marshalable", nil, Entry{Action: "x", Detail: map[string]any{"c": make(chan int)}}, 0, "", "", "marshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.actor != nil {
				ctx = authz.WithActor(ctx, tc.actor)
			}
			before, _ := f.head(t)
			err := f.log.Record(ctx, tc.entry) // no transaction: Record runs its own
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if seq, _ := f.head(t); seq != before {
					t.Fatalf("failed Record moved the head")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var id, at int64
			var actor, action, detail string
			err = f.db.QueryRow(ctx, `SELECT actor_id, actor, action, detail, at FROM audit_log WHERE seq = ?`, before+1).
				Scan(&id, &actor, &action, &detail, &at)
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID || actor != tc.wantActor || action != tc.entry.Action || detail != tc.wantDet {
				t.Fatalf("got (%d, %q, %q, %s), want (%d, %q, %q, %s)", id, actor, action, detail,
					tc.wantID, tc.wantActor, tc.entry.Action, tc.wantDet)
			}
			if at != t0.UnixMilli() {
				t.Fatalf("at = %d, want the injected clock %d", at, t0.UnixMilli())
			}
		})
	}
	f.mustVerify(t)
}

// TestRecordFromLateHook: an entry recorded by another BeforeCommit hook that runs
// after the audit hook is still appended in the same transaction.
func TestRecordFromLateHook(t *testing.T) {
	f := newFixture(t)
	err := f.db.WithTx(context.Background(), func(ctx context.Context) error {
		if err := f.log.Record(ctx, Entry{Action: "first"}); err != nil {
			return err
		}
		return f.db.BeforeCommit(ctx, func(ctx context.Context) error {
			return f.log.Record(ctx, Entry{Action: "late"})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(t); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	f.mustVerify(t)
}

// TestConcurrentAppends: many transactions recording at once give one gap-free valid
// chain, and the entries of each transaction stay contiguous.
func TestConcurrentAppends(t *testing.T) {
	f := newFixture(t)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := authz.WithActor(context.Background(), staff(int64(w+1), fmt.Sprintf("agent%d", w)))
			for i := 0; i < each; i++ {
				err := f.db.WithTx(ctx, func(ctx context.Context) error {
					key := fmt.Sprintf("w%d-%d", w, i)
					// Unrelated work in the same transaction.
					if _, err := f.db.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, key, "v", 1); err != nil {
						return err
					}
					for part := 0; part < 2; part++ {
						if err := f.log.Record(ctx, Entry{Action: "test.concurrent", TargetType: "tx", TargetID: key,
							Detail: map[string]int{"part": part}}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep := f.mustVerify(t)
	if want := int64(workers * each * 2); rep.Entries != want {
		t.Fatalf("verified %d entries, want %d", rep.Entries, want)
	}
	if seq, _ := f.head(t); seq != rep.Entries {
		t.Fatalf("head at %d, want %d", seq, rep.Entries)
	}
	// Both entries of a transaction are adjacent.
	var split int
	err := f.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM (
		SELECT target_id, MAX(seq) - MIN(seq) AS span FROM audit_log GROUP BY target_id) s WHERE span <> 1`).Scan(&split)
	if err != nil {
		t.Fatal(err)
	}
	if split != 0 {
		t.Fatalf("%d transactions have non-contiguous entries", split)
	}
}

func TestCheckpoint(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	checkpoints := func() (n, maxSeq int64) {
		t.Helper()
		if err := f.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&n, &maxSeq); err != nil {
			t.Fatal(err)
		}
		return n, maxSeq
	}
	if err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := checkpoints(); n != 0 {
		t.Fatalf("empty log got %d checkpoints", n)
	}
	f.record(t, 3)
	for i := 0; i < 3; i++ { // idempotent while the head stays
		if err := f.log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, s := checkpoints(); n != 1 || s != 3 {
		t.Fatalf("checkpoints = %d (max %d), want 1 at 3", n, s)
	}
	// Several nodes checkpointing the same head at once write it once.
	f.record(t, 2)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.log.Checkpoint(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, s := checkpoints(); n != 2 || s != 5 {
		t.Fatalf("checkpoints = %d (max %d), want 2, newest at 5", n, s)
	}
	// The background loop checkpoints on its own and stops with its context.
	f.record(t, 1)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.log.RunCheckpoints(rctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, s := checkpoints(); s == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunCheckpoints wrote no checkpoint")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if rep := f.mustVerify(t); rep.CheckpointSeq != 6 || rep.Entries != 6 {
		t.Fatalf("report = %+v", rep)
	}
}

// rewriteFrom recomputes every hash from seq on, as an attacker without the checkpoint
// key could after editing entry seq.
func (f *fixture) rewriteFrom(t testing.TB, from int64) {
	t.Helper()
	ctx := context.Background()
	var rows []row
	rs, err := f.db.Query(ctx, `SELECT seq, at, actor_id, actor, action, target_type, target_id, ip, request_id, detail, prev_hash, hash
		FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Seq, &r.At, &r.ActorID, &r.Actor, &r.Action, &r.TargetType, &r.TargetID, &r.IP,
			&r.RequestID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	rs.Close()
	prev := ""
	for i := range rows {
		r := &rows[i]
		if r.Seq >= from {
			r.PrevHash = prev
			r.Hash, _ = chainHash(prev, r)
			f.exec(t, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?`, r.PrevHash, r.Hash, r.Seq)
		}
		prev = r.Hash
	}
	f.exec(t, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, rows[len(rows)-1].Seq, prev)
}

func (f *fixture) hashOf(t testing.TB, seq int64) string {
	t.Helper()
	var h string
	if err := f.db.QueryRow(context.Background(), `SELECT hash FROM audit_log WHERE seq = ?`, seq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestTamperDetection: 12 entries with an HMAC-signed checkpoint at 10; each case
// tampers with the database the way someone with SQL access could.
func TestTamperDetection(t *testing.T) {
	tests := []struct {
		name        string
		tamper      func(t *testing.T, f *fixture)
		wantBad     int64
		wantProblem string
	}{
		{"intact", func(t *testing.T, f *fixture) {}, 0, ""},
		{"edit a field of a middle row", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET actor = 'someone.else' WHERE seq = 5`)
		}, 5, "entry 5: hash mismatch (row edited)"},
		{"edit the detail of a middle row", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET detail = '{"field":"email","n":5}' WHERE seq = 6`)
		}, 6, "entry 6: hash mismatch (row edited)"},
		{"edit the time of the first row", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET at = at + 1 WHERE seq = 1`)
		}, 1, "entry 1: hash mismatch"},
		{"delete a middle row", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq = 5`)
		}, 5, "entry 5 missing (sequence jumps from 4 to 6)"},
		{"delete the first rows", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq <= 2`)
		}, 1, "entry 1 missing (log starts at 3)"},
		{"insert a forged row in the middle", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5`)
			f.exec(t, `UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000`)
			prev := f.hashOf(t, 4)
			r := row{Seq: 5, At: t0.UnixMilli(), Actor: "ghost", Action: "staff.delete", Detail: "{}", PrevHash: prev}
			r.Hash, _ = chainHash(prev, &r)
			f.exec(t, qInsert, r.Seq, r.At, r.ActorID, r.Actor, r.Action, r.TargetType, r.TargetID, r.IP, r.RequestID,
				r.Detail, r.PrevHash, r.Hash)
			f.exec(t, `UPDATE audit_head SET seq = 13 WHERE id = 1`)
		}, 6, "entry 6: previous-hash link broken (rows reordered or inserted)"},
		{"append a forged row after the head", func(t *testing.T, f *fixture) {
			f.exec(t, qInsert, 13, t0.UnixMilli(), 0, "ghost", "x", "", "", "", "", "{}", f.hashOf(t, 12),
				strings.Repeat("ab", 32))
		}, 13, "entry 13: hash mismatch (row edited)"},
		{"append a well-formed row without moving the head", func(t *testing.T, f *fixture) {
			prev := f.hashOf(t, 12)
			r := row{Seq: 13, At: t0.UnixMilli(), Actor: "ghost", Action: "x", Detail: "{}", PrevHash: prev}
			r.Hash, _ = chainHash(prev, &r)
			f.exec(t, qInsert, r.Seq, r.At, r.ActorID, r.Actor, r.Action, r.TargetType, r.TargetID, r.IP, r.RequestID,
				r.Detail, r.PrevHash, r.Hash)
		}, 13, "entry 13: beyond the head row"},
		{"reorder two rows", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET seq = -5 WHERE seq = 5`)
			f.exec(t, `UPDATE audit_log SET seq = 5 WHERE seq = 6`)
			f.exec(t, `UPDATE audit_log SET seq = 6 WHERE seq = -5`)
		}, 5, "entry 5: previous-hash link broken (rows reordered or inserted)"},
		{"truncate the tail below the checkpoint and fix the head", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq > 8`)
			f.exec(t, `UPDATE audit_head SET seq = 8, hash = ? WHERE id = 1`, f.hashOf(t, 8))
		}, 9, "log ends at 8 but checkpoint 10 (HMAC-signed) says it reached 10: tail truncated"},
		{"truncate the tail without fixing the head", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_log WHERE seq > 11`)
		}, 12, "log ends at 11 but the head row says it reached 12: tail truncated"},
		{"edit a row and recompute every later hash", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET action = 'staff.read' WHERE seq = 3`)
			f.rewriteFrom(t, 3)
		}, 10, "entry 10: hash differs from the HMAC-signed checkpoint at 10"},
		{"forged checkpoint MAC", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_checkpoints SET mac = ? WHERE seq = 10`, strings.Repeat("0", 64))
		}, 10, "checkpoint 10: HMAC does not match"},
		{"forged checkpoint beyond the end", func(t *testing.T, f *fixture) {
			f.exec(t, `INSERT INTO audit_checkpoints (seq, head_hash, at, mac) VALUES (99, ?, 0, ?)`,
				strings.Repeat("cd", 32), strings.Repeat("ef", 32))
		}, 99, "checkpoint 99: HMAC does not match"},
		{"checkpoint rewritten to match a rewritten log, without the key", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_log SET action = 'staff.read' WHERE seq = 3`)
			f.rewriteFrom(t, 3)
			f.exec(t, `UPDATE audit_checkpoints SET head_hash = ? WHERE seq = 10`, f.hashOf(t, 10))
		}, 10, "checkpoint 10: HMAC does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.record(t, 10)
			if err := f.log.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.record(t, 2)
			tc.tamper(t, f)
			rep, err := f.log.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.CheckpointSeq == 0 {
				t.Errorf("CheckpointSeq = 0")
			}
			if tc.wantBad == 0 {
				if !rep.OK || rep.Entries != 12 || rep.FirstBadSeq != 0 || rep.Problem != "" || rep.CheckpointSeq != 10 {
					t.Fatalf("intact log: %+v", rep)
				}
				return
			}
			if rep.OK || rep.FirstBadSeq != tc.wantBad || !strings.Contains(rep.Problem, tc.wantProblem) {
				t.Fatalf("report = %+v\nwant FirstBadSeq %d and problem containing %q", rep, tc.wantBad, tc.wantProblem)
			}
		})
	}
}

// TestVerifyWithAnotherKey: checkpoints signed with one key file do not verify with
// another (a stolen database cannot be re-signed without the key file).
func TestVerifyWithAnotherKey(t *testing.T) {
	f := newFixture(t)
	f.record(t, 4)
	if err := f.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	other, err := secure.LoadOrCreate(filepath.Join(t.TempDir(), "other.keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := New(Options{DB: f.db, Keys: other}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.FirstBadSeq != 4 || !strings.Contains(rep.Problem, "HMAC does not match") {
		t.Fatalf("report = %+v", rep)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	f := newFixture(t)
	rep := f.mustVerify(t)
	if rep.Entries != 0 || rep.CheckpointSeq != 0 {
		t.Fatalf("report = %+v", rep)
	}
}

// TestCanonicalUnambiguous: moving bytes between fields changes the encoding.
func TestCanonicalUnambiguous(t *testing.T) {
	a := row{Seq: 1, Actor: "ab", Action: "c", Detail: "{}"}
	b := row{Seq: 1, Actor: "a", Action: "bc", Detail: "{}"}
	if string(canonical(&a)) == string(canonical(&b)) {
		t.Fatal("different entries share an encoding")
	}
	ha, _ := chainHash("", &a)
	hb, _ := chainHash("", &b)
	if ha == hb || len(ha) != 64 {
		t.Fatalf("hashes %q %q", ha, hb)
	}
	if _, err := chainHash("zz", &a); err == nil {
		t.Fatal("non-hex previous hash accepted")
	}
}

// TestManyEntriesInOneTransaction: more entries than one INSERT carries are chained in
// order and the head lands on the last.
func TestManyEntriesInOneTransaction(t *testing.T) {
	f := newFixture(t)
	f.record(t, 1)
	const n = 2*insertChunk + 37
	err := f.db.WithTx(context.Background(), func(ctx context.Context) error {
		for i := 0; i < n; i++ {
			if err := f.log.Record(ctx, Entry{Action: "customer.import", TargetID: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := f.mustVerify(t)
	if rep.Entries != n+1 {
		t.Fatalf("verified %d, want %d", rep.Entries, n+1)
	}
	var target string
	if err := f.db.QueryRow(context.Background(), `SELECT target_id FROM audit_log WHERE seq = ?`, n+1).Scan(&target); err != nil {
		t.Fatal(err)
	}
	if target != fmt.Sprint(n-1) {
		t.Fatalf("last entry is %q, want %d", target, n-1)
	}
}
