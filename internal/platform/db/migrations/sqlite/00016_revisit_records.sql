-- Return-visit work (internal/revisit, SPEC §2.4): the visit records of the tasks, the
-- customers' signatures of on-site visits, the unreached attempts, the new issues raised
-- and their follow-up requests, the notices of results sent to staff, the sanctions
-- proposed for confirmed false records, the SMS templates and the retry schedule.
-- Times are Unix milliseconds (0 = never); JSON as TEXT.
-- +goose Up
CREATE TABLE revisit_signatures (
    id         INTEGER PRIMARY KEY,
    task_id    BIGINT NOT NULL REFERENCES revisit_tasks(id),
    png        BLOB NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    created_by BIGINT REFERENCES staff(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX revisit_signatures_task ON revisit_signatures(task_id);

CREATE TABLE revisit_records (
    id                 INTEGER PRIMARY KEY,
    task_id            BIGINT NOT NULL REFERENCES revisit_tasks(id),
    round              INTEGER NOT NULL,
    method             TEXT NOT NULL,
    visited_at         BIGINT NOT NULL,
    reached            INTEGER NOT NULL,
    satisfaction       INTEGER NOT NULL,
    answers            TEXT NOT NULL,
    important          INTEGER NOT NULL,
    note               TEXT NOT NULL,
    agent_id           BIGINT REFERENCES staff(id),
    signature_id       BIGINT REFERENCES revisit_signatures(id),
    signoff_by         BIGINT REFERENCES staff(id),
    signoff_at         BIGINT NOT NULL,
    signoff_note       TEXT NOT NULL,
    flagged_false_at   BIGINT NOT NULL,
    flagged_by         BIGINT REFERENCES staff(id),
    false_reason       TEXT NOT NULL,
    false_confirmed_at BIGINT NOT NULL,
    false_confirmed_by BIGINT REFERENCES staff(id),
    false_staff_id     BIGINT REFERENCES staff(id),
    created_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX revisit_records_task ON revisit_records(task_id, id);
CREATE INDEX revisit_records_visited ON revisit_records(visited_at);
CREATE INDEX revisit_records_flagged ON revisit_records(flagged_false_at);
CREATE INDEX revisit_records_false_staff ON revisit_records(false_staff_id, false_confirmed_at);

CREATE TABLE revisit_attempts (
    id         INTEGER PRIMARY KEY,
    task_id    BIGINT NOT NULL REFERENCES revisit_tasks(id),
    at         BIGINT NOT NULL,
    outcome    TEXT NOT NULL,
    note       TEXT NOT NULL,
    agent_id   BIGINT REFERENCES staff(id),
    next_at    BIGINT NOT NULL
);
CREATE INDEX revisit_attempts_task ON revisit_attempts(task_id, id);

CREATE TABLE revisit_issues (
    id             INTEGER PRIMARY KEY,
    record_id      BIGINT NOT NULL REFERENCES revisit_records(id),
    task_id        BIGINT NOT NULL REFERENCES revisit_tasks(id),
    body           TEXT NOT NULL,
    ticket_id      BIGINT REFERENCES tickets(id),
    appointment_at BIGINT NOT NULL,
    next_task_id   BIGINT REFERENCES revisit_tasks(id),
    answered_at    BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX revisit_issues_task ON revisit_issues(task_id);
CREATE INDEX revisit_issues_ticket ON revisit_issues(ticket_id);
CREATE INDEX revisit_issues_next ON revisit_issues(next_task_id);
CREATE INDEX revisit_issues_created ON revisit_issues(created_at);

CREATE TABLE revisit_notices (
    id         INTEGER PRIMARY KEY,
    task_id    BIGINT NOT NULL REFERENCES revisit_tasks(id),
    record_id  BIGINT REFERENCES revisit_records(id),
    staff_id   BIGINT NOT NULL REFERENCES staff(id),
    reason     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    mailed_at  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX revisit_notices_staff ON revisit_notices(staff_id, id);
CREATE INDEX revisit_notices_task ON revisit_notices(task_id);

CREATE TABLE revisit_sanctions (
    id          INTEGER PRIMARY KEY,
    staff_id    BIGINT NOT NULL REFERENCES staff(id),
    record_id   BIGINT NOT NULL UNIQUE REFERENCES revisit_records(id),
    offence     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    month       TEXT NOT NULL,
    status      TEXT NOT NULL,
    proposed_by BIGINT REFERENCES staff(id),
    decided_by  BIGINT REFERENCES staff(id),
    decided_at  BIGINT NOT NULL,
    note        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX revisit_sanctions_status ON revisit_sanctions(status, id);
CREATE INDEX revisit_sanctions_staff ON revisit_sanctions(staff_id, id);

CREATE TABLE revisit_sms_templates (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    active     INTEGER NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE revisit_work_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE revisit_work_settings;
DROP TABLE revisit_sms_templates;
DROP TABLE revisit_sanctions;
DROP TABLE revisit_notices;
DROP TABLE revisit_issues;
DROP TABLE revisit_attempts;
DROP TABLE revisit_records;
DROP TABLE revisit_signatures;
