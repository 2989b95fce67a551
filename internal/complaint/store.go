package complaint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Store holds the complaint SQL. Every statement runs in the transaction carried by ctx
// when there is one.
type Store struct {
	db *db.DB
}

// NewStore returns the store over d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// complaintColumns are the complaints columns after id, in scanComplaint / complaintArgs order.
const complaintColumns = `ticket_id, number, title, channel, stage, level, anonymous, reply_only, customer_id,
	location, object_kind, object_dept_id, object_staff_id, object_text, dept_id, team_id, resp_dept_id,
	resp_team_id, resp_staff_id, cause_id, cause_kind, calendar_id, first_due_at, first_done_at, result_due_at,
	result_done_at, stage_at, stage_due_at, first_warned_at, first_escalated_at, result_warned_at,
	result_escalated_at, stage_warned_at, stage_escalated_at, rejected_at, satisfaction, reply_letter_id,
	master_id, merged_at, is_case, case_summary, case_at, reopen_count, closed_at, created_by, version, created_at,
	updated_at`

const complaintColumnCount = 48

// ComplaintSelect is the SELECT list of a full complaint row ("c" is the alias).
var ComplaintSelect = `SELECT c.id, ` + prefixed("c.", complaintColumns) + ` FROM complaints c`

var (
	sqlComplaintInsert = `INSERT INTO complaints (` + complaintColumns + `) VALUES (?` +
		strings.Repeat(", ?", complaintColumnCount-1) + `) RETURNING id`
	sqlComplaintUpdate      = `UPDATE complaints SET ` + setList(complaintColumns) + ` WHERE id = ? AND version = ?`
	sqlComplaintByID        = ComplaintSelect + ` WHERE c.id = ?`
	sqlComplaintForUpdate   = ComplaintSelect + ` WHERE c.id = ? FOR UPDATE`
	sqlComplaintByTicket    = ComplaintSelect + ` WHERE c.ticket_id = ?`
	sqlStageLogInsert       = `INSERT INTO complaint_stage_log (complaint_id, from_stage, to_stage, from_since, reason, data, actor_kind, actor_id, actor_name, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlStageLog             = `SELECT id, complaint_id, from_stage, to_stage, from_since, reason, data, actor_kind, actor_id, actor_name, at FROM complaint_stage_log WHERE complaint_id = ? ORDER BY id`
	sqlComplaintStamp       = `UPDATE complaints SET %s = ? WHERE id = ? AND %s = 0`
	sqlComplaintTicketTitle = `UPDATE complaints SET title = ?, channel = ? WHERE ticket_id = ?`
)

// stampColumns are the deadline stamps set at most once (stampOnce).
var stampColumns = map[string]bool{"first_warned_at": true, "first_escalated_at": true, "result_warned_at": true,
	"result_escalated_at": true, "stage_warned_at": true, "stage_escalated_at": true}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// setList turns "a, b" into "a = ?, b = ?".
func setList(cols string) string { return db.SetList(cols) }

func nullID(id int64) any { return db.NullID(id) }

func ms(t time.Time) int64 { return db.Millis(t) }

func fromMS(v int64) time.Time { return db.Time(v) }

func boolInt(b bool) int { return db.Bool(b) }

type scanner interface{ Scan(dest ...any) error }

func complaintArgs(c *Complaint) []any {
	return []any{c.TicketID, c.Number, c.Title, string(c.Channel), string(c.Stage), string(c.Level),
		boolInt(c.Anonymous), boolInt(c.ReplyOnly), nullID(c.CustomerID), c.Location, string(c.ObjectKind),
		nullID(c.ObjectDeptID), nullID(c.ObjectStaffID), c.ObjectText, nullID(c.DeptID), nullID(c.TeamID),
		nullID(c.RespDeptID), nullID(c.RespTeamID), nullID(c.RespStaffID), nullID(c.CauseID), string(c.CauseKind),
		c.CalendarID, ms(c.FirstDueAt), ms(c.FirstDoneAt), ms(c.ResultDueAt), ms(c.ResultDoneAt), ms(c.StageAt),
		ms(c.StageDueAt), ms(c.FirstWarnedAt), ms(c.FirstEscalatedAt), ms(c.ResultWarnedAt), ms(c.ResultEscalatedAt),
		ms(c.StageWarnedAt), ms(c.StageEscalatedAt), ms(c.RejectedAt), c.Satisfaction, nullID(c.ReplyLetterID),
		nullID(c.MasterID), ms(c.MergedAt), boolInt(c.IsCase), c.CaseSummary, ms(c.CaseAt), c.ReopenCount,
		ms(c.ClosedAt), c.CreatedBy, c.Version, ms(c.CreatedAt), ms(c.UpdatedAt)}
}

// ScanComplaint reads one row of ComplaintSelect.
func ScanComplaint(row scanner) (Complaint, error) {
	var c Complaint
	var channel, stage, level, objKind, causeKind string
	var anon, replyOnly, isCase int
	var customer, objDept, objStaff, dept, team, respDept, respTeam, respStaff, cause, letter, master sql.NullInt64
	var firstDue, firstDone, resultDue, resultDone, stageAt, stageDue, fw, fe, rw, re, sw, se, rejected, mergedAt,
		caseAt, closed, created, updated int64
	err := row.Scan(&c.ID, &c.TicketID, &c.Number, &c.Title, &channel, &stage, &level, &anon, &replyOnly, &customer,
		&c.Location, &objKind, &objDept, &objStaff, &c.ObjectText, &dept, &team, &respDept, &respTeam, &respStaff,
		&cause, &causeKind, &c.CalendarID, &firstDue, &firstDone, &resultDue, &resultDone, &stageAt, &stageDue,
		&fw, &fe, &rw, &re, &sw, &se, &rejected, &c.Satisfaction, &letter, &master, &mergedAt, &isCase,
		&c.CaseSummary, &caseAt, &c.ReopenCount, &closed, &c.CreatedBy, &c.Version, &created, &updated)
	if err != nil {
		return Complaint{}, err
	}
	c.Channel, c.Stage, c.Level = ticket.Channel(channel), Stage(stage), Level(level)
	c.ObjectKind, c.CauseKind = ObjectKind(objKind), CauseKind(causeKind)
	c.Anonymous, c.ReplyOnly, c.IsCase = anon == 1, replyOnly == 1, isCase == 1
	c.CustomerID, c.ObjectDeptID, c.ObjectStaffID = customer.Int64, objDept.Int64, objStaff.Int64
	c.DeptID, c.TeamID, c.RespDeptID, c.RespTeamID, c.RespStaffID = dept.Int64, team.Int64, respDept.Int64, respTeam.Int64, respStaff.Int64
	c.CauseID, c.ReplyLetterID, c.MasterID = cause.Int64, letter.Int64, master.Int64
	c.FirstDueAt, c.FirstDoneAt, c.ResultDueAt, c.ResultDoneAt = fromMS(firstDue), fromMS(firstDone), fromMS(resultDue), fromMS(resultDone)
	c.StageAt, c.StageDueAt = fromMS(stageAt), fromMS(stageDue)
	c.FirstWarnedAt, c.FirstEscalatedAt, c.ResultWarnedAt, c.ResultEscalatedAt = fromMS(fw), fromMS(fe), fromMS(rw), fromMS(re)
	c.StageWarnedAt, c.StageEscalatedAt = fromMS(sw), fromMS(se)
	c.RejectedAt, c.MergedAt, c.CaseAt, c.ClosedAt = fromMS(rejected), fromMS(mergedAt), fromMS(caseAt), fromMS(closed)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// Insert stores a new complaint and sets its id.
func (s *Store) Insert(ctx context.Context, c *Complaint) error {
	if err := s.db.QueryRow(ctx, sqlComplaintInsert, complaintArgs(c)...).Scan(&c.ID); err != nil {
		return fmt.Errorf("complaint: insert: %w", err)
	}
	return nil
}

// Update writes c when its stored version is prev; it reports false when the row moved on.
func (s *Store) Update(ctx context.Context, c *Complaint, prev int64) (bool, error) {
	res, err := s.db.Exec(ctx, sqlComplaintUpdate, append(complaintArgs(c), c.ID, prev)...)
	if err != nil {
		return false, fmt.Errorf("complaint: update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complaint: update: %w", err)
	}
	return n == 1, nil
}

// Get loads complaint id (sql.ErrNoRows when missing).
func (s *Store) Get(ctx context.Context, id int64) (Complaint, error) {
	return ScanComplaint(s.db.QueryRow(ctx, sqlComplaintByID, id))
}

// ByTicket loads the complaint of request ticketID (sql.ErrNoRows when it has none).
func (s *Store) ByTicket(ctx context.Context, ticketID int64) (Complaint, error) {
	return ScanComplaint(s.db.QueryRow(ctx, sqlComplaintByTicket, ticketID))
}

// Lock loads complaint id for change inside ctx's transaction (FOR UPDATE on PostgreSQL;
// SQLite's immediate write transaction already excludes other writers).
func (s *Store) Lock(ctx context.Context, id int64) (Complaint, error) {
	q := sqlComplaintByID
	if s.db.Dialect == db.Postgres {
		q = sqlComplaintForUpdate
	}
	return ScanComplaint(s.db.QueryRow(ctx, q, id))
}

// Stamp sets a deadline stamp column to at if it is still zero; it reports whether it did
// (two nodes stamping the same complaint: one wins).
func (s *Store) Stamp(ctx context.Context, id int64, column string, at time.Time) (bool, error) {
	if !stampColumns[column] {
		return false, fmt.Errorf("complaint: unknown stamp %q", column)
	}
	res, err := s.db.Exec(ctx, fmt.Sprintf(sqlComplaintStamp, column, column), ms(at), id)
	if err != nil {
		return false, fmt.Errorf("complaint: stamp %s: %w", column, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SyncTicket copies the request's title and channel onto its complaint (request edits).
func (s *Store) SyncTicket(ctx context.Context, ticketID int64, title string, ch ticket.Channel) error {
	if _, err := s.db.Exec(ctx, sqlComplaintTicketTitle, title, string(ch), ticketID); err != nil {
		return fmt.Errorf("complaint: sync request: %w", err)
	}
	return nil
}

// InsertStage appends a move to the stage history and sets its id.
func (s *Store) InsertStage(ctx context.Context, e *StageEntry) error {
	data := "{}"
	if len(e.Data) > 0 {
		b, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("complaint: stage data: %w", err)
		}
		data = string(b)
	}
	err := s.db.QueryRow(ctx, sqlStageLogInsert, e.ComplaintID, string(e.From), string(e.To), ms(e.FromSince), e.Reason,
		data, string(e.ActorKind), e.ActorID, e.ActorName, ms(e.At)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("complaint: stage log: %w", err)
	}
	return nil
}

// Stages lists the stage history of complaint id, oldest first.
func (s *Store) Stages(ctx context.Context, id int64) ([]StageEntry, error) {
	rows, err := s.db.Query(ctx, sqlStageLog, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: stage log: %w", err)
	}
	defer rows.Close()
	var out []StageEntry
	for rows.Next() {
		var e StageEntry
		var from, to, kind, data string
		var since, at int64
		if err := rows.Scan(&e.ID, &e.ComplaintID, &from, &to, &since, &e.Reason, &data, &kind, &e.ActorID,
			&e.ActorName, &at); err != nil {
			return nil, fmt.Errorf("complaint: stage log: %w", err)
		}
		e.From, e.To, e.ActorKind, e.FromSince, e.At = Stage(from), Stage(to), authz.Kind(kind), fromMS(since), fromMS(at)
		if data != "" && data != "{}" {
			if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
				return nil, fmt.Errorf("complaint: stage data: %w", err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
