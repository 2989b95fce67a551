-- Service requests (internal/ticket): requests, their timeline, daily number counters,
-- the admin-defined category tree, attachments (stored in the database) and canned
-- replies. Times are Unix milliseconds (0 = never); JSON as TEXT.
-- +goose Up
CREATE TABLE ticket_categories (
    id         INTEGER PRIMARY KEY,
    parent_id  BIGINT REFERENCES ticket_categories(id),
    name       TEXT NOT NULL,
    skill      TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    active     INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ticket_categories_parent ON ticket_categories(parent_id);

CREATE TABLE ticket_counters (
    day TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE tickets (
    id                   INTEGER PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,
    type                 TEXT NOT NULL,
    sub_kind             TEXT NOT NULL,
    category_id          BIGINT REFERENCES ticket_categories(id),
    channel              TEXT NOT NULL,
    severity             TEXT NOT NULL,
    priority             TEXT NOT NULL,
    priority_reasons     TEXT NOT NULL,
    fault_level          INTEGER NOT NULL,
    status               TEXT NOT NULL,
    open                 INTEGER NOT NULL,
    title                TEXT NOT NULL,
    body                 TEXT NOT NULL,
    customer_id          BIGINT REFERENCES customers(id),
    contact_name         TEXT NOT NULL,
    dept_id              BIGINT REFERENCES departments(id),
    team_id              BIGINT REFERENCES teams(id),
    assignee_id          BIGINT REFERENCES staff(id),
    created_by           BIGINT NOT NULL,
    sla_policy_id        BIGINT NOT NULL,
    calendar_id          TEXT NOT NULL,
    response_due_at      BIGINT NOT NULL,
    responded_at         BIGINT NOT NULL,
    resolve_due_at       BIGINT NOT NULL,
    resolved_at          BIGINT NOT NULL,
    confirm_due_at       BIGINT NOT NULL,
    confirmed_at         BIGINT NOT NULL,
    closed_at            BIGINT NOT NULL,
    sla_paused_at        BIGINT NOT NULL,
    sla_paused_ms        BIGINT NOT NULL,
    response_warned_at   BIGINT NOT NULL,
    response_breached_at BIGINT NOT NULL,
    resolve_warned_at    BIGINT NOT NULL,
    resolve_breached_at  BIGINT NOT NULL,
    escalated_at         BIGINT NOT NULL,
    reopen_count         INTEGER NOT NULL,
    version              BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    last_activity_at     BIGINT NOT NULL
);
CREATE INDEX tickets_team_queue ON tickets(team_id, open, id);
CREATE INDEX tickets_assignee_queue ON tickets(assignee_id, open, id);
CREATE INDEX tickets_dept_queue ON tickets(dept_id, open, id);
CREATE INDEX tickets_unassigned ON tickets(open, assignee_id, id);
CREATE INDEX tickets_status ON tickets(status, id);
CREATE INDEX tickets_customer ON tickets(customer_id, id);
CREATE INDEX tickets_resolve_due ON tickets(open, resolve_due_at);
CREATE INDEX tickets_response_due ON tickets(responded_at, response_due_at);
CREATE INDEX tickets_resolved_at ON tickets(status, resolved_at);
CREATE INDEX tickets_created ON tickets(created_at);

CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    public     INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    body       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE ticket_attachments (
    id           INTEGER PRIMARY KEY,
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    event_id     BIGINT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    public       INTEGER NOT NULL,
    data         BLOB NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments(ticket_id, id);

CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    dept_id    BIGINT REFERENCES departments(id),
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE canned_replies;
DROP TABLE ticket_attachments;
DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE ticket_counters;
DROP TABLE ticket_categories;
