-- Indexes of the return-visit report (internal/revisit/report_store.go): the tasks of a
-- period streamed rule by rule from one covering index in window order (it holds every
-- column the report reads, so no table row is visited), the records and the issues of
-- those tasks from two more in task order, the decisions counted rule by rule (chosen
-- or not), the records confirmed false in a period and the issues still waiting for
-- an answer.
-- +goose Up
CREATE INDEX revisit_tasks_report ON revisit_tasks(rule_code, window_start, status, done_at, window_end, round,
    decision_id, assignee_id, dept_id, team_id);
CREATE INDEX revisit_records_report ON revisit_records(task_id, reached, satisfaction, important);
CREATE INDEX revisit_records_false ON revisit_records(false_confirmed_at);
CREATE INDEX revisit_decisions_report ON revisit_decisions(rule_code, chosen, decided_at);
CREATE INDEX revisit_issues_report ON revisit_issues(task_id, answered_at);
CREATE INDEX revisit_issues_open ON revisit_issues(answered_at, created_at);

-- +goose Down
DROP INDEX revisit_issues_open;
DROP INDEX revisit_issues_report;
DROP INDEX revisit_decisions_report;
DROP INDEX revisit_records_false;
DROP INDEX revisit_records_report;
DROP INDEX revisit_tasks_report;
