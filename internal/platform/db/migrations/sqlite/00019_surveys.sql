-- Satisfaction surveys (internal/survey, SPEC §2.5): editable survey templates (CSAT,
-- NPS, CES, free text and choice questions, as JSON), the invitations sent after a
-- request is resolved or a return visit is done (or by hand), their answers, and the
-- sending settings. A public link's token is never stored: only its SHA-256 digest.
-- Times are Unix milliseconds (0 = never); JSON as TEXT.
-- +goose Up
CREATE TABLE survey_templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    questions   TEXT NOT NULL,
    active      INTEGER NOT NULL,
    is_default  INTEGER NOT NULL,
    created_by  BIGINT REFERENCES staff(id),
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO survey_templates (name, description, questions, active, is_default, version, created_at, updated_at) VALUES
    ('服务满意度调查', '问题解决后及回访后发送', '[{"key":"csat","kind":"csat","text":"您对本次服务的满意程度如何？","required":true},{"key":"nps","kind":"nps","text":"您有多大可能把我们推荐给亲友？","required":true},{"key":"comment","kind":"text","text":"还有什么意见或建议想告诉我们？","required":false}]', 1, 1, 1, 0, 0);

CREATE TABLE survey_invites (
    id              INTEGER PRIMARY KEY,
    template_id     BIGINT NOT NULL REFERENCES survey_templates(id),
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    ticket_id       BIGINT REFERENCES tickets(id),
    revisit_task_id BIGINT,
    source          TEXT NOT NULL,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    ticket_type     TEXT NOT NULL,
    agent_id        BIGINT REFERENCES staff(id),
    dept_id         BIGINT REFERENCES departments(id),
    team_id         BIGINT REFERENCES teams(id),
    token_hash      TEXT UNIQUE,
    dedupe_key      TEXT UNIQUE,
    due_at          BIGINT NOT NULL,
    send_by         BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    answered_at     BIGINT NOT NULL,
    fail_reason     TEXT NOT NULL,
    created_by      BIGINT REFERENCES staff(id),
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX survey_invites_status_due ON survey_invites(status, due_at);
CREATE INDEX survey_invites_customer ON survey_invites(customer_id, status);
CREATE INDEX survey_invites_ticket ON survey_invites(ticket_id);
CREATE INDEX survey_invites_created ON survey_invites(created_at);

CREATE TABLE survey_responses (
    id          INTEGER PRIMARY KEY,
    invite_id   BIGINT NOT NULL UNIQUE REFERENCES survey_invites(id),
    template_id BIGINT NOT NULL REFERENCES survey_templates(id),
    answers     TEXT NOT NULL,
    csat        INTEGER,
    nps         INTEGER,
    ces         INTEGER,
    channel     TEXT NOT NULL,
    keyed_by    BIGINT REFERENCES staff(id),
    answered_at BIGINT NOT NULL
);
CREATE INDEX survey_responses_answered ON survey_responses(answered_at);

CREATE TABLE survey_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE survey_settings;
DROP TABLE survey_responses;
DROP TABLE survey_invites;
DROP TABLE survey_templates;
