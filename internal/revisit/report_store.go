package revisit

// OWNED BY the report engineer (H4): the SQL of the metrics and the summary report
// (huifang zongjie baogao). It reads the contract tables only: revisit_tasks,
// revisit_decisions, revisit_rules (code, name, rate_pct), revisit_records and
// revisit_issues.
//
// How it stays fast over a year of a million tasks: the tasks of a period are streamed
// month by month (each month on its own read connection, side by side), rule by rule, as
// one packed integer per task from a covering index (revisit_tasks_report, migration
// 00020); the records and the issues of those tasks are streamed in task order from two
// more covering indexes (revisit_records_report, revisit_issues_report) and matched to
// their task in Go. Measured on SQLite this does a third less work than letting the
// engine join records to tasks, and the months split it over the cores. Each row is
// one number where the values fit (the task id and its packed figures; the task id and
// the record's), read without reflection: the driver's work per row is what counts.
// The decisions come from the engine's daily counts (revisit_decision_stats) for the
// whole China days of the period, and are counted along revisit_decisions_report only
// for the hours around them; the unanswered issues and false records are few and read
// with plain queries.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// The packed number of a task (rpTaskRow.bits), lowest bits first.
const (
	rpStatusMask  = 7      // 3 bits: index in rpStatuses (5 = unknown)
	rpBitOnTime   = 1 << 3 // done within its window
	rpBitEnded    = 1 << 4 // its window has ended
	rpBitSampled  = 1 << 5 // a first visit made for a sampling decision
	rpShiftAgent  = 8      // the rest: the assignee (0 = none)
	rpStatusOther = 5
)

// rpStatuses are the task statuses in the order of their packed index (the contract's
// values, as stored).
var rpStatuses = []string{"open", "done", "unreached", "expired", "cancelled"}

// The packed number of a record: reached (0/1) + 2 * satisfaction (0..5) + 32 *
// important (0/1), plain arithmetic on the stored values (checked in Go).
const (
	rpBitReached   = 1      // the customer was reached
	rpShiftSat     = 1      // 4 bits: satisfaction 0 (not given) .. 5
	rpBitImportant = 1 << 5 // marked important
)

var (
	// sqlReportTaskBits is the packed number of a task t (rpTaskRow.bits). The tasks are
	// read one rule at a time, along revisit_tasks_report (rule_code, window_start, ...):
	// the rule needs no CASE.
	sqlReportTaskBits = `(CASE t.status WHEN 'done' THEN 1 WHEN 'unreached' THEN 2 WHEN 'open' THEN 0 WHEN 'expired' THEN 3
			WHEN 'cancelled' THEN 4 ELSE 5 END)
		+ (CASE WHEN t.done_at > 0 AND t.done_at <= t.window_end THEN 8 ELSE 0 END)
		+ (CASE WHEN t.window_end <= ? THEN 16 ELSE 0 END)
		+ (CASE WHEN t.round <= 1 AND t.decision_id IS NOT NULL THEN 32 ELSE 0 END)
		+ 256 * COALESCE(t.assignee_id, 0)`
	// sqlReportTaskBitsSQLite is sqlReportTaskBits in SQLite's cheaper arithmetic (a
	// comparison is 0 or 1; the status by its first letter), about a third less work per
	// task; rpFromSQLite turns its number into the packed one above.
	sqlReportTaskBitsSQLite = `unicode(t.status)
		+ 128 * (t.done_at > 0 AND t.done_at <= t.window_end)
		+ 256 * (t.window_end <= ?)
		+ 512 * (t.round <= 1 AND t.decision_id IS NOT NULL)
		+ 1024 * COALESCE(t.assignee_id, 0)`
	// sqlReportTasks is a format: %s is the packed number above, %s the condition.
	sqlReportTasks = `SELECT t.id, %s
		FROM revisit_tasks t WHERE t.rule_code = ? AND t.window_start >= ? AND t.window_start < ?%s`
	// sqlReportTasksOne is sqlReportTasks with the task id and its packed number in one
	// column (id * 2^32 + number), used when every id is below 2^31 and every assignee
	// below 2^22 (sqlReportTaskLimits): the driver then hands over one value per task.
	sqlReportTasksOne = `SELECT t.id * 4294967296 + (%s)
		FROM revisit_tasks t WHERE t.rule_code = ? AND t.window_start >= ? AND t.window_start < ?%s`
	// The records and the issues: one number per row (the task id times 64 plus the
	// packed record, or times 2 plus answered); one column costs the driver half of two.
	sqlReportRecordsRange = `SELECT r.task_id * 64 + (r.reached + 2 * r.satisfaction + 32 * r.important)
		FROM revisit_records r WHERE r.task_id >= ? AND r.task_id <= ? ORDER BY r.task_id`
	sqlReportRecordsIn = `SELECT r.task_id * 64 + (r.reached + 2 * r.satisfaction + 32 * r.important)
		FROM revisit_records r WHERE r.task_id IN (%s) ORDER BY r.task_id`
	sqlReportIssuesRange = `SELECT i.task_id * 2 + (CASE WHEN i.answered_at > 0 THEN 1 ELSE 0 END)
		FROM revisit_issues i WHERE i.task_id >= ? AND i.task_id <= ? ORDER BY i.task_id`
	sqlReportIssuesIn = `SELECT i.task_id * 2 + (CASE WHEN i.answered_at > 0 THEN 1 ELSE 0 END)
		FROM revisit_issues i WHERE i.task_id IN (%s) ORDER BY i.task_id`
	// The decisions of whole China days come from revisit_decision_stats (kept by the
	// engine in the transaction that stores them), rule by rule; the hours before the
	// first and after the last whole day of the period are counted one by one, one count
	// per value of chosen along revisit_decisions_report (rule_code, chosen, decided_at).
	sqlReportDecisionStats = `SELECT rule_code, SUM(decided), SUM(chosen) FROM revisit_decision_stats
		WHERE day >= ? AND day < ? GROUP BY rule_code`
	sqlReportDecisions = `SELECT COUNT(*) FROM revisit_decisions d
		WHERE d.rule_code = ? AND d.chosen = ? AND d.decided_at >= ? AND d.decided_at < ?`
	// The largest task id and assignee: when small enough, a task travels as one number.
	sqlReportTaskLimits = `SELECT COALESCE(MAX(id), 0), (SELECT COALESCE(MAX(assignee_id), 0) FROM revisit_tasks)
		FROM revisit_tasks`
	sqlReportRules = `SELECT code, name, rate_pct FROM revisit_rules ORDER BY sort_order, id`
	// %s: the condition on the issue's task t (never empty: without one the count reads
	// the issues alone, sqlReportUnansweredAll).
	sqlReportUnanswered = `SELECT i.id, i.task_id, i.record_id, COALESCE(i.ticket_id, 0), i.body, i.appointment_at, i.created_at,
		t.customer_id, t.rule_code, COALESCE(t.assignee_id, 0)
		FROM revisit_issues i JOIN revisit_tasks t ON t.id = i.task_id
		WHERE i.answered_at = 0 AND i.created_at < ?%s ORDER BY i.created_at, i.id LIMIT ?`
	sqlReportUnansweredCount = `SELECT COUNT(*) FROM revisit_issues i JOIN revisit_tasks t ON t.id = i.task_id
		WHERE i.answered_at = 0 AND i.created_at < ?%s`
	sqlReportUnansweredAll = `SELECT COUNT(*) FROM revisit_issues i WHERE i.answered_at = 0 AND i.created_at < ?`
	sqlReportFalseByStaff  = `SELECT COALESCE(r.false_staff_id, 0), COUNT(*) FROM revisit_records r
		JOIN revisit_tasks t ON t.id = r.task_id
		WHERE r.false_confirmed_at >= ? AND r.false_confirmed_at < ?%s GROUP BY COALESCE(r.false_staff_id, 0)`
	sqlReportFalseList = `SELECT r.id, r.task_id, COALESCE(r.false_staff_id, 0), r.visited_at, r.false_confirmed_at,
		t.customer_id, t.rule_code
		FROM revisit_records r JOIN revisit_tasks t ON t.id = r.task_id
		WHERE r.false_confirmed_at >= ? AND r.false_confirmed_at < ?%s ORDER BY r.false_confirmed_at, r.id LIMIT ?`
	// The unary + keeps the engines off the index of false_confirmed_at: nearly every
	// record has 0 there, the period's flags are few (revisit_records_flagged).
	sqlReportFlagged = `SELECT COUNT(*) FROM revisit_records r JOIN revisit_tasks t ON t.id = r.task_id
		WHERE r.flagged_false_at >= ? AND r.flagged_false_at < ? AND +r.false_confirmed_at = 0%s`
)

// reportStore runs the report's queries.
type reportStore struct{ db *db.DB }

// rpCond is the part of a WHERE clause that limits the tasks t (scope, department,
// rule): it starts with " AND " when not empty.
type rpCond struct {
	sql  string
	args []any
}

// rpRule is a rule as the report knows it.
type rpRule struct {
	code, name string
	rate       int
}

func (s reportStore) rules(ctx context.Context) ([]rpRule, error) {
	rows, err := s.db.Query(ctx, sqlReportRules)
	if err != nil {
		return nil, fmt.Errorf("revisit: report rules: %w", err)
	}
	defer rows.Close()
	var out []rpRule
	for rows.Next() {
		var r rpRule
		if err := rows.Scan(&r.code, &r.name, &r.rate); err != nil {
			return nil, fmt.Errorf("revisit: report rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// rpTaskRow is one task of the period: its id and packed figures.
type rpTaskRow struct {
	id, bits int64
}

// rpOneLimits are the largest task id and assignee for which a task travels as one
// number (sqlReportTasksOne).
const (
	rpOneMaxID    = 1<<31 - 1
	rpOneMaxAgent = 1<<22 - 1
)

// oneColumn tells whether the tasks may be read as one number each (sqlReportTasksOne).
// An id written after this check and past the limit fails the report (the engines
// report the overflow) rather than miscount it.
func (s reportStore) oneColumn(ctx context.Context) (bool, error) {
	var id, agent int64
	if err := s.db.QueryRow(ctx, sqlReportTaskLimits).Scan(&id, &agent); err != nil {
		return false, fmt.Errorf("revisit: report task limits: %w", err)
	}
	return id <= rpOneMaxID && agent <= rpOneMaxAgent && agent >= 0 && id >= 0, nil
}

// rpInt is an integer column read as any (the driver's value, scanned without
// reflection).
func rpInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("revisit: report: %T is not an integer", v)
}

// tasks streams the tasks of rule whose window starts in [from, to) and match cond
// into fn; one tells whether they may be read as one number each (oneColumn).
func (s reportStore) tasks(ctx context.Context, rule string, now, from, to time.Time, cond rpCond, one bool,
	fn func(rpTaskRow)) error {
	args := append([]any{now.UnixMilli(), rule, from.UnixMilli(), to.UnixMilli()}, cond.args...)
	bits, lite := sqlReportTaskBits, s.db.Dialect == db.SQLite
	if lite {
		bits = sqlReportTaskBitsSQLite
	}
	q := sqlReportTasks
	if one {
		q = sqlReportTasksOne
	}
	rows, err := s.db.Query(ctx, fmt.Sprintf(q, bits, cond.sql), args...)
	if err != nil {
		return fmt.Errorf("revisit: report tasks: %w", err)
	}
	defer rows.Close()
	var r rpTaskRow
	var a, b any
	for rows.Next() {
		if one {
			err = rows.Scan(&a)
		} else {
			err = rows.Scan(&a, &b)
		}
		if err != nil {
			return fmt.Errorf("revisit: report tasks: %w", err)
		}
		v, err := rpInt(a)
		if err != nil {
			return err
		}
		if one {
			r.id, r.bits = v>>32, v&(1<<32-1)
		} else if r.bits, err = rpInt(b); err != nil {
			return err
		} else {
			r.id = v
		}
		if lite {
			r.bits = rpFromSQLite(r.bits)
		}
		fn(r)
	}
	return rows.Err()
}

// rpFromSQLite turns the number of sqlReportTasksSQLite into the packed one.
func rpFromSQLite(v int64) int64 {
	st := int64(rpStatusOther)
	switch v & 127 {
	case 'o':
		st = 0
	case 'd':
		st = 1
	case 'u':
		st = 2
	case 'e':
		st = 3
	case 'c':
		st = 4
	}
	return st | ((v>>7)&1)*rpBitOnTime | ((v>>8)&1)*rpBitEnded | ((v>>9)&1)*rpBitSampled | (v>>10)<<rpShiftAgent
}

// rpStream names what is read of the tasks of the period, task by task.
type rpStream int

const (
	rpRecords rpStream = iota // the records: reached, score, important
	rpIssues                  // the issues raised: answered or not
)

// rpMul is what the task id of a row of what is multiplied by.
func rpMul(what rpStream) int64 {
	if what == rpIssues {
		return 2
	}
	return 64
}

// streamRange streams the records or issues of the tasks lo..hi (in task order) into fn.
func (s reportStore) streamRange(ctx context.Context, what rpStream, lo, hi int64, fn func(taskID, bits int64)) error {
	q := sqlReportRecordsRange
	if what == rpIssues {
		q = sqlReportIssuesRange
	}
	return s.stream(ctx, q, []any{lo, hi}, rpMul(what), fn)
}

// streamOf streams the records or issues of the tasks ids (in task order) into fn.
func (s reportStore) streamOf(ctx context.Context, what rpStream, ids []int64, fn func(taskID, bits int64)) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	q := sqlReportRecordsIn
	if what == rpIssues {
		q = sqlReportIssuesIn
	}
	return s.stream(ctx, fmt.Sprintf(q, in), args, rpMul(what), fn)
}

// stream runs q, whose rows are one number each: the task id times mul plus the
// packed figures, and hands them to fn in order.
func (s reportStore) stream(ctx context.Context, q string, args []any, mul int64, fn func(taskID, bits int64)) error {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("revisit: report records: %w", err)
	}
	defer rows.Close()
	var a any
	for rows.Next() {
		if err := rows.Scan(&a); err != nil {
			return fmt.Errorf("revisit: report records: %w", err)
		}
		v, err := rpInt(a)
		if err != nil {
			return err
		}
		fn(v/mul, v%mul)
	}
	return rows.Err()
}

// rpDecided are the decisions of a rule: made, and chosen.
type rpDecided [2]int64

// decisions counts the decisions of the rules codes made in [from, to) and the chosen
// ones: the whole China days from revisit_decision_stats, the hours around them one by
// one.
func (s reportStore) decisions(ctx context.Context, codes []string, from, to time.Time) (map[string]rpDecided, error) {
	out := make(map[string]rpDecided, len(codes))
	first, last := rpDayCeil(from), rpDayFloor(to)
	edges := [][2]time.Time{{from, to}}
	if first.Before(last) {
		edges = [][2]time.Time{{from, first}, {last, to}}
		rows, err := s.db.Query(ctx, sqlReportDecisionStats, first.In(rpChina).Format(time.DateOnly),
			last.In(rpChina).Format(time.DateOnly))
		if err != nil {
			return nil, fmt.Errorf("revisit: report decisions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var code string
			var n, k int64
			if err := rows.Scan(&code, &n, &k); err != nil {
				return nil, fmt.Errorf("revisit: report decisions: %w", err)
			}
			out[code] = rpDecided{n, k}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("revisit: report decisions: %w", err)
		}
	}
	for _, e := range edges {
		if !e[0].Before(e[1]) || e[0].UnixMilli() >= e[1].UnixMilli() {
			continue
		}
		for _, code := range codes {
			n, k, err := s.decisionsOf(ctx, code, e[0], e[1])
			if err != nil {
				return nil, err
			}
			d := out[code]
			out[code] = rpDecided{d[0] + n, d[1] + k}
		}
	}
	return out, nil
}

// rpDayCeil is the first China midnight at or after t; rpDayFloor the last at or before.
func rpDayCeil(t time.Time) time.Time {
	d := rpDayFloor(t)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func rpDayFloor(t time.Time) time.Time {
	l := t.In(rpChina)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, rpChina)
}

// decisionsOf counts the decisions of rule code made in [from, to) and the chosen ones,
// one by one.
func (s reportStore) decisionsOf(ctx context.Context, code string, from, to time.Time) (decided, chosen int64, err error) {
	var not int64
	for _, c := range []struct {
		chosen int
		dst    *int64
	}{{1, &chosen}, {0, &not}} {
		if err := s.db.QueryRow(ctx, sqlReportDecisions, code, c.chosen, from.UnixMilli(), to.UnixMilli()).Scan(c.dst); err != nil {
			return 0, 0, fmt.Errorf("revisit: report decisions: %w", err)
		}
	}
	return chosen + not, chosen, nil
}

// rpOpenIssue is an issue still waiting for its answer.
type rpOpenIssue struct {
	id, taskID, recordID, ticketID int64
	body                           string
	appointmentAt, createdAt       int64
	customerID                     int64
	rule                           string
	assigneeID                     int64
}

// unanswered lists the issues raised before `before` that have no answer yet, oldest
// first (at most limit), and how many there are in all.
func (s reportStore) unanswered(ctx context.Context, before time.Time, cond rpCond, limit int) ([]rpOpenIssue, int64, error) {
	var total int64
	count := sqlReportUnansweredAll
	if cond.sql != "" {
		count = fmt.Sprintf(sqlReportUnansweredCount, cond.sql)
	}
	if err := s.db.QueryRow(ctx, count, append([]any{before.UnixMilli()}, cond.args...)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("revisit: report unanswered: %w", err)
	}
	args := append(append([]any{before.UnixMilli()}, cond.args...), limit)
	rows, err := s.db.Query(ctx, fmt.Sprintf(sqlReportUnanswered, cond.sql), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("revisit: report unanswered: %w", err)
	}
	defer rows.Close()
	var out []rpOpenIssue
	for rows.Next() {
		var r rpOpenIssue
		if err := rows.Scan(&r.id, &r.taskID, &r.recordID, &r.ticketID, &r.body, &r.appointmentAt, &r.createdAt,
			&r.customerID, &r.rule, &r.assigneeID); err != nil {
			return nil, 0, fmt.Errorf("revisit: report unanswered: %w", err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// falseByStaff counts the records confirmed false in [from, to) per staff member found
// at fault (0: nobody named).
func (s reportStore) falseByStaff(ctx context.Context, from, to time.Time, cond rpCond) (map[int64]int64, error) {
	rows, err := s.db.Query(ctx, fmt.Sprintf(sqlReportFalseByStaff, cond.sql),
		append([]any{from.UnixMilli(), to.UnixMilli()}, cond.args...)...)
	if err != nil {
		return nil, fmt.Errorf("revisit: report false records: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("revisit: report false records: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// rpFalseRecord is a record confirmed false.
type rpFalseRecord struct {
	id, taskID, staffID    int64
	visitedAt, confirmedAt int64
	customerID             int64
	rule                   string
}

func (s reportStore) falseRecords(ctx context.Context, from, to time.Time, cond rpCond, limit int) ([]rpFalseRecord, error) {
	args := append(append([]any{from.UnixMilli(), to.UnixMilli()}, cond.args...), limit)
	rows, err := s.db.Query(ctx, fmt.Sprintf(sqlReportFalseList, cond.sql), args...)
	if err != nil {
		return nil, fmt.Errorf("revisit: report false records: %w", err)
	}
	defer rows.Close()
	var out []rpFalseRecord
	for rows.Next() {
		var r rpFalseRecord
		if err := rows.Scan(&r.id, &r.taskID, &r.staffID, &r.visitedAt, &r.confirmedAt, &r.customerID,
			&r.rule); err != nil {
			return nil, fmt.Errorf("revisit: report false records: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// flaggedPending counts the records flagged false in [from, to) and not confirmed yet.
func (s reportStore) flaggedPending(ctx context.Context, from, to time.Time, cond rpCond) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, fmt.Sprintf(sqlReportFlagged, cond.sql),
		append([]any{from.UnixMilli(), to.UnixMilli()}, cond.args...)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("revisit: report flagged records: %w", err)
	}
	return n, nil
}
