package revisit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// The SPEC number of the return-visit report (issue 9, "Numbers"): the report over one
// year with 1,000,000 tasks in < 1 s. rbBenchN() tasks (KEFU_BENCH_REVISIT_TASKS,
// default 1,000,000) have their window start spread over 2026, across seven rules, ten
// departments and fifty visitors, in every status; with them about 1,650,000 sampling
// decisions (every task's, and the events not chosen) with their daily counts
// (revisit_decision_stats), 850,000 records (one per done or
// unreached task, scores mostly 4-5), 40,000 issues raised (half answered) and 800
// records confirmed false. The rows are written by a few INSERT ... SELECT statements;
// on SQLite the filled file is kept in the temporary directory (keyed by the migrations
// and the data's shape), so later runs only copy it.
//
//	go test ./internal/revisit/ -run '^$' -bench RevisitReport1M -benchtime 10x
//	KEFU_TEST_DB=postgres go test ./internal/revisit/ -run '^$' -bench RevisitReport1M -benchtime 10x

// rbShape names the generated data; change it when the generator changes.
const rbShape = "v2"

func rbBenchN() int {
	if n, err := strconv.Atoi(os.Getenv("KEFU_BENCH_REVISIT_TASKS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// rbMeta is what the benchmark needs to know about the stored data.
type rbMeta struct {
	Depts      []int64 `json:"depts"`
	Supervisor int64   `json:"supervisor"` // of Depts[0]
	Director   int64   `json:"director"`
	N          int     `json:"n"`
}

type rbEnv struct {
	app      *app.App
	meta     rbMeta
	dir, sup context.Context
}

// rbSetup opens the application over a database holding rbBenchN() tasks.
func rbSetup(b *testing.B) *rbEnv {
	b.Helper()
	ctx := context.Background()
	work := b.TempDir()
	keyFile := filepath.Join(work, "kefu.keys")
	var d *db.DB
	cacheDir := ""
	cached := false
	if dbtest.Engine() != "postgres" {
		cacheDir = filepath.Join(os.TempDir(), "kefu-revisit-report-bench-"+rbDigest())
		if _, err := os.Stat(filepath.Join(cacheDir, "meta.json")); err == nil {
			for _, f := range []string{"kefu.db", "kefu.keys"} {
				if err := rbCopy(filepath.Join(cacheDir, f), filepath.Join(work, f)); err != nil {
					b.Fatal(err)
				}
			}
			var err error
			if d, err = db.Open(ctx, "sqlite:"+filepath.Join(work, "kefu.db"), db.Options{}); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() })
			cached = true
		}
	}
	if d == nil {
		d = dbtest.New(b)
	}
	cfg := config.Default()
	cfg.KeyFile = keyFile
	cfg.Log.Level = "error"
	cfg.DB = d.DSN
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, rpCST))
	a, err := app.New(ctx, cfg, app.Options{DB: d, SkipMigrate: true, Clock: fake,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	env := &rbEnv{app: a}
	if cached {
		raw, err := os.ReadFile(filepath.Join(cacheDir, "meta.json"))
		if err == nil {
			err = json.Unmarshal(raw, &env.meta)
		}
		if err != nil {
			b.Fatal(err)
		}
	} else {
		start := time.Now()
		if env.meta, err = rbFill(ctx, a, rbBenchN()); err != nil {
			b.Fatal(err)
		}
		b.Logf("stored %d tasks on %s in %v", rbBenchN(), dbtest.Engine(), time.Since(start).Round(time.Millisecond))
		if cacheDir != "" {
			if err := rbSave(d, strings.TrimPrefix(d.DSN, "sqlite:"), keyFile, cacheDir, env.meta); err != nil {
				b.Fatal(err)
			}
		}
	}
	sys := authz.WithActor(ctx, authz.System("bench"))
	for _, x := range []struct {
		id  int64
		dst *context.Context
	}{{env.meta.Director, &env.dir}, {env.meta.Supervisor, &env.sup}} {
		actor, err := a.Org.LoadActor(sys, x.id)
		if err != nil {
			b.Fatal(err)
		}
		*x.dst = authz.WithActor(ctx, actor)
	}
	return env
}

// rbDigest keys the SQLite cache: the migrations, the data's shape and size.
func rbDigest() string {
	h := sha256.New()
	fsys := db.MigrationsFS(db.SQLite)
	names, _ := fs.Glob(fsys, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s/%d", rbShape, rbBenchN())
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func rbSave(d *db.DB, dbFile, keyFile, cacheDir string, meta rbMeta) error {
	if _, err := d.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	tmp := cacheDir + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	for src, dst := range map[string]string{dbFile: "kefu.db", keyFile: "kefu.keys"} {
		if err := rbCopy(src, filepath.Join(tmp, dst)); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), raw, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, cacheDir); err != nil { // another run won the race: keep theirs
		_ = os.RemoveAll(tmp)
	}
	return nil
}

func rbCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// rbCase maps x % len(ids) to ids as a SQL CASE expression.
func rbCase(x string, ids []int64) string {
	var sb strings.Builder
	sb.WriteString("CASE " + x + " % " + strconv.Itoa(len(ids)))
	for i, id := range ids {
		fmt.Fprintf(&sb, " WHEN %d THEN %d", i, id)
	}
	sb.WriteString(" END")
	return sb.String()
}

// rbFill stores n tasks of 2026 with their decisions, records, issues and false
// records, and the organisation and customers they refer to.
func rbFill(ctx context.Context, a *app.App, n int) (rbMeta, error) {
	sys := authz.WithActor(ctx, authz.System("bench"))
	meta := rbMeta{N: n}
	var staff []int64
	for i := range 10 {
		d, err := a.Org.CreateDepartment(sys, org.DepartmentInput{Code: fmt.Sprintf("rb%d", i), Name: fmt.Sprintf("Bench %d", i)})
		if err != nil {
			return meta, err
		}
		meta.Depts = append(meta.Depts, d.ID)
	}
	// Fifty visitors, five per department: visitor k works in department k % 10.
	for k := range 50 {
		st, err := a.Org.CreateStaff(sys, org.StaffInput{Username: fmt.Sprintf("rb_visitor_%d", k), DisplayName: "Visitor",
			Roles: []string{"agent"}, DeptID: meta.Depts[k%10]})
		if err != nil {
			return meta, err
		}
		staff = append(staff, st.ID)
	}
	sup, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "rb_supervisor", DisplayName: "Bench supervisor",
		Roles: []string{"supervisor"}, DeptID: meta.Depts[0]})
	if err != nil {
		return meta, err
	}
	dir, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "rb_director", DisplayName: "Bench director",
		Roles: []string{"director"}, DeptID: meta.Depts[0]})
	if err != nil {
		return meta, err
	}
	meta.Supervisor, meta.Director = sup.ID, dir.ID
	var custs []int64
	for i := range 100 {
		c, err := a.Customer.CreateCustomer(sys, customer.Input{Kind: customer.KindPerson, Name: fmt.Sprintf("Bench %d", i),
			Mobile: fmt.Sprintf("139%08d", 10000000+i)})
		if err != nil {
			return meta, err
		}
		custs = append(custs, c.ID)
	}
	yearStart := time.Date(2026, 1, 1, 0, 0, 0, 0, rpCST).UnixMilli()
	step := int64(365*24*3600*1000) / int64(n)
	start := strconv.FormatInt(yearStart, 10) + " + (CAST(x AS BIGINT) - 1) * " + strconv.FormatInt(step, 10)
	// x % 20 picks the rule (complaint 4/20, repair 8/20, activity 1/20, sales visit 4/20,
	// cooperation 2/20, move-in 1/20) and x % 100 the status.
	rule := `CASE WHEN x % 20 < 4 THEN 'complaint_closed' WHEN x % 20 < 12 THEN 'repair_done'
		WHEN x % 20 = 12 THEN 'activity_ended' WHEN x % 20 < 17 THEN 'sales_visit' WHEN x % 20 < 19 THEN 'coop_monthly'
		ELSE 'move_in' END`
	status := `CASE WHEN x % 100 < 75 THEN 'done' WHEN x % 100 < 85 THEN 'unreached' WHEN x % 100 < 90 THEN 'expired'
		WHEN x % 100 < 93 THEN 'cancelled' ELSE 'open' END`
	// The visitor is (x / 7) % 50, in department visitor % 10.
	stmts := []string{
		`WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ` + strconv.Itoa(n) + `)
		INSERT INTO revisit_tasks (rule_code, customer_id, source_type, source_id, level, dept_id, team_id, assignee_id,
			window_start, window_end, scheduled_at, method, status, round, parent_id, attempts, next_attempt_at, done_at,
			decision_id, plan_key, version, created_at, updated_at)
		SELECT ` + rule + `, ` + rbCase("x", custs) + `, 'ticket', x, 'general', ` + rbCase("((x / 7) % 50)", meta.Depts) + `,
			NULL, ` + rbCase("(x / 7)", staff) + `, ` + start + `, ` + start + ` + 259200000, ` + start + ` + 3600000,
			'phone', ` + status + `, 1, NULL, 1, 0,
			CASE WHEN x % 100 < 75 THEN ` + start + ` + (x % 97) * 3600000 ELSE 0 END,
			x, '', 1, ` + start + `, ` + start + ` FROM seq`,
		// Every task's decision (chosen), and an event not chosen for each sampled rule's task.
		`INSERT INTO revisit_decisions (rule_code, event_key, customer_id, bucket, rate_pct, chosen, reason, task_id, decided_at)
		SELECT rule_code, 't' || CAST(id AS TEXT), customer_id, id % 10000, 50, 1, 'sampled', id, window_start FROM revisit_tasks`,
		`INSERT INTO revisit_decisions (rule_code, event_key, customer_id, bucket, rate_pct, chosen, reason, task_id, decided_at)
		SELECT rule_code, 'u' || CAST(id AS TEXT), customer_id, 9999, 50, 0, 'not_sampled', NULL, window_start FROM revisit_tasks
		WHERE rule_code IN ('complaint_closed', 'repair_done', 'activity_ended')`,
		`INSERT INTO revisit_records (task_id, round, method, visited_at, reached, satisfaction, answers, important, note,
			agent_id, signature_id, signoff_by, signoff_at, signoff_note, flagged_false_at, flagged_by, false_reason,
			false_confirmed_at, false_confirmed_by, false_staff_id, created_at, version)
		SELECT id, 1, 'phone', CASE WHEN done_at > 0 THEN done_at ELSE window_end END,
			CASE WHEN status = 'done' THEN 1 ELSE 0 END,
			CASE WHEN status <> 'done' THEN 0 WHEN id % 50 = 0 THEN 2 WHEN id % 50 = 1 THEN 1 WHEN id % 10 < 3 THEN 4
				WHEN id % 10 = 3 THEN 3 ELSE 5 END,
			'{"q1":"ok"}', CASE WHEN id % 100 = 7 THEN 1 ELSE 0 END, '', assignee_id, NULL, NULL, 0, '',
			CASE WHEN id % 1000 = 3 AND status = 'done' THEN done_at + 86400000 ELSE 0 END, NULL, '',
			CASE WHEN id % 1000 = 3 AND status = 'done' THEN done_at + 172800000 ELSE 0 END, NULL,
			CASE WHEN id % 1000 = 3 AND status = 'done' THEN assignee_id ELSE NULL END,
			CASE WHEN done_at > 0 THEN done_at ELSE window_end END, 1
		FROM revisit_tasks WHERE status IN ('done', 'unreached')`,
		`INSERT INTO revisit_issues (record_id, task_id, body, ticket_id, appointment_at, next_task_id, answered_at, created_at)
		SELECT id, task_id, 'Bench issue', NULL, visited_at + 172800000, NULL,
			CASE WHEN id % 2 = 0 THEN visited_at + 259200000 ELSE 0 END, visited_at
		FROM revisit_records WHERE reached = 1 AND id % 20 = 5`,
	}
	err = a.DB.WithTx(ctx, func(ctx context.Context) error {
		for _, q := range stmts {
			if _, err := a.DB.Exec(ctx, q); err != nil {
				return fmt.Errorf("%w\n%s", err, q)
			}
		}
		return nil
	})
	if err != nil {
		return meta, err
	}
	// The daily decision counts the engine keeps beside its decisions.
	if err := rpFillDecisionStats(ctx, a.DB); err != nil {
		return meta, err
	}
	if a.DB.Dialect == db.Postgres {
		_, err = a.DB.Exec(ctx, `VACUUM ANALYZE revisit_tasks, revisit_decisions, revisit_records, revisit_issues`)
	} else {
		_, err = a.DB.Exec(ctx, `ANALYZE`)
	}
	return meta, err
}

// rbCPU is the CPU time the process has used (user + system).
func rbCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRevisitReport1M measures the report of 2026 over rbBenchN() tasks (issue 9:
// < 1 s), as the director (every department, with the sampling figures) and as a
// department's supervisor.
func BenchmarkRevisitReport1M(b *testing.B) {
	env := rbSetup(b)
	q := revisit.ReportQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, rpCST), To: time.Date(2027, 1, 1, 0, 0, 0, 0, rpCST)}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"director", env.dir}, {"supervisor", env.sup}} {
		b.Run(tc.name, func(b *testing.B) {
			var ds []time.Duration
			cpu0 := rbCPU()
			for b.Loop() {
				t0 := time.Now()
				rp, err := env.app.Revisit.Report(tc.ctx, q)
				ds = append(ds, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if tc.name == "director" && (rp.Totals.Tasks != int64(env.meta.N) || rp.Totals.Decided == 0 ||
					rp.Satisfaction.Rated == 0 || rp.Issues.Raised == 0) {
					b.Fatalf("reported %d tasks (want %d), %d decided, %d rated, %d issues", rp.Totals.Tasks, env.meta.N,
						rp.Totals.Decided, rp.Satisfaction.Rated, rp.Issues.Raised)
				}
			}
			if len(ds) == 0 {
				return
			}
			b.ReportMetric(float64((rbCPU()-cpu0).Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
			b.ReportMetric(ms(ds[len(ds)-1]), "max-ms")
		})
	}
}
