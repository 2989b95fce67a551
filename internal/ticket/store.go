package ticket

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// Store holds the request SQL. Every statement runs in the transaction carried by ctx
// when there is one (db.Q semantics of Exec/Query/QueryRow).
type Store struct {
	db *db.DB
}

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// ticketColumns are the tickets columns after id, in scanTicket / ticketArgs order.
const ticketColumns = `number, type, sub_kind, category_id, channel, severity, priority, priority_reasons,
	fault_level, status, open, title, body, customer_id, contact_name, dept_id, team_id, assignee_id, created_by,
	sla_policy_id, calendar_id, response_due_at, responded_at, resolve_due_at, resolved_at, confirm_due_at,
	confirmed_at, closed_at, sla_paused_at, sla_paused_ms, response_warned_at, response_breached_at,
	resolve_warned_at, resolve_breached_at, escalated_at, reopen_count, version, created_at, updated_at,
	last_activity_at`

const ticketColumnCount = 40

// TicketSelect is the SELECT list of a full ticket row ("t" is the tickets alias); other
// files of the package build their queries on it and read rows with ScanTicket.
const TicketSelect = `SELECT t.id, t.number, t.type, t.sub_kind, t.category_id, t.channel, t.severity, t.priority,
	t.priority_reasons, t.fault_level, t.status, t.open, t.title, t.body, t.customer_id, t.contact_name, t.dept_id,
	t.team_id, t.assignee_id, t.created_by, t.sla_policy_id, t.calendar_id, t.response_due_at, t.responded_at,
	t.resolve_due_at, t.resolved_at, t.confirm_due_at, t.confirmed_at, t.closed_at, t.sla_paused_at, t.sla_paused_ms,
	t.response_warned_at, t.response_breached_at, t.resolve_warned_at, t.resolve_breached_at, t.escalated_at,
	t.reopen_count, t.version, t.created_at, t.updated_at, t.last_activity_at FROM tickets t`

var (
	sqlTicketInsert = `INSERT INTO tickets (` + ticketColumns + `) VALUES (?` + strings.Repeat(", ?", ticketColumnCount-1) +
		`) RETURNING id`
	sqlTicketUpdate    = `UPDATE tickets SET ` + setList(ticketColumns) + ` WHERE id = ? AND version = ?`
	sqlTicketTouch     = `UPDATE tickets SET last_activity_at = ? WHERE id = ?`
	sqlTicketByID      = TicketSelect + ` WHERE t.id = ?`
	sqlTicketForUpdate = TicketSelect + ` WHERE t.id = ? FOR UPDATE`
	sqlTicketByNumber  = TicketSelect + ` WHERE t.number = ?`
)

const (
	sqlNextSeq = `INSERT INTO ticket_counters (day, seq) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET seq = ticket_counters.seq + 1 RETURNING seq`
	sqlEventInsert = `INSERT INTO ticket_events (ticket_id, kind, public, actor_kind, actor_id, actor_name, body, data,
		created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	eventSelect    = `SELECT id, ticket_id, kind, public, actor_kind, actor_id, actor_name, body, data, created_at FROM ticket_events`
	sqlEvents      = eventSelect + ` WHERE ticket_id = ? AND id > ? ORDER BY id LIMIT ?`
	sqlEventsPub   = eventSelect + ` WHERE ticket_id = ? AND id > ? AND public = 1 ORDER BY id LIMIT ?`
	sqlEventData   = `UPDATE ticket_events SET data = ? WHERE id = ?`
	sqlSearchTexts = `SELECT body FROM ticket_events WHERE ticket_id = ? AND kind IN ('reply', 'customer_reply', 'note')
		AND body <> '' ORDER BY id LIMIT 200`
)

// setList turns "a, b" into "a = ?, b = ?".
func setList(cols string) string { return db.SetList(cols) }

func nullID(id int64) any { return db.NullID(id) }

func ms(t time.Time) int64 { return db.Millis(t) }

func fromMS(v int64) time.Time { return db.Time(v) }

func boolInt(b bool) int { return db.Bool(b) }

// storedMsg is the stored form of an i18n.Msg (priority reasons).
type storedMsg struct {
	Key  string         `json:"key"`
	Args map[string]any `json:"args,omitempty"`
}

func encodeMsgs(ms []i18n.Msg) string {
	out := make([]storedMsg, len(ms))
	for i, m := range ms {
		out[i] = storedMsg{Key: m.Key, Args: m.Args}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func decodeMsgs(s string) []i18n.Msg {
	var in []storedMsg
	if s == "" || json.Unmarshal([]byte(s), &in) != nil {
		return nil
	}
	out := make([]i18n.Msg, len(in))
	for i, m := range in {
		out[i] = i18n.Msg{Key: m.Key, Args: m.Args}
	}
	return out
}

func ticketArgs(t *Ticket) []any {
	return []any{t.Number, string(t.Type), t.SubKind, nullID(t.CategoryID), string(t.Channel), string(t.Severity),
		string(t.Priority), encodeMsgs(t.PriorityReasons), t.FaultLevel, string(t.Status), boolInt(t.Status.Open()),
		t.Title, t.Body, nullID(t.CustomerID), t.ContactName, nullID(t.DeptID), nullID(t.TeamID), nullID(t.AssigneeID),
		t.CreatedBy, t.SLAPolicyID, t.CalendarID, ms(t.ResponseDueAt), ms(t.RespondedAt), ms(t.ResolveDueAt),
		ms(t.ResolvedAt), ms(t.ConfirmDueAt), ms(t.ConfirmedAt), ms(t.ClosedAt), ms(t.SLAPausedAt),
		t.SLAPaused.Milliseconds(), ms(t.ResponseWarnedAt), ms(t.ResponseBreachedAt), ms(t.ResolveWarnedAt),
		ms(t.ResolveBreachedAt), ms(t.EscalatedAt), t.ReopenCount, t.Version, ms(t.CreatedAt), ms(t.UpdatedAt),
		ms(t.LastActivityAt)}
}

// Scanner is what *sql.Row and *sql.Rows offer.
type Scanner interface{ Scan(dest ...any) error }

// ScanTicket reads one row selected with TicketSelect.
func ScanTicket(sc Scanner) (Ticket, error) {
	var t Ticket
	var typ, channel, severity, priority, reasons, status string
	var open int
	var cat, cust, dept, team, assignee sql.NullInt64
	var respDue, responded, resolveDue, resolved, confirmDue, confirmed, closed, pausedAt, pausedMS int64
	var respWarned, respBreached, resWarned, resBreached, escalated, created, updated, activity int64
	err := sc.Scan(&t.ID, &t.Number, &typ, &t.SubKind, &cat, &channel, &severity, &priority, &reasons, &t.FaultLevel,
		&status, &open, &t.Title, &t.Body, &cust, &t.ContactName, &dept, &team, &assignee, &t.CreatedBy, &t.SLAPolicyID,
		&t.CalendarID, &respDue, &responded, &resolveDue, &resolved, &confirmDue, &confirmed, &closed, &pausedAt,
		&pausedMS, &respWarned, &respBreached, &resWarned, &resBreached, &escalated, &t.ReopenCount, &t.Version,
		&created, &updated, &activity)
	if err != nil {
		return Ticket{}, err
	}
	t.Type, t.Channel, t.Severity, t.Priority, t.Status = Type(typ), Channel(channel), Severity(severity),
		Priority(priority), Status(status)
	t.PriorityReasons = decodeMsgs(reasons)
	t.CategoryID, t.CustomerID, t.DeptID, t.TeamID, t.AssigneeID = cat.Int64, cust.Int64, dept.Int64, team.Int64,
		assignee.Int64
	t.ResponseDueAt, t.RespondedAt, t.ResolveDueAt, t.ResolvedAt = fromMS(respDue), fromMS(responded),
		fromMS(resolveDue), fromMS(resolved)
	t.ConfirmDueAt, t.ConfirmedAt, t.ClosedAt, t.SLAPausedAt = fromMS(confirmDue), fromMS(confirmed), fromMS(closed),
		fromMS(pausedAt)
	t.SLAPaused = time.Duration(pausedMS) * time.Millisecond
	t.ResponseWarnedAt, t.ResponseBreachedAt, t.ResolveWarnedAt, t.ResolveBreachedAt = fromMS(respWarned),
		fromMS(respBreached), fromMS(resWarned), fromMS(resBreached)
	t.EscalatedAt, t.CreatedAt, t.UpdatedAt, t.LastActivityAt = fromMS(escalated), fromMS(created), fromMS(updated),
		fromMS(activity)
	return t, nil
}

// NextSeq takes the next number of day ("20261123") from ticket_counters. Inside the
// creating transaction the counter row stays locked until commit (PostgreSQL) or the
// single writer holds it (SQLite), so numbers are unique across nodes and a rolled
// back creation gives its number back.
func (s *Store) NextSeq(ctx context.Context, day string) (int64, error) {
	var seq int64
	if err := s.db.QueryRow(ctx, sqlNextSeq, day).Scan(&seq); err != nil {
		return 0, fmt.Errorf("ticket: number counter: %w", err)
	}
	return seq, nil
}

// InsertTicket stores t and sets its id.
func (s *Store) InsertTicket(ctx context.Context, t *Ticket) error {
	if err := s.db.QueryRow(ctx, sqlTicketInsert, ticketArgs(t)...).Scan(&t.ID); err != nil {
		return fmt.Errorf("ticket: insert: %w", err)
	}
	return nil
}

// UpdateTicket writes every column of t if the stored version is still oldVersion; it
// reports false when the row changed meanwhile (or is gone).
func (s *Store) UpdateTicket(ctx context.Context, t *Ticket, oldVersion int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlTicketUpdate, append(ticketArgs(t), t.ID, oldVersion)...)
	if err != nil {
		return false, fmt.Errorf("ticket: update %d: %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TouchTicket stamps last_activity_at of ticket id and nothing else (no new version).
func (s *Store) TouchTicket(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.Exec(ctx, sqlTicketTouch, ms(at), id); err != nil {
		return fmt.Errorf("ticket: touch %d: %w", id, err)
	}
	return nil
}

// GetTicket loads ticket id (sql.ErrNoRows when missing).
func (s *Store) GetTicket(ctx context.Context, id int64) (Ticket, error) {
	return ScanTicket(s.db.QueryRow(ctx, sqlTicketByID, id))
}

// TicketByNumber loads the ticket with number (sql.ErrNoRows when missing).
func (s *Store) TicketByNumber(ctx context.Context, number string) (Ticket, error) {
	return ScanTicket(s.db.QueryRow(ctx, sqlTicketByNumber, number))
}

// LockTicket loads ticket id for change inside ctx's transaction: SELECT ... FOR UPDATE
// on PostgreSQL; on SQLite the immediate write transaction already excludes writers.
func (s *Store) LockTicket(ctx context.Context, id int64) (Ticket, error) {
	q := sqlTicketByID
	if s.db.Dialect == db.Postgres {
		q = sqlTicketForUpdate
	}
	return ScanTicket(s.db.QueryRow(ctx, q, id))
}

// InsertEvent appends e to the timeline and sets its id.
func (s *Store) InsertEvent(ctx context.Context, e *Event) error {
	data := "{}"
	if len(e.Data) > 0 {
		b, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("ticket: event data: %w", err)
		}
		data = string(b)
	}
	err := s.db.QueryRow(ctx, sqlEventInsert, e.TicketID, string(e.Kind), boolInt(e.Public), string(e.ActorKind),
		e.ActorID, e.ActorName, e.Body, data, ms(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("ticket: insert event: %w", err)
	}
	return nil
}

// SetEventData replaces the data of event id.
func (s *Store) SetEventData(ctx context.Context, id int64, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("ticket: event data: %w", err)
	}
	if _, err := s.db.Exec(ctx, sqlEventData, string(b), id); err != nil {
		return fmt.Errorf("ticket: event data: %w", err)
	}
	return nil
}

func scanEvent(sc Scanner) (Event, error) {
	var e Event
	var kind, actorKind, data string
	var public int
	var created int64
	if err := sc.Scan(&e.ID, &e.TicketID, &kind, &public, &actorKind, &e.ActorID, &e.ActorName, &e.Body, &data,
		&created); err != nil {
		return e, err
	}
	e.Kind, e.ActorKind, e.Public, e.CreatedAt = EventKind(kind), authz.Kind(actorKind), public == 1, fromMS(created)
	if data != "" && data != "{}" {
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return e, fmt.Errorf("ticket: event %d data: %w", e.ID, err)
		}
	}
	return e, nil
}

// Events lists the timeline of ticket id after event id after (oldest first), only the
// public entries when publicOnly.
func (s *Store) Events(ctx context.Context, id, after int64, limit int, publicOnly bool) ([]Event, error) {
	q := sqlEvents
	if publicOnly {
		q = sqlEventsPub
	}
	rows, err := s.db.Query(ctx, q, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("ticket: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SearchTexts returns the reply and note texts of ticket id (for the search document).
func (s *Store) SearchTexts(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.db.Query(ctx, sqlSearchTexts, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: search texts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// listScope restricts a list to what the actor may see.
type listScope struct {
	scope      authz.Scope
	deptID     int64
	teamID     int64
	selfID     int64
	customerID int64 // a portal customer: only their requests
}

func (sc listScope) where() (string, []any) {
	if sc.customerID != 0 {
		return "t.customer_id = ?", []any{sc.customerID}
	}
	switch sc.scope {
	case authz.ScopeAll:
		return "", nil
	case authz.ScopeDept:
		return "t.dept_id = ?", []any{sc.deptID}
	case authz.ScopeTeam:
		if sc.teamID != 0 {
			return "(t.team_id = ? OR t.assignee_id = ?)", []any{sc.teamID, sc.selfID}
		}
	}
	return "t.assignee_id = ?", []any{sc.selfID}
}

// listQuery is a list request in store terms.
type listQuery struct {
	f      Filter
	sc     listScope
	before int64 // id < before (0 = from the top)
	// breaching queue: ordered by resolve_due_at, id; afterDue/afterID is the cursor.
	breaching         bool
	dueLimit          int64 // resolve_due_at <= dueLimit
	afterDue, afterID int64
	ids               []int64 // restrict to these ids (search hits); nil = no restriction
	limit             int
	// branch, when set, replaces the scope with "t.<col> = val AND t.open = open" (see
	// branches).
	branch *listBranch
}

type listBranch struct {
	col  string // dept_id, team_id or assignee_id
	val  int64
	open int
}

// branches splits a scoped list ordered by id into queries that each walk one index in
// id order: the queue indexes are (dept_id|team_id|assignee_id, open, id), so "my
// department, newest first" becomes "dept, open, newest first" plus "dept, closed,
// newest first", merged; a team-scoped agent's "team OR assigned to me" becomes the
// team's and their own branches. Without the split the planner sorts every row of the
// scope (130 ms for a team's 6,000 rows among 300,000) or walks the whole table. It
// returns nil when the query is better run as is.
func (q listQuery) branches() []listQuery {
	if q.breaching || q.ids != nil || q.f.Queue != "" || q.sc.customerID != 0 || q.branch != nil {
		return nil
	}
	type colVal struct {
		col string
		val int64
	}
	var cols []colVal
	switch q.sc.scope {
	case authz.ScopeAll:
		return nil
	case authz.ScopeDept:
		cols = []colVal{{"dept_id", q.sc.deptID}}
	case authz.ScopeTeam:
		if q.sc.teamID != 0 {
			cols = append(cols, colVal{"team_id", q.sc.teamID})
		}
		cols = append(cols, colVal{"assignee_id", q.sc.selfID})
	default:
		cols = []colVal{{"assignee_id", q.sc.selfID}}
	}
	opens := []int{1, 0}
	switch {
	case q.f.Status != "":
		opens = []int{boolInt(q.f.Status.Open())}
	case q.f.Open != nil:
		opens = []int{boolInt(*q.f.Open)}
	}
	var out []listQuery
	for _, c := range cols {
		for _, o := range opens {
			b := q
			b.branch = &listBranch{col: c.col, val: c.val, open: o}
			out = append(out, b)
		}
	}
	return out
}

func (q listQuery) sql() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	f := q.f
	switch f.Queue {
	case QueueMine:
		add("t.assignee_id = ?", q.sc.selfID)
		add("t.open = 1")
	case QueueTeam:
		add("t.team_id = ?", q.sc.teamID)
		add("t.open = 1")
	case QueueUnassigned:
		add("t.open = 1")
		add("t.assignee_id IS NULL")
	case QueueWaiting:
		// Not through an index on status or open (the planner would then sort every
		// waiting request): walking ids newest first stops after a page.
		add("+t.open = 1")
		add("(t.status || '') IN ('waiting_customer', 'waiting_department')")
	case QueueBreaching:
		add("t.open = 1")
		add("t.resolve_due_at > 0 AND t.resolve_due_at <= ?", q.dueLimit)
		add("t.status <> 'waiting_customer'")
	}
	if b := q.branch; b != nil {
		add("t."+b.col+" = ?", b.val)
		add("t.open = ?", b.open)
	}
	// Queues already confine a team-scoped agent to their team or themselves.
	if q.branch == nil && !(q.sc.customerID == 0 && q.sc.scope == authz.ScopeTeam && (f.Queue == QueueMine || f.Queue == QueueTeam)) {
		if w, a := q.sc.where(); w != "" {
			if q.ids != nil || f.Queue == QueueWaiting {
				// With the search hits given (or walking ids), the scope is a filter:
				// an index on it would make the planner read and sort the whole scope.
				w = strings.ReplaceAll(w, "t.", "+t.")
			}
			add(w, a...)
		}
	}
	if f.Status != "" {
		add("t.status = ?", string(f.Status))
	}
	if f.Type != "" {
		add("t.type = ?", string(f.Type))
	}
	if f.Channel != "" {
		add("t.channel = ?", string(f.Channel))
	}
	if f.Severity != "" {
		add("t.severity = ?", string(f.Severity))
	}
	if f.Priority != "" {
		add("t.priority = ?", string(f.Priority))
	}
	if f.DeptID != 0 {
		add("t.dept_id = ?", f.DeptID)
	}
	if f.TeamID != 0 && f.Queue != QueueTeam {
		add("t.team_id = ?", f.TeamID)
	}
	if f.AssigneeID != 0 {
		add("t.assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned && f.Queue != QueueUnassigned {
		add("t.assignee_id IS NULL")
	}
	if f.Open != nil && f.Queue == "" && q.branch == nil {
		add("t.open = ?", boolInt(*f.Open))
	}
	if f.CustomerID != 0 {
		add("t.customer_id = ?", f.CustomerID)
	}
	if q.ids != nil {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(q.ids)), ", ")
		cond := "t.id IN (" + ph + ")"
		for _, id := range q.ids {
			args = append(args, id)
		}
		where = append(where, cond)
	}
	order := " ORDER BY t.id DESC"
	if q.breaching {
		if q.afterID > 0 {
			add("(t.resolve_due_at > ? OR (t.resolve_due_at = ? AND t.id > ?))", q.afterDue, q.afterDue, q.afterID)
		}
		order = " ORDER BY t.resolve_due_at, t.id"
	} else if q.before > 0 {
		add("t.id < ?", q.before)
	}
	s := TicketSelect
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += order + " LIMIT ?"
	return s, append(args, q.limit)
}

// ListTickets runs q (in branches merged by id when that walks indexes instead of
// sorting).
func (s *Store) ListTickets(ctx context.Context, q listQuery) ([]Ticket, error) {
	bs := q.branches()
	if bs == nil {
		return s.listTickets(ctx, q)
	}
	var all []Ticket
	for _, b := range bs {
		ts, err := s.listTickets(ctx, b)
		if err != nil {
			return nil, err
		}
		all = append(all, ts...)
	}
	slices.SortFunc(all, func(a, b Ticket) int { return cmp.Compare(b.ID, a.ID) })
	all = slices.CompactFunc(all, func(a, b Ticket) bool { return a.ID == b.ID })
	if len(all) > q.limit {
		all = all[:q.limit]
	}
	return all, nil
}

func (s *Store) listTickets(ctx context.Context, q listQuery) ([]Ticket, error) {
	text, args := q.sql()
	rows, err := s.db.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: list: %w", err)
	}
	defer rows.Close()
	out := make([]Ticket, 0, q.limit)
	for rows.Next() {
		t, err := ScanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("ticket: list scan: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ======================= canned replies =======================

const (
	cannedSelect    = `SELECT id, title, body, dept_id, created_by, created_at, updated_at, version FROM canned_replies`
	sqlCannedByID   = cannedSelect + ` WHERE id = ?`
	sqlCannedAll    = cannedSelect + ` ORDER BY title, id LIMIT 1000`
	sqlCannedDept   = cannedSelect + ` WHERE dept_id IS NULL OR dept_id = ? ORDER BY title, id LIMIT 1000`
	sqlCannedInsert = `INSERT INTO canned_replies (title, body, dept_id, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	sqlCannedUpdate = `UPDATE canned_replies SET title = ?, body = ?, dept_id = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`
	sqlCannedDelete = `DELETE FROM canned_replies WHERE id = ?`
)

func scanCanned(sc Scanner) (CannedReply, error) {
	var c CannedReply
	var dept sql.NullInt64
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Title, &c.Body, &dept, &c.CreatedBy, &created, &updated, &c.Version)
	c.DeptID, c.CreatedAt, c.UpdatedAt = dept.Int64, fromMS(created), fromMS(updated)
	return c, err
}

// Canned loads canned reply id (sql.ErrNoRows when missing).
func (s *Store) Canned(ctx context.Context, id int64) (CannedReply, error) {
	return scanCanned(s.db.QueryRow(ctx, sqlCannedByID, id))
}

// CannedList lists the canned replies of every department (all) or those shared with
// every department plus those of deptID.
func (s *Store) CannedList(ctx context.Context, all bool, deptID int64) ([]CannedReply, error) {
	var rows *sql.Rows
	var err error
	if all {
		rows, err = s.db.Query(ctx, sqlCannedAll)
	} else {
		rows, err = s.db.Query(ctx, sqlCannedDept, deptID)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: canned replies: %w", err)
	}
	defer rows.Close()
	var out []CannedReply
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertCanned stores c and sets its id.
func (s *Store) InsertCanned(ctx context.Context, c *CannedReply) error {
	err := s.db.QueryRow(ctx, sqlCannedInsert, c.Title, c.Body, nullID(c.DeptID), c.CreatedBy, ms(c.CreatedAt),
		ms(c.UpdatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("ticket: insert canned reply: %w", err)
	}
	c.Version = 1
	return nil
}

// UpdateCanned writes c if its stored version is still c.Version; on success
// c.Version is the new version, ok false when someone else changed it first.
func (s *Store) UpdateCanned(ctx context.Context, c *CannedReply) (bool, error) {
	res, err := s.db.Exec(ctx, sqlCannedUpdate, c.Title, c.Body, nullID(c.DeptID), ms(c.UpdatedAt), c.ID, c.Version)
	if err != nil {
		return false, fmt.Errorf("ticket: update canned reply: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("ticket: update canned reply: %w", err)
	}
	if n == 1 {
		c.Version++
	}
	return n == 1, nil
}

// DeleteCanned removes canned reply id.
func (s *Store) DeleteCanned(ctx context.Context, id int64) error {
	if _, err := s.db.Exec(ctx, sqlCannedDelete, id); err != nil {
		return fmt.Errorf("ticket: delete canned reply: %w", err)
	}
	return nil
}

// ======================= attachments =======================

const (
	attachmentSelect    = `SELECT id, ticket_id, event_id, filename, content_type, size, sha256, public, created_by, created_at FROM ticket_attachments`
	sqlAttachmentByID   = attachmentSelect + ` WHERE id = ?`
	sqlAttachments      = attachmentSelect + ` WHERE ticket_id = ? ORDER BY id LIMIT 500`
	sqlAttachmentsPub   = attachmentSelect + ` WHERE ticket_id = ? AND public = 1 ORDER BY id LIMIT 500`
	sqlAttachmentData   = `SELECT data FROM ticket_attachments WHERE id = ?`
	sqlAttachmentInsert = `INSERT INTO ticket_attachments (ticket_id, event_id, filename, content_type, size, sha256, public,
		data, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

func scanAttachment(sc Scanner) (Attachment, error) {
	var a Attachment
	var public int
	var created int64
	err := sc.Scan(&a.ID, &a.TicketID, &a.EventID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &public,
		&a.CreatedBy, &created)
	a.Public, a.CreatedAt = public == 1, fromMS(created)
	return a, err
}

// Attachment loads the metadata of attachment id (sql.ErrNoRows when missing).
func (s *Store) Attachment(ctx context.Context, id int64) (Attachment, error) {
	return scanAttachment(s.db.QueryRow(ctx, sqlAttachmentByID, id))
}

// AttachmentData loads the bytes of attachment id.
func (s *Store) AttachmentData(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRow(ctx, sqlAttachmentData, id).Scan(&b); err != nil {
		return nil, fmt.Errorf("ticket: attachment data: %w", err)
	}
	return b, nil
}

// Attachments lists the attachments of ticket id (only the public ones when publicOnly).
func (s *Store) Attachments(ctx context.Context, id int64, publicOnly bool) ([]Attachment, error) {
	q := sqlAttachments
	if publicOnly {
		q = sqlAttachmentsPub
	}
	rows, err := s.db.Query(ctx, q, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertAttachment stores a with its bytes and sets its id.
func (s *Store) InsertAttachment(ctx context.Context, a *Attachment, data []byte) error {
	err := s.db.QueryRow(ctx, sqlAttachmentInsert, a.TicketID, a.EventID, a.Filename, a.ContentType, a.Size, a.SHA256,
		boolInt(a.Public), data, a.CreatedBy, ms(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("ticket: insert attachment: %w", err)
	}
	return nil
}

// IntakeDept is the department that receives requests nobody is placed for (portal
// requests of customers without a department): the first department with a team that
// has an assignment rule, else the first department; 0 when there is none.
func (st *Store) IntakeDept(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := st.db.QueryRow(ctx, `SELECT MIN(t.dept_id) FROM ticket_team_rules r JOIN teams t ON t.id = r.team_id
		WHERE r.strategy <> 'manual'`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ticket: intake department: %w", err)
	}
	if id.Valid {
		return id.Int64, nil
	}
	if err := st.db.QueryRow(ctx, `SELECT MIN(id) FROM departments`).Scan(&id); err != nil {
		return 0, fmt.Errorf("ticket: intake department: %w", err)
	}
	return id.Int64, nil
}
