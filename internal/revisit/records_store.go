package revisit

// SQL of the visit work (migration 00016): records, signatures, attempts, issues,
// notices, sanctions, SMS templates and the work settings. Every statement runs in the
// transaction carried by ctx when there is one.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
)

// workStore holds the visit-work SQL.
type workStore struct{ db *db.DB }

func (s *Service) work() *workStore { return &workStore{db: s.d.DB} }

const recordCols = `task_id, round, method, visited_at, reached, satisfaction, answers, important, note, agent_id,
	signature_id, signoff_by, signoff_at, signoff_note, flagged_false_at, flagged_by, false_reason, false_confirmed_at,
	false_confirmed_by, false_staff_id, created_at, version`

const (
	sqlRecordSelect = `SELECT id, ` + recordCols + ` FROM revisit_records`
	sqlRecordInsert = `INSERT INTO revisit_records (` + recordCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlRecordUpdate = `UPDATE revisit_records SET signoff_by = ?, signoff_at = ?, signoff_note = ?, flagged_false_at = ?,
	flagged_by = ?, false_reason = ?, false_confirmed_at = ?, false_confirmed_by = ?, false_staff_id = ?, version = ?
	WHERE id = ? AND version = ?`
	sqlRecordsOfTask      = sqlRecordSelect + ` WHERE task_id = ? ORDER BY id`
	sqlRecordByID         = sqlRecordSelect + ` WHERE id = ?`
	sqlRecordByIDLock     = sqlRecordSelect + ` WHERE id = ? FOR UPDATE`
	sqlLatestRecordOfTask = `SELECT id FROM revisit_records WHERE task_id = ? ORDER BY id DESC LIMIT 1`
	sqlCountConfirmed     = `SELECT COUNT(*) FROM revisit_records WHERE false_staff_id = ? AND false_confirmed_at > 0`

	sqlSignatureInsert = `INSERT INTO revisit_signatures (task_id, png, width, height, size, sha256, created_by, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlSignatureOfTask = `SELECT s.png FROM revisit_signatures s JOIN revisit_records r ON r.signature_id = s.id
	WHERE r.task_id = ? ORDER BY r.id DESC LIMIT 1`

	sqlAttemptInsert  = `INSERT INTO revisit_attempts (task_id, at, outcome, note, agent_id, next_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	sqlAttemptsOfTask = `SELECT id, task_id, at, outcome, note, agent_id, next_at FROM revisit_attempts WHERE task_id = ? ORDER BY id`

	issueCols             = `record_id, task_id, body, ticket_id, appointment_at, next_task_id, answered_at, created_at`
	sqlIssueInsert        = `INSERT INTO revisit_issues (` + issueCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlIssuesOfTask       = `SELECT id, ` + issueCols + ` FROM revisit_issues WHERE task_id = ? ORDER BY id`
	sqlIssuesOpenByTicket = `SELECT id, ` + issueCols + ` FROM revisit_issues WHERE ticket_id = ? AND next_task_id IS NULL ORDER BY id`
	sqlIssueSetNext       = `UPDATE revisit_issues SET next_task_id = ? WHERE id = ? AND next_task_id IS NULL`
	sqlIssuesAnswer       = `UPDATE revisit_issues SET answered_at = ? WHERE next_task_id = ? AND answered_at = 0`
	sqlOpenChildTask      = `SELECT id FROM revisit_tasks WHERE parent_id = ? AND status = 'open' ORDER BY id LIMIT 1`

	sqlSourceActor = `SELECT actor_id, agent_id FROM revisit_events WHERE source_type = ? AND source_id = ? ORDER BY id DESC LIMIT 1`

	sqlNoticeInsert = `INSERT INTO revisit_notices (task_id, record_id, staff_id, reason, channel, mailed_at, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlNoticesOfTask = `SELECT id, task_id, record_id, staff_id, reason, channel, mailed_at, created_at FROM revisit_notices
	WHERE task_id = ? ORDER BY id`
	sqlNoticeByID   = `SELECT id, task_id, record_id, staff_id, reason, channel, mailed_at, created_at FROM revisit_notices WHERE id = ?`
	sqlNoticeMailed = `UPDATE revisit_notices SET mailed_at = ? WHERE id = ? AND mailed_at = 0`

	sanctionCols        = `staff_id, record_id, offence, kind, month, status, proposed_by, decided_by, decided_at, note, version, created_at`
	sqlSanctionSelect   = `SELECT id, ` + sanctionCols + ` FROM revisit_sanctions`
	sqlSanctionInsert   = `INSERT INTO revisit_sanctions (` + sanctionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlSanctionByID     = sqlSanctionSelect + ` WHERE id = ?`
	sqlSanctionLock     = sqlSanctionSelect + ` WHERE id = ? FOR UPDATE`
	sqlSanctionUpdate   = `UPDATE revisit_sanctions SET status = ?, decided_by = ?, decided_at = ?, note = ?, version = ? WHERE id = ? AND version = ?`
	sqlSanctionList     = sqlSanctionSelect + ` WHERE (? = '' OR status = ?) AND (? = 0 OR staff_id = ?) AND id < ? ORDER BY id DESC LIMIT ?`
	sqlSanctionOfRecord = sqlSanctionSelect + ` WHERE record_id = ?`

	smsCols      = `name, body, active, version, created_at, updated_at`
	sqlSMSSelect = `SELECT id, ` + smsCols + ` FROM revisit_sms_templates`
	sqlSMSInsert = `INSERT INTO revisit_sms_templates (` + smsCols + `) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	sqlSMSList   = sqlSMSSelect + ` ORDER BY id`
	sqlSMSByID   = sqlSMSSelect + ` WHERE id = ?`
	sqlSMSUpdate = `UPDATE revisit_sms_templates SET name = ?, body = ?, active = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`

	sqlWorkSettingGet = `SELECT value FROM revisit_work_settings WHERE key = ?`
	sqlWorkSettingPut = `INSERT INTO revisit_work_settings (key, value, updated_at) VALUES (?, ?, ?)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

type rowScanner interface{ Scan(dest ...any) error }

func nullInt(v sql.NullInt64) int64 { return v.Int64 }

func scanRecord(r rowScanner) (VisitRecord, error) {
	var v VisitRecord
	var visited, signoffAt, flagged, confirmed, created int64
	var reached, important int
	var answers string
	var agent, sig, signoffBy, flaggedBy, confirmedBy, falseStaff sql.NullInt64
	err := r.Scan(&v.ID, &v.TaskID, &v.Round, &v.Method, &visited, &reached, &v.Satisfaction, &answers, &important,
		&v.Note, &agent, &sig, &signoffBy, &signoffAt, &v.SignoffNote, &flagged, &flaggedBy, &v.FalseReason, &confirmed,
		&confirmedBy, &falseStaff, &created, &v.Version)
	if err != nil {
		return v, err
	}
	v.VisitedAt, v.SignoffAt, v.FlaggedFalseAt = db.Time(visited), db.Time(signoffAt), db.Time(flagged)
	v.FalseConfirmedAt, v.CreatedAt = db.Time(confirmed), db.Time(created)
	v.Reached, v.Important = reached == 1, important == 1
	v.AgentID, v.SignatureID, v.SignoffBy = nullInt(agent), nullInt(sig), nullInt(signoffBy)
	v.FlaggedBy, v.FalseConfirmedBy, v.FalseStaffID = nullInt(flaggedBy), nullInt(confirmedBy), nullInt(falseStaff)
	v.Answers = map[string]string{}
	if answers != "" {
		if err := json.Unmarshal([]byte(answers), &v.Answers); err != nil {
			return v, fmt.Errorf("revisit: record %d answers: %w", v.ID, err)
		}
	}
	return v, nil
}

// InsertRecord stores v (ID set).
func (w *workStore) InsertRecord(ctx context.Context, v *VisitRecord) error {
	answers, err := json.Marshal(v.Answers)
	if err != nil {
		return fmt.Errorf("revisit: answers: %w", err)
	}
	err = w.db.QueryRow(ctx, sqlRecordInsert, v.TaskID, v.Round, v.Method, db.Millis(v.VisitedAt), db.Bool(v.Reached),
		v.Satisfaction, string(answers), db.Bool(v.Important), v.Note, db.NullID(v.AgentID), db.NullID(v.SignatureID),
		db.NullID(v.SignoffBy), db.Millis(v.SignoffAt), v.SignoffNote, db.Millis(v.FlaggedFalseAt), db.NullID(v.FlaggedBy),
		v.FalseReason, db.Millis(v.FalseConfirmedAt), db.NullID(v.FalseConfirmedBy), db.NullID(v.FalseStaffID),
		db.Millis(v.CreatedAt), v.Version).Scan(&v.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert record: %w", err)
	}
	return nil
}

// UpdateRecord writes the review columns of v if its stored version is prev.
func (w *workStore) UpdateRecord(ctx context.Context, v *VisitRecord, prev int64) (bool, error) {
	res, err := w.db.Exec(ctx, sqlRecordUpdate, db.NullID(v.SignoffBy), db.Millis(v.SignoffAt), v.SignoffNote,
		db.Millis(v.FlaggedFalseAt), db.NullID(v.FlaggedBy), v.FalseReason, db.Millis(v.FalseConfirmedAt),
		db.NullID(v.FalseConfirmedBy), db.NullID(v.FalseStaffID), v.Version, v.ID, prev)
	if err != nil {
		return false, fmt.Errorf("revisit: update record: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecordsOfTask lists the records of a task, oldest first.
func (w *workStore) RecordsOfTask(ctx context.Context, taskID int64) ([]VisitRecord, error) {
	rows, err := w.db.Query(ctx, sqlRecordsOfTask, taskID)
	if err != nil {
		return nil, fmt.Errorf("revisit: records: %w", err)
	}
	defer rows.Close()
	var out []VisitRecord
	for rows.Next() {
		v, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Record returns record id; lock takes the row lock on PostgreSQL (inside a transaction).
func (w *workStore) Record(ctx context.Context, id int64, lock bool) (VisitRecord, error) {
	q := sqlRecordByID
	if lock && w.db.Dialect == db.Postgres {
		q = sqlRecordByIDLock
	}
	return scanRecord(w.db.QueryRow(ctx, q, id))
}

// LatestRecordID is the newest record of a task (sql.ErrNoRows when none).
func (w *workStore) LatestRecordID(ctx context.Context, taskID int64) (int64, error) {
	var id int64
	err := w.db.QueryRow(ctx, sqlLatestRecordOfTask, taskID).Scan(&id)
	return id, err
}

// ConfirmedFalse counts the staff member's confirmed false records.
func (w *workStore) ConfirmedFalse(ctx context.Context, staffID int64) (int, error) {
	var n int
	if err := w.db.QueryRow(ctx, sqlCountConfirmed, staffID).Scan(&n); err != nil {
		return 0, fmt.Errorf("revisit: count false records: %w", err)
	}
	return n, nil
}

// InsertSignature stores a signature image and returns its id.
func (w *workStore) InsertSignature(ctx context.Context, taskID int64, sig Signature, by int64, at time.Time) (int64, error) {
	var id int64
	err := w.db.QueryRow(ctx, sqlSignatureInsert, taskID, sig.PNG, sig.Width, sig.Height, len(sig.PNG), sig.SHA256,
		db.NullID(by), db.Millis(at)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("revisit: insert signature: %w", err)
	}
	return id, nil
}

// SignatureOfTask returns the PNG of the task's latest signed record.
func (w *workStore) SignatureOfTask(ctx context.Context, taskID int64) ([]byte, error) {
	var b []byte
	err := w.db.QueryRow(ctx, sqlSignatureOfTask, taskID).Scan(&b)
	return b, err
}

// InsertAttempt stores an attempt.
func (w *workStore) InsertAttempt(ctx context.Context, a *Attempt) error {
	err := w.db.QueryRow(ctx, sqlAttemptInsert, a.TaskID, db.Millis(a.At), a.Outcome, a.Note, db.NullID(a.AgentID),
		db.Millis(a.NextAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert attempt: %w", err)
	}
	return nil
}

// AttemptsOfTask lists a task's attempts, oldest first.
func (w *workStore) AttemptsOfTask(ctx context.Context, taskID int64) ([]Attempt, error) {
	rows, err := w.db.Query(ctx, sqlAttemptsOfTask, taskID)
	if err != nil {
		return nil, fmt.Errorf("revisit: attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at, next int64
		var agent sql.NullInt64
		if err := rows.Scan(&a.ID, &a.TaskID, &at, &a.Outcome, &a.Note, &agent, &next); err != nil {
			return nil, err
		}
		a.At, a.NextAt, a.AgentID = db.Time(at), db.Time(next), agent.Int64
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanIssue(r rowScanner) (Issue, error) {
	var i Issue
	var ticketID, next sql.NullInt64
	var appt, answered, created int64
	err := r.Scan(&i.ID, &i.RecordID, &i.TaskID, &i.Body, &ticketID, &appt, &next, &answered, &created)
	i.TicketID, i.NextTaskID = ticketID.Int64, next.Int64
	i.AppointmentAt, i.AnsweredAt, i.CreatedAt = db.Time(appt), db.Time(answered), db.Time(created)
	return i, err
}

func (w *workStore) issues(ctx context.Context, q string, arg int64) ([]Issue, error) {
	rows, err := w.db.Query(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("revisit: issues: %w", err)
	}
	defer rows.Close()
	var out []Issue
	for rows.Next() {
		i, err := scanIssue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// InsertIssue stores an issue.
func (w *workStore) InsertIssue(ctx context.Context, i *Issue) error {
	err := w.db.QueryRow(ctx, sqlIssueInsert, i.RecordID, i.TaskID, i.Body, db.NullID(i.TicketID),
		db.Millis(i.AppointmentAt), db.NullID(i.NextTaskID), db.Millis(i.AnsweredAt), db.Millis(i.CreatedAt)).Scan(&i.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert issue: %w", err)
	}
	return nil
}

// IssuesOfTask lists the issues raised in a task's visits.
func (w *workStore) IssuesOfTask(ctx context.Context, taskID int64) ([]Issue, error) {
	return w.issues(ctx, sqlIssuesOfTask, taskID)
}

// OpenIssuesOfTicket lists the issues whose follow-up request is ticketID and that have
// no next visit yet.
func (w *workStore) OpenIssuesOfTicket(ctx context.Context, ticketID int64) ([]Issue, error) {
	return w.issues(ctx, sqlIssuesOpenByTicket, ticketID)
}

// SetIssueNext links an issue to the next-round visit task.
func (w *workStore) SetIssueNext(ctx context.Context, issueID, taskID int64) error {
	if _, err := w.db.Exec(ctx, sqlIssueSetNext, taskID, issueID); err != nil {
		return fmt.Errorf("revisit: link issue: %w", err)
	}
	return nil
}

// AnswerIssues stamps the issues answered by the visit task nextTaskID.
func (w *workStore) AnswerIssues(ctx context.Context, nextTaskID int64, at time.Time) error {
	if _, err := w.db.Exec(ctx, sqlIssuesAnswer, db.Millis(at), nextTaskID); err != nil {
		return fmt.Errorf("revisit: answer issues: %w", err)
	}
	return nil
}

// OpenChildTask is the open next-round task of parent (0 when none).
func (w *workStore) OpenChildTask(ctx context.Context, parentID int64) (int64, error) {
	var id int64
	err := w.db.QueryRow(ctx, sqlOpenChildTask, parentID).Scan(&id)
	if db.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// SourceActor is who did the source of a trigger (else its agent), from the engine's
// inbox; 0 when unknown.
func (w *workStore) SourceActor(ctx context.Context, sourceType string, sourceID int64) (int64, error) {
	var actor, agent int64
	err := w.db.QueryRow(ctx, sqlSourceActor, sourceType, sourceID).Scan(&actor, &agent)
	if db.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("revisit: source actor: %w", err)
	}
	if actor != 0 {
		return actor, nil
	}
	return agent, nil
}

func scanNotice(r rowScanner) (Notice, error) {
	var n Notice
	var rec sql.NullInt64
	var mailed, created int64
	err := r.Scan(&n.ID, &n.TaskID, &rec, &n.StaffID, &n.Reason, &n.Channel, &mailed, &created)
	n.RecordID, n.MailedAt, n.CreatedAt = rec.Int64, db.Time(mailed), db.Time(created)
	return n, err
}

// InsertNotice stores a notice.
func (w *workStore) InsertNotice(ctx context.Context, n *Notice) error {
	err := w.db.QueryRow(ctx, sqlNoticeInsert, n.TaskID, db.NullID(n.RecordID), n.StaffID, n.Reason, n.Channel,
		db.Millis(n.MailedAt), db.Millis(n.CreatedAt)).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert notice: %w", err)
	}
	return nil
}

// NoticesOfTask lists the notices sent about a task.
func (w *workStore) NoticesOfTask(ctx context.Context, taskID int64) ([]Notice, error) {
	rows, err := w.db.Query(ctx, sqlNoticesOfTask, taskID)
	if err != nil {
		return nil, fmt.Errorf("revisit: notices: %w", err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Notice returns notice id.
func (w *workStore) Notice(ctx context.Context, id int64) (Notice, error) {
	return scanNotice(w.db.QueryRow(ctx, sqlNoticeByID, id))
}

// MarkNoticeMailed stamps a notice mailed; false when it already was.
func (w *workStore) MarkNoticeMailed(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := w.db.Exec(ctx, sqlNoticeMailed, db.Millis(at), id)
	if err != nil {
		return false, fmt.Errorf("revisit: notice mailed: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func scanSanction(r rowScanner) (Sanction, error) {
	var x Sanction
	var proposed, decided sql.NullInt64
	var decidedAt, created int64
	err := r.Scan(&x.ID, &x.StaffID, &x.RecordID, &x.Offence, &x.Kind, &x.Month, &x.Status, &proposed, &decided,
		&decidedAt, &x.Note, &x.Version, &created)
	x.ProposedBy, x.DecidedBy, x.DecidedAt, x.CreatedAt = proposed.Int64, decided.Int64, db.Time(decidedAt), db.Time(created)
	return x, err
}

// InsertSanction stores a proposed sanction.
func (w *workStore) InsertSanction(ctx context.Context, x *Sanction) error {
	err := w.db.QueryRow(ctx, sqlSanctionInsert, x.StaffID, x.RecordID, x.Offence, x.Kind, x.Month, x.Status,
		db.NullID(x.ProposedBy), db.NullID(x.DecidedBy), db.Millis(x.DecidedAt), x.Note, x.Version,
		db.Millis(x.CreatedAt)).Scan(&x.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert sanction: %w", err)
	}
	return nil
}

// Sanction returns sanction id (locked on PostgreSQL when lock).
func (w *workStore) Sanction(ctx context.Context, id int64, lock bool) (Sanction, error) {
	q := sqlSanctionByID
	if lock && w.db.Dialect == db.Postgres {
		q = sqlSanctionLock
	}
	return scanSanction(w.db.QueryRow(ctx, q, id))
}

// SanctionOfRecord returns the sanction proposed for a record.
func (w *workStore) SanctionOfRecord(ctx context.Context, recordID int64) (Sanction, error) {
	return scanSanction(w.db.QueryRow(ctx, sqlSanctionOfRecord, recordID))
}

// UpdateSanction writes the decision of x if its stored version is prev.
func (w *workStore) UpdateSanction(ctx context.Context, x *Sanction, prev int64) (bool, error) {
	res, err := w.db.Exec(ctx, sqlSanctionUpdate, x.Status, db.NullID(x.DecidedBy), db.Millis(x.DecidedAt), x.Note,
		x.Version, x.ID, prev)
	if err != nil {
		return false, fmt.Errorf("revisit: update sanction: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Sanctions lists sanctions newest first, below id before (0 = from the newest).
func (w *workStore) Sanctions(ctx context.Context, status string, staffID, before int64, limit int) ([]Sanction, error) {
	if before <= 0 {
		before = 1<<62 - 1
	}
	rows, err := w.db.Query(ctx, sqlSanctionList, status, status, staffID, staffID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("revisit: sanctions: %w", err)
	}
	defer rows.Close()
	var out []Sanction
	for rows.Next() {
		x, err := scanSanction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func scanSMS(r rowScanner) (SMSTemplate, error) {
	var t SMSTemplate
	var active int
	var created, updated int64
	err := r.Scan(&t.ID, &t.Name, &t.Body, &active, &t.Version, &created, &updated)
	t.Active, t.CreatedAt, t.UpdatedAt = active == 1, db.Time(created), db.Time(updated)
	return t, err
}

// InsertSMSTemplate stores t.
func (w *workStore) InsertSMSTemplate(ctx context.Context, t *SMSTemplate) error {
	err := w.db.QueryRow(ctx, sqlSMSInsert, t.Name, t.Body, db.Bool(t.Active), t.Version, db.Millis(t.CreatedAt),
		db.Millis(t.UpdatedAt)).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("revisit: insert sms template: %w", err)
	}
	return nil
}

// SMSTemplates lists every template.
func (w *workStore) SMSTemplates(ctx context.Context) ([]SMSTemplate, error) {
	rows, err := w.db.Query(ctx, sqlSMSList)
	if err != nil {
		return nil, fmt.Errorf("revisit: sms templates: %w", err)
	}
	defer rows.Close()
	out := []SMSTemplate{}
	for rows.Next() {
		t, err := scanSMS(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SMSTemplate returns template id.
func (w *workStore) SMSTemplate(ctx context.Context, id int64) (SMSTemplate, error) {
	return scanSMS(w.db.QueryRow(ctx, sqlSMSByID, id))
}

// UpdateSMSTemplate writes t if its stored version is prev.
func (w *workStore) UpdateSMSTemplate(ctx context.Context, t *SMSTemplate, prev int64) (bool, error) {
	res, err := w.db.Exec(ctx, sqlSMSUpdate, t.Name, t.Body, db.Bool(t.Active), t.Version, db.Millis(t.UpdatedAt), t.ID, prev)
	if err != nil {
		return false, fmt.Errorf("revisit: update sms template: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// WorkSetting reads a setting ("" and false when unset).
func (w *workStore) WorkSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := w.db.QueryRow(ctx, sqlWorkSettingGet, key).Scan(&v)
	if db.IsNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("revisit: setting %s: %w", key, err)
	}
	return v, true, nil
}

// PutWorkSetting writes a setting.
func (w *workStore) PutWorkSetting(ctx context.Context, key, value string, at time.Time) error {
	if _, err := w.db.Exec(ctx, sqlWorkSettingPut, key, value, db.Millis(at)); err != nil {
		return fmt.Errorf("revisit: put setting %s: %w", key, err)
	}
	return nil
}
