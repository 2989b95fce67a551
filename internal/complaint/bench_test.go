package complaint_test

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
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// The SPEC numbers of the complaint capability, measured over anBenchN() complaints
// received in 2026 (KEFU_BENCH_COMPLAINTS, default 200,000):
//   - the analysis of one year: < 500 ms (BenchmarkAnalysisYear);
//   - the complaint list filtered by stage: p50 < 20 ms (BenchmarkListByStage).
// The rows are written with a few INSERT ... SELECT statements (requests, complaints in
// every stage, level, channel, department and cause, 5% merged, about 650,000 stage
// log entries, penalties). On SQLite the filled database is kept in the temporary
// directory, keyed by the migrations and the data's shape, so later runs only copy it.
//
//	go test ./internal/complaint/ -run '^$' -bench 'AnalysisYear|ListByStage' -benchtime 20x
//	KEFU_TEST_DB=postgres go test ./internal/complaint/ -run '^$' -bench 'AnalysisYear|ListByStage' -benchtime 20x

// anBenchShape names the generated data; change it when the generator changes.
const anBenchShape = "v1"

func anBenchN() int {
	if n, err := strconv.Atoi(os.Getenv("KEFU_BENCH_COMPLAINTS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// anBenchMeta is what a benchmark needs to know about the stored data.
type anBenchMeta struct {
	Depts      []int64 `json:"depts"`
	Supervisor int64   `json:"supervisor"` // supervisor of Depts[0]
	Director   int64   `json:"director"`
	N          int     `json:"n"`
}

// anBenchEnv is the application over the filled database.
type anBenchEnv struct {
	app  *app.App
	meta anBenchMeta
	dir  context.Context
	sup  context.Context
}

// anBenchSetup opens the application over a database holding anBenchN() complaints: on
// SQLite a copy of the cached file when there is one, else a fresh database filled now
// (and, on SQLite, cached for the next run).
func anBenchSetup(b *testing.B) *anBenchEnv {
	b.Helper()
	ctx := context.Background()
	work := b.TempDir()
	keyFile := filepath.Join(work, "kefu.keys")
	var d *db.DB
	cacheDir := ""
	cached := false
	if dbtest.Engine() != "postgres" {
		cacheDir = filepath.Join(os.TempDir(), "kefu-complaint-bench-"+anBenchDigest())
		if _, err := os.Stat(filepath.Join(cacheDir, "meta.json")); err == nil {
			for _, f := range []string{"kefu.db", "kefu.keys"} {
				if err := anCopyFile(filepath.Join(cacheDir, f), filepath.Join(work, f)); err != nil {
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
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, anChina))
	a, err := app.New(ctx, cfg, app.Options{DB: d, SkipMigrate: true, Clock: fake,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	env := &anBenchEnv{app: a}
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
		if env.meta, err = anBenchFill(ctx, a, anBenchN()); err != nil {
			b.Fatal(err)
		}
		b.Logf("stored %d complaints on %s in %v", anBenchN(), dbtest.Engine(), time.Since(start).Round(time.Millisecond))
		if cacheDir != "" {
			if err := anBenchSave(d, strings.TrimPrefix(d.DSN, "sqlite:"), keyFile, cacheDir, env.meta); err != nil {
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

// anBenchDigest keys the SQLite cache: the migrations, the data's shape and size.
func anBenchDigest() string {
	h := sha256.New()
	fsys := db.MigrationsFS(db.SQLite)
	names, _ := fs.Glob(fsys, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s/%d", anBenchShape, anBenchN())
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// anBenchSave copies the filled SQLite database and its key file into the cache.
func anBenchSave(d *db.DB, dbFile, keyFile, cacheDir string, meta anBenchMeta) error {
	if _, err := d.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	tmp := cacheDir + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	for src, dst := range map[string]string{dbFile: "kefu.db", keyFile: "kefu.keys"} {
		if err := anCopyFile(src, filepath.Join(tmp, dst)); err != nil {
			return err
		}
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, cacheDir); err != nil { // another run won the race: keep theirs
		_ = os.RemoveAll(tmp)
	}
	return nil
}

func anCopyFile(src, dst string) error {
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

// anCase maps x % len(ids) to ids as a SQL CASE expression.
func anCase(x string, ids []int64) string {
	var sb strings.Builder
	sb.WriteString("CASE " + x + " % " + strconv.Itoa(len(ids)))
	for i, id := range ids {
		fmt.Fprintf(&sb, " WHEN %d THEN %d", i, id)
	}
	sb.WriteString(" END")
	return sb.String()
}

// anBenchFill stores n complaint requests received over 2026 with their complaints,
// stage logs and penalties, and the organisation and customers they refer to.
func anBenchFill(ctx context.Context, a *app.App, n int) (anBenchMeta, error) {
	sys := authz.WithActor(ctx, authz.System("bench"))
	meta := anBenchMeta{N: n}
	var staff []int64
	for i := range 10 {
		d, err := a.Org.CreateDepartment(sys, org.DepartmentInput{Code: fmt.Sprintf("bd%d", i), Name: fmt.Sprintf("Bench %d", i)})
		if err != nil {
			return meta, err
		}
		meta.Depts = append(meta.Depts, d.ID)
		st, err := a.Org.CreateStaff(sys, org.StaffInput{Username: fmt.Sprintf("bench_staff_%d", i), DisplayName: "Bench",
			Roles: []string{"agent"}, DeptID: d.ID})
		if err != nil {
			return meta, err
		}
		staff = append(staff, st.ID)
	}
	sup, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "bench_supervisor", DisplayName: "Bench supervisor",
		Roles: []string{"supervisor"}, DeptID: meta.Depts[0]})
	if err != nil {
		return meta, err
	}
	dir, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "bench_director", DisplayName: "Bench director",
		Roles: []string{"director"}, DeptID: meta.Depts[0]})
	if err != nil {
		return meta, err
	}
	meta.Supervisor, meta.Director = sup.ID, dir.ID
	var custs []int64
	for i := range 100 {
		c, err := a.Customer.CreateCustomer(sys, customer.Input{Kind: customer.KindPerson, Name: fmt.Sprintf("Bench %d", i),
			Mobile: anMobile()})
		if err != nil {
			return meta, err
		}
		custs = append(custs, c.ID)
	}
	var causes []int64
	rows, err := a.DB.Query(ctx, `SELECT id FROM complaint_causes ORDER BY id`)
	if err != nil {
		return meta, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return meta, err
		}
		causes = append(causes, id)
	}
	rows.Close()

	yearStart := time.Date(2026, 1, 1, 0, 0, 0, 0, anChina).UnixMilli()
	step := int64(365*24*3600*1000) / int64(n)
	channels := `CASE x % 5 WHEN 0 THEN 'phone' WHEN 1 THEN 'web' WHEN 2 THEN 'email' WHEN 3 THEN 'portal' ELSE 'walk_in' END`
	stmts := []string{
		`WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ` + strconv.Itoa(n) + `)
		INSERT INTO tickets (number, type, sub_kind, category_id, channel, severity, priority, priority_reasons, fault_level,
			status, open, title, body, customer_id, contact_name, dept_id, team_id, assignee_id, created_by, sla_policy_id,
			calendar_id, response_due_at, responded_at, resolve_due_at, resolved_at, confirm_due_at, confirmed_at, closed_at,
			sla_paused_at, sla_paused_ms, response_warned_at, response_breached_at, resolve_warned_at, resolve_breached_at,
			escalated_at, reopen_count, version, created_at, updated_at, last_activity_at)
		SELECT 'CB' || CAST(x AS TEXT), 'complaint', '', NULL, ` + channels + `, 'general', 'low', '[]', 0,
			'in_progress', 1, 'Bench complaint', '', NULL, '', ` + anCase("x", meta.Depts) + `, NULL, NULL, 0, 0, 'default',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
			` + strconv.FormatInt(yearStart, 10) + ` + (CAST(x AS BIGINT) - 1) * ` + strconv.FormatInt(step, 10) + `,
			` + strconv.FormatInt(yearStart, 10) + `, ` + strconv.FormatInt(yearStart, 10) + ` FROM seq`,
		`INSERT INTO complaints (ticket_id, number, title, channel, stage, level, anonymous, reply_only, customer_id,
			location, object_kind, object_dept_id, object_staff_id, object_text, dept_id, team_id, resp_dept_id,
			resp_team_id, resp_staff_id, cause_id, cause_kind, calendar_id, first_due_at, first_done_at, result_due_at,
			result_done_at, stage_at, stage_due_at, first_warned_at, first_escalated_at, result_warned_at,
			result_escalated_at, stage_warned_at, stage_escalated_at, rejected_at, satisfaction, reply_letter_id,
			master_id, merged_at, is_case, case_summary, case_at, reopen_count, closed_at, created_by, version, created_at,
			updated_at)
		SELECT t.id, t.number, t.title, t.channel,
			CASE t.si WHEN 0 THEN 'received' WHEN 1 THEN 'assessing' WHEN 2 THEN 'rejected' WHEN 3 THEN 'investigating'
				WHEN 4 THEN 'proposing' WHEN 5 THEN 'executing' WHEN 6 THEN 'feedback' WHEN 7 THEN 'evaluating' ELSE 'closed' END,
			CASE WHEN t.id % 10 = 0 THEN 'major' WHEN t.id % 10 < 3 THEN 'urgent' ELSE 'general' END, 0, 0,
			CASE WHEN t.id % 2 = 0 THEN ` + anCase("(t.id / 2)", custs) + ` ELSE NULL END,
			'', '', NULL, NULL, '', t.dept_id, NULL,
			CASE WHEN t.si >= 3 THEN ` + anCase("(t.id / 7)", meta.Depts) + ` ELSE NULL END, NULL, NULL,
			CASE WHEN t.si >= 4 THEN ` + anCase("t.id", causes) + ` ELSE NULL END,
			CASE WHEN t.si >= 4 THEN 'other' ELSE '' END, 'default',
			t.created_at + 86400000, CASE WHEN t.si >= 2 THEN t.created_at + (t.id % 30) * 3600000 ELSE 0 END,
			t.created_at + 172800000, CASE WHEN t.si >= 5 THEN t.created_at + (t.id % 60) * 3600000 ELSE 0 END,
			t.created_at, 0, 0, 0, 0, 0, 0, 0,
			CASE WHEN t.si = 2 THEN t.created_at + 10800000 ELSE 0 END,
			CASE WHEN t.si >= 7 THEN 1 + t.id % 5 ELSE 0 END, NULL, NULL, 0, 0, '', 0, 0,
			CASE WHEN t.si = 8 THEN t.created_at + 259200000 ELSE 0 END, 0, 1, t.created_at, t.created_at
		FROM (SELECT id, number, title, channel, dept_id, created_at, (id / 3) % 9 AS si FROM tickets
			WHERE number LIKE 'CB%') t`,
		`UPDATE complaints SET master_id = id - 1, merged_at = created_at + 3600000 WHERE id % 20 = 7 AND id > 1`,
		`INSERT INTO complaint_stage_log (complaint_id, from_stage, to_stage, from_since, reason, data, actor_kind, actor_id,
			actor_name, at)
		SELECT id, '', 'received', created_at, '', '{}', 'system', 0, 'bench', created_at FROM complaints
		UNION ALL SELECT id, 'received', 'assessing', created_at, '', '{}', 'system', 0, 'bench',
			created_at + (id % 10 + 1) * 3600000 FROM complaints WHERE stage <> 'received'
		UNION ALL SELECT id, 'assessing', CASE WHEN stage = 'rejected' THEN 'rejected' ELSE 'investigating' END,
			created_at + 39600000, '', '{}', 'system', 0, 'bench', created_at + 39600000 + (id % 20 + 1) * 3600000
			FROM complaints WHERE stage NOT IN ('received', 'assessing')
		UNION ALL SELECT id, 'investigating', 'proposing', created_at + 90000000, '', '{}', 'system', 0, 'bench',
			created_at + 90000000 + (id % 30 + 1) * 3600000 FROM complaints
			WHERE stage IN ('proposing', 'executing', 'feedback', 'evaluating', 'closed')`,
		`INSERT INTO complaint_penalties (complaint_id, staff_id, staff_dept_id, role, kind, fine_category, amount, note,
			status, proposed_by, proposed_at, decided_by, decided_at, decision_note)
		SELECT id, ` + anCase("id", staff) + `, ` + anCase("id", meta.Depts) + `, 'direct', 'fine', 'A',
			10000 * (1 + id % 4), '', CASE WHEN id % 100 = 0 THEN 'approved' ELSE 'proposed' END, 0, created_at, 0,
			created_at + 345600000, '' FROM complaints
			WHERE id % 50 = 0 AND stage IN ('executing', 'feedback', 'evaluating', 'closed')`,
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
	if a.DB.Dialect == db.Postgres {
		_, err = a.DB.Exec(ctx, `VACUUM ANALYZE tickets, complaints, complaint_stage_log, complaint_penalties`)
	} else {
		_, err = a.DB.Exec(ctx, `ANALYZE`)
	}
	return meta, err
}

// anCPU is the CPU time the process has used (user + system): on a loaded machine it
// shows what an iteration costs apart from waiting for a processor.
func anCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// anReport reports the median and the 95th percentile of the iterations, and the CPU
// time per iteration since cpu0.
func anReport(b *testing.B, ds []time.Duration, cpu0 time.Duration) {
	if len(ds) == 0 {
		return
	}
	b.ReportMetric(float64((anCPU()-cpu0).Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[min(len(ds)-1, len(ds)*95/100)]), "p95-ms")
}

// BenchmarkAnalysisYear measures the analysis of 2026 over anBenchN() complaints (SPEC:
// < 500 ms), as the director (every department) and as a department's supervisor.
func BenchmarkAnalysisYear(b *testing.B) {
	env := anBenchSetup(b)
	q := complaint.AnalysisQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, anChina),
		To: time.Date(2027, 1, 1, 0, 0, 0, 0, anChina)}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"director", env.dir}, {"supervisor", env.sup}} {
		b.Run(tc.name, func(b *testing.B) {
			var ds []time.Duration
			cpu0 := anCPU()
			for b.Loop() {
				start := time.Now()
				an, err := env.app.Complaint.Analyze(tc.ctx, q)
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if tc.name == "director" && an.Totals.Received != int64(env.meta.N) {
					b.Fatalf("analysed %d complaints, want %d", an.Totals.Received, env.meta.N)
				}
			}
			anReport(b, ds, cpu0)
		})
	}
}

// BenchmarkListByStage measures the first page (50) of the complaint list filtered by
// stage over anBenchN() complaints (SPEC: p50 < 20 ms).
func BenchmarkListByStage(b *testing.B) {
	env := anBenchSetup(b)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		f    complaint.Filter
	}{
		{"director_investigating", env.dir, complaint.Filter{Stage: complaint.StageInvestigating}},
		{"director_closed_masters", env.dir, complaint.Filter{Stage: complaint.StageClosed, Masters: true}},
		{"supervisor_investigating", env.sup, complaint.Filter{Stage: complaint.StageInvestigating}},
		{"supervisor_feedback_urgent", env.sup, complaint.Filter{Stage: complaint.StageFeedback, Level: complaint.LevelUrgent}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var ds []time.Duration
			cpu0 := anCPU()
			for b.Loop() {
				start := time.Now()
				p, err := env.app.Complaint.List(tc.ctx, tc.f, 50, "")
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != 50 {
					b.Fatalf("%d items", len(p.Items))
				}
			}
			anReport(b, ds, cpu0)
		})
	}
}
