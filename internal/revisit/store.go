package revisit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the engine's SQL (rules, inbox, decisions, tasks, plan runs, settings).
// Every statement runs in the transaction carried by ctx when there is one.
type Store struct {
	db *db.DB
}

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

type scanner interface{ Scan(dest ...any) error }

func ms(t time.Time) int64     { return db.Millis(t) }
func fromMS(v int64) time.Time { return db.Time(v) }
func nullID(id int64) any      { return db.NullID(id) }

// ======================= tasks =======================

const taskColumns = `rule_code, customer_id, source_type, source_id, level, dept_id, team_id, assignee_id,
	window_start, window_end, scheduled_at, method, status, round, parent_id, attempts, next_attempt_at, done_at,
	decision_id, plan_key, version, created_at, updated_at`

const taskColumnCount = 23

// TaskSelect is the SELECT list of a full task row ("t" is the alias).
var TaskSelect = `SELECT t.id, ` + prefixed("t.", taskColumns) + ` FROM revisit_tasks t`

var (
	sqlTaskInsert = `INSERT INTO revisit_tasks (` + taskColumns + `) VALUES (?` +
		strings.Repeat(", ?", taskColumnCount-1) + `) RETURNING id`
	sqlTaskInsertWithID = `INSERT INTO revisit_tasks (id, ` + taskColumns + `) VALUES (?` +
		strings.Repeat(", ?", taskColumnCount) + `)`
	sqlTaskUpdate    = `UPDATE revisit_tasks SET ` + db.SetList(taskColumns) + ` WHERE id = ? AND version = ?`
	sqlTaskByID      = TaskSelect + ` WHERE t.id = ?`
	sqlTaskForUpdate = TaskSelect + ` WHERE t.id = ? FOR UPDATE`
	sqlTaskExpire    = `UPDATE revisit_tasks SET status = 'expired', version = version + 1, updated_at = ?
		WHERE id IN (SELECT id FROM revisit_tasks WHERE status = 'open' AND window_end < ? AND next_attempt_at = 0 LIMIT ?)`
	sqlTaskPlanExists = `SELECT COUNT(*) FROM revisit_tasks WHERE plan_key = ?`
)

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func taskArgs(t *Task) []any {
	return []any{t.Rule, t.CustomerID, t.SourceType, t.SourceID, t.Level, nullID(t.DeptID), nullID(t.TeamID),
		nullID(t.AssigneeID), ms(t.WindowStart), ms(t.WindowEnd), ms(t.ScheduledAt), t.Method, t.Status, t.Round,
		nullID(t.ParentID), t.Attempts, ms(t.NextAttemptAt), ms(t.DoneAt), nullID(t.DecisionID), t.PlanKey, t.Version,
		ms(t.CreatedAt), ms(t.UpdatedAt)}
}

// ScanTask reads one row of TaskSelect.
func ScanTask(row scanner) (Task, error) {
	var t Task
	var dept, team, assignee, parent, decision sql.NullInt64
	var ws, we, sched, next, done, created, updated int64
	err := row.Scan(&t.ID, &t.Rule, &t.CustomerID, &t.SourceType, &t.SourceID, &t.Level, &dept, &team, &assignee,
		&ws, &we, &sched, &t.Method, &t.Status, &t.Round, &parent, &t.Attempts, &next, &done, &decision, &t.PlanKey,
		&t.Version, &created, &updated)
	if err != nil {
		return Task{}, err
	}
	t.DeptID, t.TeamID, t.AssigneeID, t.ParentID, t.DecisionID = dept.Int64, team.Int64, assignee.Int64, parent.Int64, decision.Int64
	t.WindowStart, t.WindowEnd, t.ScheduledAt, t.NextAttemptAt, t.DoneAt = fromMS(ws), fromMS(we), fromMS(sched), fromMS(next), fromMS(done)
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return t, nil
}

// InsertTask stores a new task and sets its id.
func (s *Store) InsertTask(ctx context.Context, t *Task) error {
	if err := s.db.QueryRow(ctx, sqlTaskInsert, taskArgs(t)...).Scan(&t.ID); err != nil {
		return fmt.Errorf("revisit: insert task: %w", err)
	}
	return nil
}

// GetTask reads task id.
func (s *Store) GetTask(ctx context.Context, id int64) (Task, error) {
	return ScanTask(s.db.QueryRow(ctx, sqlTaskByID, id))
}

// LockTask reads task id for change inside ctx's transaction (row lock on PostgreSQL;
// SQLite's single writer serializes anyway).
func (s *Store) LockTask(ctx context.Context, id int64) (Task, error) {
	q := sqlTaskForUpdate
	if s.db.Dialect == db.SQLite {
		q = sqlTaskByID
	}
	return ScanTask(s.db.QueryRow(ctx, q, id))
}

// UpdateTask writes t when its stored version is still prev; false when it moved.
func (s *Store) UpdateTask(ctx context.Context, t *Task, prev int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlTaskUpdate, append(taskArgs(t), t.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("revisit: update task %d: %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// expireTasks marks up to limit open tasks whose window ended before now (and with no
// retry pending) expired; it returns how many.
func (s *Store) expireTasks(ctx context.Context, now time.Time, limit int) (int64, error) {
	res, err := s.db.Exec(ctx, sqlTaskExpire, ms(now), ms(now), limit)
	if err != nil {
		return 0, fmt.Errorf("revisit: expire tasks: %w", err)
	}
	return res.RowsAffected()
}

// taskScope is the actor's reach as SQL.
type taskScope struct {
	all              bool
	dept, team, self int64
}

func (sc taskScope) where() (string, []any) {
	switch {
	case sc.all:
		return "", nil
	case sc.dept != 0:
		return "t.dept_id = ?", []any{sc.dept}
	case sc.team != 0:
		return "(t.team_id = ? OR t.assignee_id = ?)", []any{sc.team, sc.self}
	}
	return "t.assignee_id = ?", []any{sc.self}
}

// taskPos is the keyset position of a task list (ordered by id descending).
func (s *Store) listTasks(ctx context.Context, f TaskFilter, sc taskScope, now time.Time, before int64, limit int) ([]Task, error) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if w, a := sc.where(); w != "" {
		add(w, a...)
	}
	if f.Rule != "" {
		add("t.rule_code = ?", f.Rule)
	}
	if f.Status != "" {
		add("t.status = ?", f.Status)
	}
	if f.AssigneeID != 0 {
		add("t.assignee_id = ?", f.AssigneeID)
	}
	if f.CustomerID != 0 {
		add("t.customer_id = ?", f.CustomerID)
	}
	if f.SourceType != "" {
		add("t.source_type = ?", f.SourceType)
	}
	if f.SourceID != 0 {
		add("t.source_id = ?", f.SourceID)
	}
	if !f.DueBefore.IsZero() {
		add("t.window_end < ?", ms(f.DueBefore))
	}
	switch f.View {
	case ViewMine:
		add("t.assignee_id = ?", f.actorID)
	case ViewTeam:
		add("t.team_id = ?", f.actorTeam)
	case ViewOverdue:
		add("t.status = 'open' AND t.window_end < ?", ms(now))
	}
	if before > 0 {
		add("t.id < ?", before)
	}
	q := TaskSelect
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY t.id DESC LIMIT ?"
	rows, err := s.db.Query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("revisit: list tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := ScanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("revisit: list tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ======================= rules =======================

const ruleColumns = `code, name, description, trigger_event, filters, window_start, window_length, window_mode,
	rate_pct, assignees, team_id, methods, script, repeat_rule, active, builtin, sort_order, version, created_at, updated_at`

const ruleColumnCount = 20

var (
	sqlRuleSelect = `SELECT id, ` + ruleColumns + ` FROM revisit_rules`
	sqlRuleAll    = sqlRuleSelect + ` ORDER BY sort_order, id`
	sqlRuleByID   = sqlRuleSelect + ` WHERE id = ?`
	sqlRuleByCode = sqlRuleSelect + ` WHERE code = ?`
	sqlRuleInsert = `INSERT INTO revisit_rules (` + ruleColumns + `) VALUES (?` + strings.Repeat(", ?", ruleColumnCount-1) + `) RETURNING id`
	sqlRuleUpdate = `UPDATE revisit_rules SET ` + db.SetList(ruleColumns) + ` WHERE id = ? AND version = ?`
	sqlRuleStamp  = `SELECT COUNT(*), COALESCE(MAX(updated_at), 0), COALESCE(MAX(version), 0), COALESCE(SUM(version), 0) FROM revisit_rules`
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func ruleArgs(r *Rule) []any {
	return []any{r.Code, r.Name, r.Description, strings.Join(r.Triggers, ","), mustJSON(r.Filters), r.Window.Start,
		r.Window.Length, r.Window.Mode, r.RatePct, mustJSON(r.Assignees), nullID(r.TeamID), mustJSON(r.Methods),
		mustJSON(r.Script), mustJSON(r.Repeat), db.Bool(r.Active), db.Bool(r.Builtin), r.SortOrder, r.Version,
		ms(r.CreatedAt), ms(r.UpdatedAt)}
}

func scanRule(row scanner) (Rule, error) {
	var r Rule
	var triggers, filters, assignees, methods, script, repeat string
	var team sql.NullInt64
	var active, builtin int
	var created, updated int64
	err := row.Scan(&r.ID, &r.Code, &r.Name, &r.Description, &triggers, &filters, &r.Window.Start, &r.Window.Length,
		&r.Window.Mode, &r.RatePct, &assignees, &team, &methods, &script, &repeat, &active, &builtin, &r.SortOrder,
		&r.Version, &created, &updated)
	if err != nil {
		return Rule{}, err
	}
	if triggers != "" {
		r.Triggers = strings.Split(triggers, ",")
	}
	for _, p := range []struct {
		src string
		dst any
	}{{filters, &r.Filters}, {assignees, &r.Assignees}, {methods, &r.Methods}, {script, &r.Script}, {repeat, &r.Repeat}} {
		if p.src == "" {
			continue
		}
		if err := json.Unmarshal([]byte(p.src), p.dst); err != nil {
			return Rule{}, fmt.Errorf("revisit: rule %s: %w", r.Code, err)
		}
	}
	if r.Assignees == nil {
		r.Assignees = map[string]string{}
	}
	if r.Script == nil {
		r.Script = []Question{}
	}
	r.TeamID, r.Active, r.Builtin = team.Int64, active == 1, builtin == 1
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, nil
}

func (s *Store) rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.Query(ctx, sqlRuleAll)
	if err != nil {
		return nil, fmt.Errorf("revisit: rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) rule(ctx context.Context, id int64) (Rule, error) {
	return scanRule(s.db.QueryRow(ctx, sqlRuleByID, id))
}

func (s *Store) ruleByCode(ctx context.Context, code string) (Rule, error) {
	return scanRule(s.db.QueryRow(ctx, sqlRuleByCode, code))
}

func (s *Store) insertRule(ctx context.Context, r *Rule) error {
	if err := s.db.QueryRow(ctx, sqlRuleInsert, ruleArgs(r)...).Scan(&r.ID); err != nil {
		return fmt.Errorf("revisit: insert rule: %w", err)
	}
	return nil
}

func (s *Store) updateRule(ctx context.Context, r *Rule, prev int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlRuleUpdate, append(ruleArgs(r), r.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("revisit: update rule: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// rulesStamp changes whenever a rule is added or changed (the rules cache).
func (s *Store) rulesStamp(ctx context.Context) (string, error) {
	var n, upd, maxV, sumV int64
	if err := s.db.QueryRow(ctx, sqlRuleStamp).Scan(&n, &upd, &maxV, &sumV); err != nil {
		return "", fmt.Errorf("revisit: rules stamp: %w", err)
	}
	return fmt.Sprintf("%d:%d:%d:%d", n, upd, maxV, sumV), nil
}

// ======================= inbox =======================

// inboxRow is one trigger event waiting for the engine.
type inboxRow struct {
	ID         int64
	EventKey   string
	Event      string
	SubjectKey string
	SourceType string
	SourceID   int64
	CustomerID int64
	DeptID     int64
	TeamID     int64
	ActorID    int64
	AgentID    int64
	Level      string
	Attrs      map[string]string
	OccurredAt time.Time
}

const inboxColumns = `event_key, event, subject_key, source_type, source_id, customer_id, dept_id, team_id, actor_id,
	agent_id, level, attrs, occurred_at, processed_at, created_at`

var (
	sqlInboxInsert = `INSERT INTO revisit_events (` + inboxColumns + `) VALUES (?` + strings.Repeat(", ?", 14) +
		`) ON CONFLICT (event_key) DO NOTHING`
	// The rows after the engine's cursor, in id order along the primary key.
	sqlInboxPending = `SELECT id, event, subject_key, source_type, source_id, customer_id, dept_id, team_id, actor_id,
		agent_id, level, attrs, occurred_at FROM revisit_events WHERE id > ? AND processed_at = 0 ORDER BY id LIMIT ?`
	sqlInboxCount = `SELECT COUNT(*) FROM revisit_events WHERE id > (SELECT last_event_id FROM revisit_engine_cursor
		WHERE id = 1) AND processed_at = 0`
	// PostgreSQL hands out ids before commit, so a row may commit after a larger id: the
	// engine's batch first waits for every transaction writing the inbox and holds new
	// writers back until it commits (the mode also excludes another node's pass), so
	// every row at or below the cursor it stores has been seen.
	sqlInboxLock   = `LOCK TABLE revisit_events IN SHARE ROW EXCLUSIVE MODE`
	sqlCursorGet   = `SELECT last_event_id FROM revisit_engine_cursor WHERE id = 1`
	sqlCursorSet   = `UPDATE revisit_engine_cursor SET last_event_id = ?, updated_at = ? WHERE id = 1`
	sqlStatsUpsert = `INSERT INTO revisit_decision_stats (rule_code, day, decided, chosen) VALUES (?, ?, ?, ?)
		ON CONFLICT (rule_code, day) DO UPDATE SET decided = revisit_decision_stats.decided + excluded.decided,
		chosen = revisit_decision_stats.chosen + excluded.chosen`
)

// lockInbox makes the inbox's id order the commit order for the rest of ctx's
// transaction (PostgreSQL; SQLite's single writer gives it already).
func (s *Store) lockInbox(ctx context.Context) error {
	if s.db.Dialect != db.Postgres {
		return nil
	}
	if _, err := s.db.Exec(ctx, sqlInboxLock); err != nil {
		return fmt.Errorf("revisit: inbox lock: %w", err)
	}
	return nil
}

// cursor is the id of the last inbox row the engine has processed.
func (s *Store) cursor(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRow(ctx, sqlCursorGet).Scan(&id); err != nil {
		return 0, fmt.Errorf("revisit: engine cursor: %w", err)
	}
	return id, nil
}

func (s *Store) setCursor(ctx context.Context, id int64, now time.Time) error {
	if _, err := s.db.Exec(ctx, sqlCursorSet, id, ms(now)); err != nil {
		return fmt.Errorf("revisit: engine cursor: %w", err)
	}
	return nil
}

// decisionStat is the count of one rule's decisions on one day.
type decisionStat struct {
	Rule, Day       string
	Decided, Chosen int64
}

// addDecisionStats adds the counts to revisit_decision_stats.
func (s *Store) addDecisionStats(ctx context.Context, st []decisionStat) error {
	for _, x := range st {
		if _, err := s.db.Exec(ctx, sqlStatsUpsert, x.Rule, x.Day, x.Decided, x.Chosen); err != nil {
			return fmt.Errorf("revisit: decision stats: %w", err)
		}
	}
	return nil
}

func (s *Store) insertEvent(ctx context.Context, r *inboxRow, now time.Time) error {
	attrs := "{}"
	if len(r.Attrs) > 0 {
		attrs = mustJSON(r.Attrs)
	}
	_, err := s.db.Exec(ctx, sqlInboxInsert, r.EventKey, r.Event, r.SubjectKey, r.SourceType, r.SourceID, r.CustomerID,
		r.DeptID, r.TeamID, r.ActorID, r.AgentID, r.Level, attrs, ms(r.OccurredAt), 0, ms(now))
	if err != nil {
		return fmt.Errorf("revisit: inbox: %w", err)
	}
	return nil
}

// insertEventCount is insertEvent reporting whether the row was new (1) or known (0).
func (s *Store) insertEventCount(ctx context.Context, r *inboxRow, now time.Time) (int, error) {
	attrs := "{}"
	if len(r.Attrs) > 0 {
		attrs = mustJSON(r.Attrs)
	}
	res, err := s.db.Exec(ctx, sqlInboxInsert, r.EventKey, r.Event, r.SubjectKey, r.SourceType, r.SourceID, r.CustomerID,
		r.DeptID, r.TeamID, r.ActorID, r.AgentID, r.Level, attrs, ms(r.OccurredAt), 0, ms(now))
	if err != nil {
		return 0, fmt.Errorf("revisit: inbox: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// insertEvents stores many inbox rows (benchmarks, demo data) in chunks.
func (s *Store) insertEvents(ctx context.Context, rows []inboxRow, now time.Time) error {
	return chunked(ctx, s.db, "revisit_events", "("+inboxColumns+")", 15, "", len(rows), func(i int, args []any) []any {
		r := &rows[i]
		attrs := "{}"
		if len(r.Attrs) > 0 {
			attrs = mustJSON(r.Attrs)
		}
		return append(args, r.EventKey, r.Event, r.SubjectKey, r.SourceType, r.SourceID, r.CustomerID, r.DeptID,
			r.TeamID, r.ActorID, r.AgentID, r.Level, attrs, ms(r.OccurredAt), 0, ms(now))
	}, nil)
}

// pendingEvents reads up to limit inbox rows after id after, in id order (without their
// event keys). Rows with the same attrs text share one map, kept in attrs (read only).
func (s *Store) pendingEvents(ctx context.Context, after int64, limit int, attrs map[string]map[string]string) ([]inboxRow, error) {
	rows, err := s.db.Query(ctx, sqlInboxPending, after, limit)
	if err != nil {
		return nil, fmt.Errorf("revisit: inbox: %w", err)
	}
	defer rows.Close()
	out := make([]inboxRow, 0, limit)
	names := interned{}
	for rows.Next() {
		var r inboxRow
		var text, event, source, level sql.RawBytes
		var occurred int64
		if err := rows.Scan(&r.ID, &event, &r.SubjectKey, &source, &r.SourceID, &r.CustomerID,
			&r.DeptID, &r.TeamID, &r.ActorID, &r.AgentID, &level, &text, &occurred); err != nil {
			return nil, fmt.Errorf("revisit: inbox: %w", err)
		}
		r.Event, r.SourceType, r.Level = names.of(event), names.of(source), names.of(level)
		if len(text) > 0 && string(text) != "{}" {
			if m, ok := attrs[string(text)]; ok {
				r.Attrs = m
			} else {
				if err := json.Unmarshal(text, &r.Attrs); err != nil {
					return nil, fmt.Errorf("revisit: inbox %d attrs: %w", r.ID, err)
				}
				if attrs != nil && len(attrs) < 4096 {
					attrs[string(text)] = r.Attrs
				}
			}
		}
		r.OccurredAt = fromMS(occurred)
		out = append(out, r)
	}
	return out, rows.Err()
}

// interned keeps one copy of each of the few distinct names of a column.
type interned map[string]string

func (m interned) of(b []byte) string {
	if v, ok := m[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(m) < 1024 {
		m[v] = v
	}
	return v
}

func (s *Store) pendingCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, sqlInboxCount).Scan(&n)
	return n, err
}

// ======================= decisions =======================

// Decision is one sampling decision.
type Decision struct {
	ID         int64
	Rule       string
	EventKey   string
	CustomerID int64
	Bucket     int
	RatePct    int
	Chosen     bool
	Reason     string
	TaskID     int64
	DecidedAt  time.Time
}

const decisionColumns = `id, rule_code, event_key, customer_id, bucket, rate_pct, chosen, reason, task_id, decided_at`

const sqlDecisionConflict = ` ON CONFLICT (rule_code, event_key) DO NOTHING`

// insertDecisions stores the decisions ds (their ids given) except those whose (rule,
// subject) has a decision already (the unique key decides, so reruns store nothing);
// stored[i] reports whether ds[i] was stored.
func (s *Store) insertDecisions(ctx context.Context, ds []Decision) (stored []bool, err error) {
	stored = make([]bool, len(ds))
	err = chunked(ctx, s.db, "revisit_decisions", "("+decisionColumns+")", 10, sqlDecisionConflict, len(ds),
		func(i int, args []any) []any {
			d := &ds[i]
			return append(args, d.ID, d.Rule, d.EventKey, d.CustomerID, d.Bucket, d.RatePct, db.Bool(d.Chosen), d.Reason,
				nullID(d.TaskID), ms(d.DecidedAt))
		},
		func(from, to int, affected int64) error {
			switch affected {
			case 0:
				return nil
			case int64(to - from):
				for i := from; i < to; i++ {
					stored[i] = true
				}
				return nil
			}
			// Some were there already: the stored ones are those carrying this batch's ids.
			at := make(map[int64]int, to-from)
			args := make([]any, 0, to-from)
			for i := from; i < to; i++ {
				at[ds[i].ID] = i
				args = append(args, ds[i].ID)
			}
			rows, err := s.db.Query(ctx, `SELECT id FROM revisit_decisions WHERE id IN (?`+
				strings.Repeat(", ?", len(args)-1)+`)`, args...)
			if err != nil {
				return fmt.Errorf("revisit: decisions: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return fmt.Errorf("revisit: decisions: %w", err)
				}
				stored[at[id]] = true
			}
			return rows.Err()
		})
	return stored, err
}

func (s *Store) insertTasksWithIDs(ctx context.Context, ts []Task) error {
	return chunked(ctx, s.db, "revisit_tasks", "(id, "+taskColumns+")", taskColumnCount+1, "", len(ts),
		func(i int, args []any) []any {
			return append(append(args, ts[i].ID), taskArgs(&ts[i])...)
		}, nil)
}

// Decisions lists the decisions of rule made in [from, to) (the report; auditors).
func (s *Store) Decisions(ctx context.Context, rule string, from, to time.Time, afterID int64, limit int) ([]Decision, error) {
	rows, err := s.db.Query(ctx, `SELECT `+decisionColumns+` FROM revisit_decisions WHERE rule_code = ? AND decided_at >= ?
		AND decided_at < ? AND id > ? ORDER BY id LIMIT ?`, rule, ms(from), ms(to), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("revisit: decisions: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var chosen int
		var task sql.NullInt64
		var at int64
		if err := rows.Scan(&d.ID, &d.Rule, &d.EventKey, &d.CustomerID, &d.Bucket, &d.RatePct, &chosen, &d.Reason, &task, &at); err != nil {
			return nil, err
		}
		d.Chosen, d.TaskID, d.DecidedAt = chosen == 1, task.Int64, fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// allocIDs reserves n ids of table (revisit_tasks or revisit_decisions) inside ctx's
// write transaction: on SQLite the single writer makes max(id)+1.. safe; on PostgreSQL
// the identity sequence hands them out.
func (s *Store) allocIDs(ctx context.Context, table string, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	if n == 0 {
		return out, nil
	}
	if s.db.Dialect == db.SQLite {
		var maxID int64
		if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&maxID); err != nil {
			return nil, fmt.Errorf("revisit: ids: %w", err)
		}
		for i := 1; i <= n; i++ {
			out = append(out, maxID+int64(i))
		}
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT nextval(pg_get_serial_sequence('`+table+`', 'id')) FROM generate_series(1, ?)`, n)
	if err != nil {
		return nil, fmt.Errorf("revisit: ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// chunked inserts n rows into table in multi-row statements of a fixed size (so that
// the statements are prepared once), then the rest one by one; suffix ends every
// statement (an ON CONFLICT clause) and done, when not nil, hears how many of rows
// [from, to) each statement stored.
func chunked(ctx context.Context, d *db.DB, table, cols string, width int, suffix string, n int,
	row func(i int, args []any) []any, done func(from, to int, affected int64) error) error {
	per := min(500, 30000/width) // SQLite allows 32766 variables a statement
	one := "(?" + strings.Repeat(", ?", width-1) + ")"
	full := `INSERT INTO ` + table + ` ` + cols + ` VALUES ` + one + strings.Repeat(", "+one, per-1) + suffix
	single := `INSERT INTO ` + table + ` ` + cols + ` VALUES ` + one + suffix
	args := make([]any, 0, per*width)
	exec := func(q string, from, to int) error {
		res, err := d.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("revisit: insert %s: %w", table, err)
		}
		if done == nil {
			return nil
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("revisit: insert %s: %w", table, err)
		}
		return done(from, to, affected)
	}
	i := 0
	for ; i+per <= n; i += per {
		args = args[:0]
		for j := i; j < i+per; j++ {
			args = row(j, args)
		}
		if err := exec(full, i, i+per); err != nil {
			return err
		}
	}
	for ; i < n; i++ {
		args = row(i, args[:0])
		if err := exec(single, i, i+1); err != nil {
			return err
		}
	}
	return nil
}

// ======================= customers (read-only adapter) =======================

// profile is what the engine needs of a customer file: its key flags, account agent,
// territory's responsible person and place in the organisation. The customer service
// has no batch query exposing value class and territory, so the engine reads these
// columns itself (read-only; to be replaced by an exported customer query).
type profile struct {
	ID          int64
	Status      string
	Tier        string
	ValueClass  string
	CreditGrade string
	OwnerID     int64
	DeptID      int64
	TeamID      int64
	TerritoryID int64
	Responsible int64
	MergedInto  int64
}

// Key reports whether the customer is a key customer.
func (p *profile) Key() bool { return IsKey(p.Tier, p.ValueClass, p.CreditGrade) }

func (s *Store) profiles(ctx context.Context, ids []int64) (map[int64]profile, error) {
	out := make(map[int64]profile, len(ids))
	const chunk = 200
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		q := `SELECT c.id, c.status, c.tier, c.value_class, c.credit_grade, c.owner_id, c.dept_id, c.team_id,
			c.territory_id, tr.responsible_id, c.merged_into FROM customers c LEFT JOIN territories tr ON tr.id = c.territory_id
			WHERE c.id IN (?` + strings.Repeat(", ?", len(part)-1) + `)`
		args := make([]any, len(part))
		for j, id := range part {
			args[j] = id
		}
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("revisit: customers: %w", err)
		}
		for rows.Next() {
			var p profile
			var owner, dept, team, terr, resp, merged sql.NullInt64
			if err := rows.Scan(&p.ID, &p.Status, &p.Tier, &p.ValueClass, &p.CreditGrade, &owner, &dept, &team, &terr,
				&resp, &merged); err != nil {
				rows.Close()
				return nil, fmt.Errorf("revisit: customers: %w", err)
			}
			p.OwnerID, p.DeptID, p.TeamID, p.TerritoryID, p.Responsible, p.MergedInto = owner.Int64, dept.Int64,
				team.Int64, terr.Int64, resp.Int64, merged.Int64
			out[p.ID] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keyCustomers lists active key customers after afterID (holiday care plans).
func (s *Store) keyCustomers(ctx context.Context, afterID int64, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM customers WHERE id > ? AND merged_into IS NULL AND anonymized_at = 0
		AND (tier = 'vip' OR value_class = 'core' OR credit_grade = 'A') ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("revisit: key customers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ======================= plan runs and settings =======================

func (s *Store) planRun(ctx context.Context, rule, period string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM revisit_plan_runs WHERE rule_code = ? AND period = ?`, rule, period).Scan(&n)
	return n > 0, err
}

func (s *Store) recordPlanRun(ctx context.Context, rule, period string, created int, at time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO revisit_plan_runs (rule_code, period, created, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (rule_code, period) DO UPDATE SET created = revisit_plan_runs.created + excluded.created, at = excluded.at`,
		rule, period, created, ms(at))
	if err != nil {
		return fmt.Errorf("revisit: plan run: %w", err)
	}
	return nil
}

func (s *Store) planKeyExists(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, sqlTaskPlanExists, key).Scan(&n)
	return n > 0, err
}

func (s *Store) setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if db.IsNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("revisit: setting %s: %w", key, err)
	}
	return v, true, nil
}

// putSetting writes key; with onlyNew it keeps an existing value (the secret: the first
// node to write it wins).
func (s *Store) putSetting(ctx context.Context, key, value string, now time.Time, onlyNew bool) error {
	q := `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
	if onlyNew {
		q = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`
	}
	if _, err := s.db.Exec(ctx, q, key, value, ms(now)); err != nil {
		return fmt.Errorf("revisit: setting %s: %w", key, err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
