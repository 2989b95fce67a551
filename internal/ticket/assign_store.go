package ticket

import (
	"context"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Assignment SQL: team rules, agent presence, open loads (assign.go).
const (
	sqlRuleCols = `r.team_id, r.strategy, r.default_cap, r.respect_availability, r.last_assignee_id, r.updated_at`
	sqlRuleGet  = `SELECT ` + sqlRuleCols + ` FROM ticket_team_rules r WHERE r.team_id = ?`
	// sqlRuleFirstOfDept is the rule of the first team (by id) of a department that has one.
	sqlRuleFirstOfDept = `SELECT ` + sqlRuleCols + ` FROM ticket_team_rules r JOIN teams t ON t.id = r.team_id
		WHERE t.dept_id = ? ORDER BY r.team_id LIMIT 1`
	// PostgreSQL locks the rule row for the round-robin pointer (SQLite has one writer).
	sqlLockSuffix = ` FOR UPDATE OF r`
	sqlRulesOf    = `SELECT ` + sqlRuleCols + ` FROM ticket_team_rules r WHERE r.team_id IN (%s)`
	sqlRuleUpsert = `INSERT INTO ticket_team_rules (team_id, strategy, default_cap, respect_availability, last_assignee_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (team_id) DO UPDATE SET strategy = excluded.strategy, default_cap = excluded.default_cap,
		respect_availability = excluded.respect_availability, updated_at = excluded.updated_at`
	sqlRuleRoundRobin = `UPDATE ticket_team_rules SET last_assignee_id = ? WHERE team_id = ?`
	sqlRuleAutoTeams  = `SELECT team_id FROM ticket_team_rules WHERE strategy <> 'manual' ORDER BY team_id`

	sqlPresenceCols   = `staff_id, availability, cap, updated_at`
	sqlPresenceGet    = `SELECT ` + sqlPresenceCols + ` FROM agent_presence WHERE staff_id = ?`
	sqlPresenceOf     = `SELECT ` + sqlPresenceCols + ` FROM agent_presence WHERE staff_id IN (%s)`
	sqlPresenceUpsert = `INSERT INTO agent_presence (staff_id, availability, cap, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (staff_id) DO UPDATE SET availability = excluded.availability, cap = excluded.cap,
		updated_at = excluded.updated_at`

	// sqlOpenLoads counts open requests per assignee over tickets_assignee_queue.
	sqlOpenLoads = `SELECT assignee_id, COUNT(*) FROM tickets WHERE assignee_id IN (%s) AND open = 1 GROUP BY assignee_id`
	// sqlUnassigned lists a team's open requests without an assignee, oldest first.
	sqlUnassigned     = `SELECT id FROM tickets WHERE team_id = ? AND open = 1 AND assignee_id IS NULL ORDER BY id LIMIT ?`
	sqlCategorySkill  = `SELECT skill FROM ticket_categories WHERE id = ?`
	minInListCapacity = 4
)

// inList returns "?, ?, ..." and the arguments for ids, padded (with the first id) to a
// power of two so that few distinct statements reach the prepared-statement cache.
func inList(ids []int64) (string, []any) {
	n := minInListCapacity
	for n < len(ids) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		if i < len(ids) {
			args[i] = ids[i]
		} else {
			args[i] = ids[0]
		}
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", "), args
}

func scanRule(r interface{ Scan(...any) error }) (TeamRule, error) {
	var tr TeamRule
	var strategy string
	var respect int
	var updated int64
	if err := r.Scan(&tr.TeamID, &strategy, &tr.DefaultCap, &respect, &tr.LastAssigneeID, &updated); err != nil {
		return tr, err
	}
	tr.Strategy, tr.RespectAvailability, tr.Configured = Strategy(strategy), respect != 0, true
	tr.UpdatedAt = clock.FromMillis(updated)
	return tr, nil
}

// teamRule returns team's rule (db.IsNoRows when none); lock locks it on PostgreSQL.
func (s *Store) teamRule(ctx context.Context, team int64, lock bool) (TeamRule, error) {
	q := sqlRuleGet
	if lock && s.db.Dialect == db.Postgres {
		q += sqlLockSuffix
	}
	return scanRule(s.db.QueryRow(ctx, q, team))
}

// firstDeptRule returns the rule of the first team of dept that has one, locked on
// PostgreSQL (db.IsNoRows when none).
func (s *Store) firstDeptRule(ctx context.Context, dept int64) (TeamRule, error) {
	q := sqlRuleFirstOfDept
	if s.db.Dialect == db.Postgres {
		q += sqlLockSuffix
	}
	return scanRule(s.db.QueryRow(ctx, q, dept))
}

// rulesOf returns the stored rules of teams.
func (s *Store) rulesOf(ctx context.Context, teams []int64) ([]TeamRule, error) {
	if len(teams) == 0 {
		return nil, nil
	}
	ph, args := inList(teams)
	rows, err := s.db.Query(ctx, strings.Replace(sqlRulesOf, "%s", ph, 1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TeamRule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// putRule inserts or replaces a rule (the round-robin pointer of a stored rule stays).
func (s *Store) putRule(ctx context.Context, r TeamRule) error {
	_, err := s.db.Exec(ctx, sqlRuleUpsert, r.TeamID, string(r.Strategy), r.DefaultCap, assignBool(r.RespectAvailability),
		r.LastAssigneeID, clock.Millis(r.UpdatedAt))
	return err
}

// setRoundRobin moves team's round-robin pointer to staff.
func (s *Store) setRoundRobin(ctx context.Context, team, staff int64) error {
	_, err := s.db.Exec(ctx, sqlRuleRoundRobin, staff, team)
	return err
}

// autoTeams lists the teams whose rule assigns automatically.
func (s *Store) autoTeams(ctx context.Context) ([]int64, error) {
	return s.assignIDs(ctx, sqlRuleAutoTeams)
}

// unassigned lists up to limit open requests of team without an assignee, oldest first.
func (s *Store) unassigned(ctx context.Context, team int64, limit int) ([]int64, error) {
	return s.assignIDs(ctx, sqlUnassigned, team, limit)
}

func (s *Store) assignIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
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

func scanPresence(r interface{ Scan(...any) error }) (Presence, error) {
	var p Presence
	var avail string
	var updated int64
	if err := r.Scan(&p.StaffID, &avail, &p.Cap, &updated); err != nil {
		return p, err
	}
	p.Availability, p.UpdatedAt = Availability(avail), clock.FromMillis(updated)
	return p, nil
}

// presence returns staff's presence (ok false when none is stored).
func (s *Store) presence(ctx context.Context, staff int64) (Presence, bool, error) {
	p, err := scanPresence(s.db.QueryRow(ctx, sqlPresenceGet, staff))
	if db.IsNoRows(err) {
		return Presence{}, false, nil
	}
	return p, err == nil, err
}

// presenceOf returns the stored presence of the given staff by id.
func (s *Store) presenceOf(ctx context.Context, staff []int64) (map[int64]Presence, error) {
	out := make(map[int64]Presence, len(staff))
	if len(staff) == 0 {
		return out, nil
	}
	ph, args := inList(staff)
	rows, err := s.db.Query(ctx, strings.Replace(sqlPresenceOf, "%s", ph, 1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPresence(rows)
		if err != nil {
			return nil, err
		}
		out[p.StaffID] = p
	}
	return out, rows.Err()
}

// putPresence inserts or replaces a presence row.
func (s *Store) putPresence(ctx context.Context, p Presence) error {
	_, err := s.db.Exec(ctx, sqlPresenceUpsert, p.StaffID, string(p.Availability), p.Cap, clock.Millis(p.UpdatedAt))
	return err
}

// openLoads counts the open requests assigned to each of staff.
func (s *Store) openLoads(ctx context.Context, staff []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(staff))
	if len(staff) == 0 {
		return out, nil
	}
	ph, args := inList(staff)
	rows, err := s.db.Query(ctx, strings.Replace(sqlOpenLoads, "%s", ph, 1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// categorySkill returns the skill of category id (db.IsNoRows when it does not exist).
func (s *Store) categorySkill(ctx context.Context, id int64) (string, error) {
	var skill string
	err := s.db.QueryRow(ctx, sqlCategorySkill, id).Scan(&skill)
	return skill, err
}

func assignBool(b bool) int {
	if b {
		return 1
	}
	return 0
}
