package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Store holds the survey SQL. Every statement runs in the transaction carried by ctx
// when there is one.
type Store struct {
	db *db.DB
}

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const templateColumns = `name, description, questions, active, is_default, created_by, version, created_at, updated_at`

const inviteColumns = `template_id, customer_id, ticket_id, revisit_task_id, source, channel, status, ticket_type,
	agent_id, dept_id, team_id, token_hash, dedupe_key, due_at, send_by, sent_at, expires_at, answered_at,
	fail_reason, created_by, version, created_at, updated_at`

const inviteColumnCount = 23

var (
	sqlTemplateInsert = `INSERT INTO survey_templates (` + templateColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlTemplateUpdate = `UPDATE survey_templates SET ` + db.SetList(templateColumns) + ` WHERE id = ? AND version = ?`
	sqlTemplateSelect = `SELECT id, ` + templateColumns + ` FROM survey_templates`
	sqlTemplateByID   = sqlTemplateSelect + ` WHERE id = ?`
	sqlTemplates      = sqlTemplateSelect + ` ORDER BY id`
	sqlTemplateDef    = sqlTemplateSelect + ` WHERE is_default = 1 AND active = 1 ORDER BY id LIMIT 1`
	sqlTemplateUndef  = `UPDATE survey_templates SET is_default = 0, version = version + 1, updated_at = ? WHERE is_default = 1 AND id <> ?`

	sqlInviteInsert = `INSERT INTO survey_invites (` + inviteColumns + `) VALUES (?` +
		strings.Repeat(", ?", inviteColumnCount-1) + `) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`
	sqlInviteUpdate  = `UPDATE survey_invites SET ` + db.SetList(inviteColumns) + ` WHERE id = ? AND version = ?`
	sqlInviteSelect  = `SELECT i.id, ` + prefixed("i.", inviteColumns) + ` FROM survey_invites i`
	sqlInviteByID    = sqlInviteSelect + ` WHERE i.id = ?`
	sqlInviteByToken = sqlInviteSelect + ` WHERE i.token_hash = ?`
	sqlInvitesDue    = `SELECT id FROM survey_invites WHERE status = 'pending' AND due_at <= ? AND channel IN ('email', 'sms', 'portal') ORDER BY due_at, id LIMIT ?`
	sqlInvitesExpire = `UPDATE survey_invites SET status = 'expired', version = version + 1, updated_at = ?
		WHERE status = 'sent' AND expires_at > 0 AND expires_at <= ?`
	sqlInvitesPortal = sqlInviteSelect + ` WHERE i.customer_id = ? AND i.channel = 'portal' AND i.status = 'sent'
		AND (i.expires_at = 0 OR i.expires_at > ?) ORDER BY i.id`

	sqlResponseInsert = `INSERT INTO survey_responses (invite_id, template_id, answers, csat, nps, ces, channel, keyed_by, answered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlResponseByInvite = `SELECT id, invite_id, template_id, answers, csat, nps, ces, channel, keyed_by, answered_at
		FROM survey_responses WHERE invite_id = ?`

	// sqlResultRows are the invitations of a period with their scores (results.go
	// aggregates them per group in Go, the same on both engines).
	sqlResultRows = `SELECT i.status, i.channel, i.ticket_type, i.agent_id, i.team_id, i.dept_id, i.created_at,
		r.id, r.csat, r.nps, r.ces FROM survey_invites i LEFT JOIN survey_responses r ON r.invite_id = i.id
		WHERE i.created_at >= ? AND i.created_at < ? AND i.status <> 'pending'`

	sqlSettingGet    = `SELECT value, version FROM survey_settings WHERE name = ?`
	sqlSettingInsert = `INSERT INTO survey_settings (name, value, version, updated_at) VALUES (?, ?, 1, ?)`
	sqlSettingUpdate = `UPDATE survey_settings SET value = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?`
)

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

type scanner interface{ Scan(dest ...any) error }

func ms(t time.Time) int64 { return db.Millis(t) }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// ---- templates ----

func templateArgs(t *Template) ([]any, error) {
	qs, err := json.Marshal(t.Questions)
	if err != nil {
		return nil, fmt.Errorf("survey: questions: %w", err)
	}
	return []any{t.Name, t.Description, string(qs), db.Bool(t.Active), db.Bool(t.Default), db.NullID(t.CreatedBy),
		t.Version, ms(t.CreatedAt), ms(t.UpdatedAt)}, nil
}

func scanTemplate(row scanner) (Template, error) {
	var t Template
	var qs string
	var active, def int
	var by sql.NullInt64
	var created, updated int64
	if err := row.Scan(&t.ID, &t.Name, &t.Description, &qs, &active, &def, &by, &t.Version, &created, &updated); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(qs), &t.Questions); err != nil {
		return t, fmt.Errorf("survey: template %d questions: %w", t.ID, err)
	}
	t.Active, t.Default, t.CreatedBy = active == 1, def == 1, by.Int64
	t.CreatedAt, t.UpdatedAt = db.Time(created), db.Time(updated)
	return t, nil
}

// InsertTemplate stores a new template and sets its id.
func (st *Store) InsertTemplate(ctx context.Context, t *Template) error {
	args, err := templateArgs(t)
	if err != nil {
		return err
	}
	if err := st.db.QueryRow(ctx, sqlTemplateInsert, args...).Scan(&t.ID); err != nil {
		return fmt.Errorf("survey: insert template: %w", err)
	}
	return nil
}

// UpdateTemplate writes t if its stored version is still prev.
func (st *Store) UpdateTemplate(ctx context.Context, t *Template, prev int64) (bool, error) {
	args, err := templateArgs(t)
	if err != nil {
		return false, err
	}
	res, err := st.db.Exec(ctx, sqlTemplateUpdate, append(args, t.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("survey: update template: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ClearDefault makes every template but keep not the default.
func (st *Store) ClearDefault(ctx context.Context, keep int64, now time.Time) error {
	if _, err := st.db.Exec(ctx, sqlTemplateUndef, ms(now), keep); err != nil {
		return fmt.Errorf("survey: clear default: %w", err)
	}
	return nil
}

// Template reads template id (sql.ErrNoRows when missing).
func (st *Store) Template(ctx context.Context, id int64) (Template, error) {
	return scanTemplate(st.db.QueryRow(ctx, sqlTemplateByID, id))
}

// DefaultTemplate reads the active default template (sql.ErrNoRows when none).
func (st *Store) DefaultTemplate(ctx context.Context) (Template, error) {
	return scanTemplate(st.db.QueryRow(ctx, sqlTemplateDef))
}

// Templates lists every template.
func (st *Store) Templates(ctx context.Context) ([]Template, error) {
	rows, err := st.db.Query(ctx, sqlTemplates)
	if err != nil {
		return nil, fmt.Errorf("survey: templates: %w", err)
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ---- invitations ----

func inviteArgs(i *Invite) []any {
	return []any{i.TemplateID, i.CustomerID, db.NullID(i.TicketID), db.NullID(i.RevisitTaskID), string(i.Source),
		string(i.Channel), string(i.Status), i.TicketType, db.NullID(i.AgentID), db.NullID(i.DeptID), db.NullID(i.TeamID),
		nullStr(i.TokenHash), nullStr(i.DedupeKey), ms(i.DueAt), ms(i.SendBy), ms(i.SentAt), ms(i.ExpiresAt),
		ms(i.AnsweredAt), i.FailReason, db.NullID(i.CreatedBy), i.Version, ms(i.CreatedAt), ms(i.UpdatedAt)}
}

func scanInvite(row scanner) (Invite, error) {
	var i Invite
	var source, channel, status string
	var ticket, task, agent, dept, team, by sql.NullInt64
	var token, dedupe sql.NullString
	var due, sendBy, sent, expires, answered, created, updated int64
	err := row.Scan(&i.ID, &i.TemplateID, &i.CustomerID, &ticket, &task, &source, &channel, &status, &i.TicketType,
		&agent, &dept, &team, &token, &dedupe, &due, &sendBy, &sent, &expires, &answered, &i.FailReason, &by,
		&i.Version, &created, &updated)
	if err != nil {
		return i, err
	}
	i.Source, i.Channel, i.Status = Source(source), Channel(channel), Status(status)
	i.TicketID, i.RevisitTaskID, i.AgentID, i.DeptID, i.TeamID, i.CreatedBy = ticket.Int64, task.Int64, agent.Int64,
		dept.Int64, team.Int64, by.Int64
	i.TokenHash, i.DedupeKey = token.String, dedupe.String
	i.DueAt, i.SendBy, i.SentAt, i.ExpiresAt, i.AnsweredAt = db.Time(due), db.Time(sendBy), db.Time(sent),
		db.Time(expires), db.Time(answered)
	i.CreatedAt, i.UpdatedAt = db.Time(created), db.Time(updated)
	return i, nil
}

// InsertInvite stores a new invitation and sets its id; created is false (and nothing
// is written) when one with the same dedupe key exists.
func (st *Store) InsertInvite(ctx context.Context, i *Invite) (created bool, err error) {
	err = st.db.QueryRow(ctx, sqlInviteInsert, inviteArgs(i)...).Scan(&i.ID)
	if db.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("survey: insert invite: %w", err)
	}
	return true, nil
}

// UpdateInvite writes i if its stored version is still prev.
func (st *Store) UpdateInvite(ctx context.Context, i *Invite, prev int64) (bool, error) {
	res, err := st.db.Exec(ctx, sqlInviteUpdate, append(inviteArgs(i), i.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("survey: update invite: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Invite reads invitation id (sql.ErrNoRows when missing).
func (st *Store) Invite(ctx context.Context, id int64) (Invite, error) {
	return scanInvite(st.db.QueryRow(ctx, sqlInviteByID, id))
}

// LockInvite reads invitation id for change in ctx's transaction.
func (st *Store) LockInvite(ctx context.Context, id int64) (Invite, error) {
	q := sqlInviteByID
	if st.db.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	return scanInvite(st.db.QueryRow(ctx, q, id))
}

// InviteByToken reads the invitation whose token digest is hash.
func (st *Store) InviteByToken(ctx context.Context, hash string) (Invite, error) {
	q := sqlInviteByToken
	if st.db.InTx(ctx) && st.db.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	return scanInvite(st.db.QueryRow(ctx, q, hash))
}

// DueInvites lists up to limit pending email, SMS and portal invitations due at now.
func (st *Store) DueInvites(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := st.db.Query(ctx, sqlInvitesDue, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("survey: due invites: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ExpireInvites marks sent invitations whose link expired at now.
func (st *Store) ExpireInvites(ctx context.Context, now time.Time) (int64, error) {
	res, err := st.db.Exec(ctx, sqlInvitesExpire, ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("survey: expire invites: %w", err)
	}
	return res.RowsAffected()
}

// PortalInvites lists customer's open portal invitations at now.
func (st *Store) PortalInvites(ctx context.Context, customerID int64, now time.Time) ([]Invite, error) {
	return st.invites(ctx, sqlInvitesPortal, customerID, ms(now))
}

func (st *Store) invites(ctx context.Context, q string, args ...any) ([]Invite, error) {
	rows, err := st.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("survey: invites: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// InviteFilter selects invitations (GET /api/v1/surveys).
type InviteFilter struct {
	Status     Status
	Channel    Channel
	Source     Source
	CustomerID int64
	TicketID   int64
	AgentID    int64
	TemplateID int64
	From, To   time.Time
	// scope is the actor's reach: "" all, else one of the conditions of scopeSQL.
	scope     string
	scopeArgs []any
	after     int64 // keyset: ids below this one (0 = first page)
	limit     int
}

// ListInvites returns one page of invitations, newest first.
func (st *Store) ListInvites(ctx context.Context, f InviteFilter) ([]Invite, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Status != "" {
		add("i.status = ?", string(f.Status))
	}
	if f.Channel != "" {
		add("i.channel = ?", string(f.Channel))
	}
	if f.Source != "" {
		add("i.source = ?", string(f.Source))
	}
	if f.CustomerID != 0 {
		add("i.customer_id = ?", f.CustomerID)
	}
	if f.TicketID != 0 {
		add("i.ticket_id = ?", f.TicketID)
	}
	if f.AgentID != 0 {
		add("i.agent_id = ?", f.AgentID)
	}
	if f.TemplateID != 0 {
		add("i.template_id = ?", f.TemplateID)
	}
	if !f.From.IsZero() {
		add("i.created_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("i.created_at < ?", ms(f.To))
	}
	if f.after > 0 {
		add("i.id < ?", f.after)
	}
	if f.scope != "" {
		where = append(where, f.scope)
		args = append(args, f.scopeArgs...)
	}
	q := sqlInviteSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY i.id DESC LIMIT ?"
	args = append(args, f.limit)
	return st.invites(ctx, q, args...)
}

// ---- responses ----

// InsertResponse stores an answer sheet and sets its id.
func (st *Store) InsertResponse(ctx context.Context, r *Response) error {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("survey: answers: %w", err)
	}
	err = st.db.QueryRow(ctx, sqlResponseInsert, r.InviteID, r.TemplateID, string(answers), nullInt(r.CSAT),
		nullInt(r.NPS), nullInt(r.CES), string(r.Channel), db.NullID(r.KeyedBy), ms(r.AnsweredAt)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("survey: insert response: %w", err)
	}
	return nil
}

// ResponseOf reads the answer sheet of invitation id (sql.ErrNoRows when none).
func (st *Store) ResponseOf(ctx context.Context, inviteID int64) (Response, error) {
	var r Response
	var answers, channel string
	var csat, nps, ces, by sql.NullInt64
	var at int64
	err := st.db.QueryRow(ctx, sqlResponseByInvite, inviteID).Scan(&r.ID, &r.InviteID, &r.TemplateID, &answers,
		&csat, &nps, &ces, &channel, &by, &at)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
		return r, fmt.Errorf("survey: response %d: %w", r.ID, err)
	}
	r.CSAT, r.NPS, r.CES = intPtr(csat), intPtr(nps), intPtr(ces)
	r.Channel, r.KeyedBy, r.AnsweredAt = Channel(channel), by.Int64, db.Time(at)
	return r, nil
}

// resultRow is one invitation of the results' period.
type resultRow struct {
	Status                Status
	Channel               Channel
	TicketType            string
	AgentID, TeamID, Dept int64
	CreatedAt             time.Time
	Answered              bool
	CSAT, NPS, CES        *int
}

// ResultRows calls fn for each invitation created in [from, to) (not pending) within
// the scope condition (see InviteFilter.scope; "" = all).
func (st *Store) ResultRows(ctx context.Context, from, to time.Time, scope string, scopeArgs []any, fn func(resultRow)) error {
	q := sqlResultRows
	args := []any{ms(from), ms(to)}
	if scope != "" {
		q += " AND " + scope
		args = append(args, scopeArgs...)
	}
	rows, err := st.db.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("survey: results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r resultRow
		var status, channel string
		var agent, team, dept, resp, csat, nps, ces sql.NullInt64
		var created int64
		if err := rows.Scan(&status, &channel, &r.TicketType, &agent, &team, &dept, &created, &resp, &csat, &nps, &ces); err != nil {
			return fmt.Errorf("survey: results: %w", err)
		}
		r.Status, r.Channel = Status(status), Channel(channel)
		r.AgentID, r.TeamID, r.Dept = agent.Int64, team.Int64, dept.Int64
		r.CreatedAt, r.Answered = db.Time(created), resp.Valid
		r.CSAT, r.NPS, r.CES = intPtr(csat), intPtr(nps), intPtr(ces)
		fn(r)
	}
	return rows.Err()
}

// ---- settings ----

// Setting reads setting name (ok false when never saved).
func (st *Store) Setting(ctx context.Context, name string) (value string, version int64, ok bool, err error) {
	err = st.db.QueryRow(ctx, sqlSettingGet, name).Scan(&value, &version)
	if db.IsNoRows(err) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("survey: setting: %w", err)
	}
	return value, version, true, nil
}

// SaveSetting writes setting name at version prev (0 = first save).
func (st *Store) SaveSetting(ctx context.Context, name, value string, prev int64, now time.Time) (bool, error) {
	if prev == 0 {
		if _, err := st.db.Exec(ctx, sqlSettingInsert, name, value, ms(now)); err != nil {
			if db.IsUniqueViolation(err) {
				return false, nil
			}
			return false, fmt.Errorf("survey: setting: %w", err)
		}
		return true, nil
	}
	res, err := st.db.Exec(ctx, sqlSettingUpdate, value, ms(now), name, prev)
	if err != nil {
		return false, fmt.Errorf("survey: setting: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
