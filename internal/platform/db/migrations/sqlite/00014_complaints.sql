-- Complaints (internal/complaint, SPEC §2.3): the complaint record beside its request, its
-- stage log, the editable cause tree, proposals, penalties, rectification and improvement
-- tasks, public letters and their links, settings, and the case library's text index.
-- Times are Unix milliseconds (0 = never); money in fen; JSON as TEXT.
-- +goose Up
CREATE TABLE complaint_causes (
    id         INTEGER PRIMARY KEY,
    parent_id  BIGINT REFERENCES complaint_causes(id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    active     INTEGER NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX complaint_causes_parent ON complaint_causes(parent_id);
INSERT INTO complaint_causes (code, name, sort_order, active, version, created_at, updated_at) VALUES
    ('service_attitude', '', 10, 1, 1, 0, 0),
    ('repair_quality', '', 20, 1, 1, 0, 0),
    ('slow_response', '', 30, 1, 1, 0, 0),
    ('charges', '', 40, 1, 1, 0, 0),
    ('product_quality', '', 50, 1, 1, 0, 0),
    ('other', '', 90, 1, 1, 0, 0);

CREATE TABLE complaints (
    id                  INTEGER PRIMARY KEY,
    ticket_id           BIGINT NOT NULL UNIQUE REFERENCES tickets(id),
    number              TEXT NOT NULL,
    title               TEXT NOT NULL,
    channel             TEXT NOT NULL,
    stage               TEXT NOT NULL,
    level               TEXT NOT NULL,
    anonymous           INTEGER NOT NULL,
    reply_only          INTEGER NOT NULL,
    customer_id         BIGINT REFERENCES customers(id),
    location            TEXT NOT NULL,
    object_kind         TEXT NOT NULL,
    object_dept_id      BIGINT REFERENCES departments(id),
    object_staff_id     BIGINT REFERENCES staff(id),
    object_text         TEXT NOT NULL,
    dept_id             BIGINT REFERENCES departments(id),
    team_id             BIGINT REFERENCES teams(id),
    resp_dept_id        BIGINT REFERENCES departments(id),
    resp_team_id        BIGINT REFERENCES teams(id),
    resp_staff_id       BIGINT REFERENCES staff(id),
    cause_id            BIGINT REFERENCES complaint_causes(id),
    cause_kind          TEXT NOT NULL,
    calendar_id         TEXT NOT NULL,
    first_due_at        BIGINT NOT NULL,
    first_done_at       BIGINT NOT NULL,
    result_due_at       BIGINT NOT NULL,
    result_done_at      BIGINT NOT NULL,
    stage_at            BIGINT NOT NULL,
    stage_due_at        BIGINT NOT NULL,
    first_warned_at     BIGINT NOT NULL,
    first_escalated_at  BIGINT NOT NULL,
    result_warned_at    BIGINT NOT NULL,
    result_escalated_at BIGINT NOT NULL,
    stage_warned_at     BIGINT NOT NULL,
    stage_escalated_at  BIGINT NOT NULL,
    rejected_at         BIGINT NOT NULL,
    satisfaction        INTEGER NOT NULL,
    reply_letter_id     BIGINT REFERENCES ticket_attachments(id),
    master_id           BIGINT REFERENCES complaints(id),
    merged_at           BIGINT NOT NULL,
    is_case             INTEGER NOT NULL,
    case_summary        TEXT NOT NULL,
    case_at             BIGINT NOT NULL,
    reopen_count        INTEGER NOT NULL,
    closed_at           BIGINT NOT NULL,
    created_by          BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX complaints_stage ON complaints(stage, id);
CREATE INDEX complaints_level ON complaints(level, id);
CREATE INDEX complaints_dept ON complaints(dept_id, id);
CREATE INDEX complaints_resp_dept ON complaints(resp_dept_id, id);
CREATE INDEX complaints_cause ON complaints(cause_id, id);
CREATE INDEX complaints_master ON complaints(master_id);
CREATE INDEX complaints_case ON complaints(is_case, id);
-- The analysis reads a period's complaints from this covering index alone (one pass).
CREATE INDEX complaints_analysis ON complaints(created_at, master_id, level, channel, dept_id, resp_dept_id, cause_id,
    stage, rejected_at, first_done_at, first_due_at, result_done_at, result_due_at, satisfaction, customer_id, anonymous);
-- Repeat complainants: a period's complaint issues grouped by customer in index order.
CREATE INDEX complaints_repeat ON complaints(customer_id, created_at, master_id, anonymous, dept_id, resp_dept_id);
-- The deadline scan reads only targets not met yet.
CREATE INDEX complaints_first_due ON complaints(first_due_at) WHERE first_done_at = 0;
CREATE INDEX complaints_result_due ON complaints(result_due_at) WHERE result_done_at = 0;
CREATE INDEX complaints_stage_due ON complaints(stage_due_at) WHERE stage_due_at > 0;

CREATE TABLE complaint_stage_log (
    id           INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    from_stage   TEXT NOT NULL,
    to_stage     TEXT NOT NULL,
    from_since   BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    data         TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    actor_name   TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX complaint_stage_log_complaint ON complaint_stage_log(complaint_id, id);
CREATE INDEX complaint_stage_log_at ON complaint_stage_log(at);
-- Time spent in each stage: sums by stage and the median in order of time spent.
CREATE INDEX complaint_stage_log_stage ON complaint_stage_log(from_stage, (at - from_since), at, from_since);
-- The same within a department: the moves of its complaints, read from the index alone.
CREATE INDEX complaint_stage_log_moves ON complaint_stage_log(complaint_id, from_stage, at, from_since);

CREATE TABLE complaint_proposals (
    id           INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    body         TEXT NOT NULL,
    comp_form    TEXT NOT NULL,
    comp_amount  BIGINT NOT NULL,
    status       TEXT NOT NULL,
    proposed_by  BIGINT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    decided_by   BIGINT NOT NULL,
    decided_at   BIGINT NOT NULL,
    instruction  TEXT NOT NULL
);
CREATE INDEX complaint_proposals_complaint ON complaint_proposals(complaint_id, id);

CREATE TABLE complaint_penalties (
    id            INTEGER PRIMARY KEY,
    complaint_id  BIGINT NOT NULL REFERENCES complaints(id),
    staff_id      BIGINT NOT NULL REFERENCES staff(id),
    staff_dept_id BIGINT REFERENCES departments(id),
    role          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    fine_category TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    note          TEXT NOT NULL,
    status        TEXT NOT NULL,
    proposed_by   BIGINT NOT NULL,
    proposed_at   BIGINT NOT NULL,
    decided_by    BIGINT NOT NULL,
    decided_at    BIGINT NOT NULL,
    decision_note TEXT NOT NULL
);
CREATE INDEX complaint_penalties_complaint ON complaint_penalties(complaint_id, id);
CREATE INDEX complaint_penalties_staff ON complaint_penalties(staff_id, id);
CREATE INDEX complaint_penalties_dept ON complaint_penalties(staff_dept_id, decided_at);

CREATE TABLE complaint_tasks (
    id           INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    kind         TEXT NOT NULL,
    owner_id     BIGINT REFERENCES staff(id),
    team_id      BIGINT REFERENCES teams(id),
    body         TEXT NOT NULL,
    report       TEXT NOT NULL,
    status       TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    done_at      BIGINT NOT NULL,
    created_by   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX complaint_tasks_complaint ON complaint_tasks(complaint_id, id);
CREATE INDEX complaint_tasks_owner ON complaint_tasks(owner_id, status);

CREATE TABLE complaint_letters (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    drafted_by   BIGINT NOT NULL,
    approved_by  BIGINT NOT NULL,
    approved_at  BIGINT NOT NULL,
    published_by BIGINT NOT NULL,
    published_at BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX complaint_letters_status ON complaint_letters(status, id);

CREATE TABLE complaint_letter_links (
    letter_id    BIGINT NOT NULL REFERENCES complaint_letters(id),
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (letter_id, complaint_id)
);
CREATE INDEX complaint_letter_links_complaint ON complaint_letter_links(complaint_id);

CREATE TABLE complaint_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE VIRTUAL TABLE search_complaint_case USING fts5(terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_'");

-- +goose Down
DROP TABLE search_complaint_case;
DROP TABLE complaint_settings;
DROP TABLE complaint_letter_links;
DROP TABLE complaint_letters;
DROP TABLE complaint_tasks;
DROP TABLE complaint_penalties;
DROP TABLE complaint_proposals;
DROP TABLE complaint_stage_log;
DROP TABLE complaints;
DROP TABLE complaint_causes;
