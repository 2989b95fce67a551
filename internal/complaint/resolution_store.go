package complaint

// OWNED BY the resolution engineer: the SQL of causes, proposals, penalties and tasks.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

const (
	causeColumns      = `id, parent_id, code, name, sort_order, active, version, created_at, updated_at`
	sqlCauseByID      = `SELECT ` + causeColumns + ` FROM complaint_causes WHERE id = ?`
	sqlCauses         = `SELECT ` + causeColumns + ` FROM complaint_causes ORDER BY sort_order, id`
	sqlCauseInsert    = `INSERT INTO complaint_causes (parent_id, code, name, sort_order, active, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`
	sqlCauseUpdate    = `UPDATE complaint_causes SET parent_id = ?, name = ?, sort_order = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`
	sqlCauseDelete    = `DELETE FROM complaint_causes WHERE id = ?`
	sqlCauseChildren  = `SELECT COUNT(*) FROM complaint_causes WHERE parent_id = ?`
	sqlCauseUsedCount = `SELECT COUNT(*) FROM (SELECT 1 FROM complaints WHERE cause_id = ? LIMIT 1) u`

	proposalColumns     = `id, complaint_id, body, comp_form, comp_amount, status, proposed_by, proposed_at, decided_by, decided_at, instruction`
	sqlProposalInsert   = `INSERT INTO complaint_proposals (complaint_id, body, comp_form, comp_amount, status, proposed_by, proposed_at, decided_by, decided_at, instruction) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, '') RETURNING id`
	sqlProposalsOf      = `SELECT ` + proposalColumns + ` FROM complaint_proposals WHERE complaint_id = ? ORDER BY id`
	sqlProposalDecide   = `UPDATE complaint_proposals SET status = ?, decided_by = ?, decided_at = ?, instruction = ? WHERE id = ? AND complaint_id = ? AND status = ?`
	sqlProposalSetAside = `UPDATE complaint_proposals SET status = ?, decided_by = ?, decided_at = ? WHERE complaint_id = ? AND status = ?`
	sqlProposalCount    = `SELECT COUNT(*) FROM complaint_proposals WHERE complaint_id = ? AND status = ? AND proposed_at >= ?`

	penaltyColumns      = `p.id, p.complaint_id, p.staff_id, p.staff_dept_id, p.role, p.kind, p.fine_category, p.amount, p.note, p.status, p.proposed_by, p.proposed_at, p.decided_by, p.decided_at, p.decision_note, c.number`
	sqlPenaltySelect    = `SELECT ` + penaltyColumns + ` FROM complaint_penalties p JOIN complaints c ON c.id = p.complaint_id`
	sqlPenaltyInsert    = `INSERT INTO complaint_penalties (complaint_id, staff_id, staff_dept_id, role, kind, fine_category, amount, note, status, proposed_by, proposed_at, decided_by, decided_at, decision_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '') RETURNING id`
	sqlPenaltiesOf      = sqlPenaltySelect + ` WHERE p.complaint_id = ? ORDER BY p.id`
	sqlPenaltyByID      = sqlPenaltySelect + ` WHERE p.id = ?`
	sqlPenaltyDecide    = `UPDATE complaint_penalties SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ? AND status = ?`
	sqlPenaltyPending   = `SELECT COUNT(*) FROM complaint_penalties WHERE complaint_id = ? AND status = ?`
	sqlPenaltiesOfStaff = sqlPenaltySelect + ` WHERE p.staff_id = ? AND p.status = ? AND p.decided_at >= ? AND p.decided_at < ? ORDER BY p.decided_at, p.id`

	taskColumns      = `id, complaint_id, kind, owner_id, team_id, body, report, status, due_at, done_at, created_by, version, created_at, updated_at`
	sqlTaskInsert    = `INSERT INTO complaint_tasks (complaint_id, kind, owner_id, team_id, body, report, status, due_at, done_at, created_by, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, 0, ?, 1, ?, ?) RETURNING id`
	sqlTasksOf       = `SELECT ` + taskColumns + ` FROM complaint_tasks WHERE complaint_id = ? ORDER BY id`
	sqlTaskByID      = `SELECT ` + taskColumns + ` FROM complaint_tasks WHERE id = ?`
	sqlTaskDone      = `UPDATE complaint_tasks SET status = ?, report = ?, done_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? AND status = ?`
	sqlTaskOpenCount = `SELECT COUNT(*) FROM complaint_tasks WHERE complaint_id = ? AND kind = ? AND status = ?`
	sqlTaskDoneCount = `SELECT COUNT(*) FROM complaint_tasks WHERE complaint_id = ? AND kind = ? AND status = ? AND report <> '' AND done_at >= ?`
)

// ======================= causes =======================

func scanCause(row scanner) (Cause, error) {
	var c Cause
	var parent sql.NullInt64
	var active int
	var created, updated int64
	if err := row.Scan(&c.ID, &parent, &c.Code, &c.Name, &c.SortOrder, &active, &c.Version, &created, &updated); err != nil {
		return Cause{}, err
	}
	c.ParentID, c.Active, c.CreatedAt, c.UpdatedAt = parent.Int64, active == 1, fromMS(created), fromMS(updated)
	return c, nil
}

// Cause loads cause id (sql.ErrNoRows when missing).
func (s *Store) Cause(ctx context.Context, id int64) (Cause, error) {
	return scanCause(s.db.QueryRow(ctx, sqlCauseByID, id))
}

// Causes lists the whole cause tree in display order.
func (s *Store) Causes(ctx context.Context) ([]Cause, error) {
	rows, err := s.db.Query(ctx, sqlCauses)
	if err != nil {
		return nil, fmt.Errorf("complaint: causes: %w", err)
	}
	defer rows.Close()
	out := []Cause{}
	for rows.Next() {
		c, err := scanCause(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: causes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertCause stores a new cause and sets its id and version.
func (s *Store) InsertCause(ctx context.Context, c *Cause) error {
	err := s.db.QueryRow(ctx, sqlCauseInsert, nullID(c.ParentID), c.Code, c.Name, c.SortOrder, boolInt(c.Active),
		ms(c.CreatedAt), ms(c.UpdatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("complaint: insert cause: %w", err)
	}
	c.Version = 1
	return nil
}

// UpdateCause writes c when its stored version is c.Version and bumps it; false when stale.
func (s *Store) UpdateCause(ctx context.Context, c *Cause) (bool, error) {
	res, err := s.db.Exec(ctx, sqlCauseUpdate, nullID(c.ParentID), c.Name, c.SortOrder, boolInt(c.Active),
		ms(c.UpdatedAt), c.ID, c.Version)
	if err != nil {
		return false, fmt.Errorf("complaint: update cause: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complaint: update cause: %w", err)
	}
	if n == 1 {
		c.Version++
	}
	return n == 1, nil
}

// CauseUsage counts the children of cause id and whether any complaint names it (0 or 1).
func (s *Store) CauseUsage(ctx context.Context, id int64) (children, used int, err error) {
	if err = s.db.QueryRow(ctx, sqlCauseChildren, id).Scan(&children); err != nil {
		return 0, 0, fmt.Errorf("complaint: cause usage: %w", err)
	}
	if err = s.db.QueryRow(ctx, sqlCauseUsedCount, id).Scan(&used); err != nil {
		return 0, 0, fmt.Errorf("complaint: cause usage: %w", err)
	}
	return children, used, nil
}

// DeleteCause removes cause id.
func (s *Store) DeleteCause(ctx context.Context, id int64) error {
	if _, err := s.db.Exec(ctx, sqlCauseDelete, id); err != nil {
		return fmt.Errorf("complaint: delete cause: %w", err)
	}
	return nil
}

// ======================= proposals =======================

func scanProposal(row scanner) (Proposal, error) {
	var p Proposal
	var proposed, decided int64
	if err := row.Scan(&p.ID, &p.ComplaintID, &p.Body, &p.CompForm, &p.CompAmount, &p.Status, &p.ProposedBy,
		&proposed, &p.DecidedBy, &decided, &p.Instruction); err != nil {
		return Proposal{}, err
	}
	p.ProposedAt, p.DecidedAt = fromMS(proposed), fromMS(decided)
	return p, nil
}

// InsertProposal stores a new proposal and sets its id.
func (s *Store) InsertProposal(ctx context.Context, p *Proposal) error {
	err := s.db.QueryRow(ctx, sqlProposalInsert, p.ComplaintID, p.Body, p.CompForm, p.CompAmount, p.Status,
		p.ProposedBy, ms(p.ProposedAt)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("complaint: insert proposal: %w", err)
	}
	return nil
}

// Proposals lists the proposals of complaint id, oldest first.
func (s *Store) Proposals(ctx context.Context, id int64) ([]Proposal, error) {
	rows, err := s.db.Query(ctx, sqlProposalsOf, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: proposals: %w", err)
	}
	defer rows.Close()
	out := []Proposal{}
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: proposals: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ApproveProposal approves proposal pid of complaint cid (still proposed) and sets every
// other proposed one aside; it reports false when pid was not proposed any more.
func (s *Store) ApproveProposal(ctx context.Context, cid, pid, by int64, at time.Time, instruction string) (bool, error) {
	res, err := s.db.Exec(ctx, sqlProposalDecide, ProposalApproved, by, ms(at), instruction, pid, cid, ProposalProposed)
	if err != nil {
		return false, fmt.Errorf("complaint: approve proposal: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if _, err := s.db.Exec(ctx, sqlProposalSetAside, ProposalSetAside, by, ms(at), cid, ProposalProposed); err != nil {
		return false, fmt.Errorf("complaint: set proposals aside: %w", err)
	}
	return true, nil
}

// CountProposals counts the proposals of complaint id with status made since since.
func (s *Store) CountProposals(ctx context.Context, id int64, status string, since time.Time) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlProposalCount, id, status, ms(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: count proposals: %w", err)
	}
	return n, nil
}

// ======================= penalties =======================

func scanPenalty(row scanner) (Penalty, error) {
	var p Penalty
	var dept sql.NullInt64
	var kind string
	var proposed, decided int64
	if err := row.Scan(&p.ID, &p.ComplaintID, &p.StaffID, &dept, &p.Role, &kind, &p.FineCategory, &p.Amount, &p.Note,
		&p.Status, &p.ProposedBy, &proposed, &p.DecidedBy, &decided, &p.DecisionNote, &p.Number); err != nil {
		return Penalty{}, err
	}
	p.StaffDeptID, p.Kind, p.ProposedAt, p.DecidedAt = dept.Int64, PenaltyKind(kind), fromMS(proposed), fromMS(decided)
	return p, nil
}

func scanPenalties(rows *sql.Rows, err error) ([]Penalty, error) {
	if err != nil {
		return nil, fmt.Errorf("complaint: penalties: %w", err)
	}
	defer rows.Close()
	out := []Penalty{}
	for rows.Next() {
		p, err := scanPenalty(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: penalties: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// InsertPenalty stores a new penalty and sets its id.
func (s *Store) InsertPenalty(ctx context.Context, p *Penalty) error {
	err := s.db.QueryRow(ctx, sqlPenaltyInsert, p.ComplaintID, p.StaffID, nullID(p.StaffDeptID), p.Role, string(p.Kind),
		p.FineCategory, p.Amount, p.Note, p.Status, p.ProposedBy, ms(p.ProposedAt)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("complaint: insert penalty: %w", err)
	}
	return nil
}

// Penalty loads penalty id (sql.ErrNoRows when missing).
func (s *Store) Penalty(ctx context.Context, id int64) (Penalty, error) {
	return scanPenalty(s.db.QueryRow(ctx, sqlPenaltyByID, id))
}

// Penalties lists the penalties of complaint id, oldest first.
func (s *Store) Penalties(ctx context.Context, id int64) ([]Penalty, error) {
	return scanPenalties(s.db.Query(ctx, sqlPenaltiesOf, id))
}

// DecidePenalty records the decision on penalty id while it is still proposed; false
// when it was decided already.
func (s *Store) DecidePenalty(ctx context.Context, id int64, status string, by int64, at time.Time, note string) (bool, error) {
	res, err := s.db.Exec(ctx, sqlPenaltyDecide, status, by, ms(at), note, id, PenaltyProposed)
	if err != nil {
		return false, fmt.Errorf("complaint: decide penalty: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountPendingPenalties counts the penalties of complaint id still waiting for a decision.
func (s *Store) CountPendingPenalties(ctx context.Context, id int64) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlPenaltyPending, id, PenaltyProposed).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: pending penalties: %w", err)
	}
	return n, nil
}

// PenaltiesOfStaff lists the approved penalties of staff member id decided in [from, to),
// oldest first.
func (s *Store) PenaltiesOfStaff(ctx context.Context, id int64, from, to time.Time) ([]Penalty, error) {
	return scanPenalties(s.db.Query(ctx, sqlPenaltiesOfStaff, id, PenaltyApproved, ms(from), ms(to)))
}

// penaltyQuery is a penalty list's conditions in SQL (scope and filters).
type penaltyQuery struct {
	staffID, deptID int64
	status          string
	from, to        time.Time
	scopeDept       int64 // > 0: only penalties of staff in this department
	scopeSelf       int64 // > 0: only penalties of this staff member
	beforeID        int64
	limit           int
}

// ListPenalties pages through penalties newest first by q. The period applies to the
// decision time, or to the proposal time for penalties still proposed.
func (s *Store) ListPenalties(ctx context.Context, q penaltyQuery) ([]Penalty, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	at := "p.decided_at"
	if q.status == PenaltyProposed {
		at = "p.proposed_at"
	}
	if q.status != "" {
		add("p.status = ?", q.status)
	}
	if q.staffID != 0 {
		add("p.staff_id = ?", q.staffID)
	}
	if q.deptID != 0 {
		add("p.staff_dept_id = ?", q.deptID)
	}
	if q.scopeDept != 0 {
		add("p.staff_dept_id = ?", q.scopeDept)
	}
	if q.scopeSelf != 0 {
		add("p.staff_id = ?", q.scopeSelf)
	}
	if !q.from.IsZero() {
		add(at+" >= ?", ms(q.from))
	}
	if !q.to.IsZero() {
		add(at+" < ?", ms(q.to))
	}
	if q.beforeID != 0 {
		add("p.id < ?", q.beforeID)
	}
	stmt := sqlPenaltySelect
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += fmt.Sprintf(" ORDER BY p.id DESC LIMIT %d", q.limit)
	return scanPenalties(s.db.Query(ctx, stmt, args...))
}

// ======================= tasks =======================

func scanTask(row scanner) (Task, error) {
	var t Task
	var owner, team sql.NullInt64
	var due, done, created, updated int64
	if err := row.Scan(&t.ID, &t.ComplaintID, &t.Kind, &owner, &team, &t.Body, &t.Report, &t.Status, &due, &done,
		&t.CreatedBy, &t.Version, &created, &updated); err != nil {
		return Task{}, err
	}
	t.OwnerID, t.TeamID = owner.Int64, team.Int64
	t.DueAt, t.DoneAt, t.CreatedAt, t.UpdatedAt = fromMS(due), fromMS(done), fromMS(created), fromMS(updated)
	return t, nil
}

// InsertTask stores a new open task and sets its id and version.
func (s *Store) InsertTask(ctx context.Context, t *Task) error {
	err := s.db.QueryRow(ctx, sqlTaskInsert, t.ComplaintID, t.Kind, nullID(t.OwnerID), nullID(t.TeamID), t.Body,
		t.Status, ms(t.DueAt), t.CreatedBy, ms(t.CreatedAt), ms(t.UpdatedAt)).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("complaint: insert task: %w", err)
	}
	t.Version = 1
	return nil
}

// Task loads task id (sql.ErrNoRows when missing).
func (s *Store) Task(ctx context.Context, id int64) (Task, error) {
	return scanTask(s.db.QueryRow(ctx, sqlTaskByID, id))
}

// Tasks lists the tasks of complaint id, oldest first.
func (s *Store) Tasks(ctx context.Context, id int64) ([]Task, error) {
	rows, err := s.db.Query(ctx, sqlTasksOf, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FinishTask marks open task t done with report when its stored version is t.Version;
// false when it moved on.
func (s *Store) FinishTask(ctx context.Context, t *Task) (bool, error) {
	res, err := s.db.Exec(ctx, sqlTaskDone, TaskDone, t.Report, ms(t.DoneAt), ms(t.UpdatedAt), t.ID, t.Version, TaskOpen)
	if err != nil {
		return false, fmt.Errorf("complaint: finish task: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complaint: finish task: %w", err)
	}
	if n == 1 {
		t.Version++
		t.Status = TaskDone
	}
	return n == 1, nil
}

// CountOpenTasks counts the open tasks of kind on complaint id.
func (s *Store) CountOpenTasks(ctx context.Context, id int64, kind string) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlTaskOpenCount, id, kind, TaskOpen).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: count tasks: %w", err)
	}
	return n, nil
}

// CountReportedTasks counts the tasks of kind on complaint id done with a report since since.
func (s *Store) CountReportedTasks(ctx context.Context, id int64, kind string, since time.Time) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, sqlTaskDoneCount, id, kind, TaskDone, ms(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: count tasks: %w", err)
	}
	return n, nil
}
