-- +goose Up
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE departments (
    id         INTEGER PRIMARY KEY,
    parent_id  BIGINT REFERENCES departments(id),
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX departments_parent ON departments(parent_id);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    dept_id    BIGINT NOT NULL REFERENCES departments(id),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dept_id, name)
);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    scope       TEXT NOT NULL,
    permissions TEXT NOT NULL,
    builtin     INTEGER NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE staff (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    mobile       TEXT NOT NULL,
    email        TEXT NOT NULL,
    dept_id      BIGINT REFERENCES departments(id),
    team_id      BIGINT REFERENCES teams(id),
    skills       TEXT NOT NULL,
    status       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX staff_dept ON staff(dept_id, id);

CREATE TABLE staff_roles (
    staff_id BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    role_id  BIGINT NOT NULL REFERENCES roles(id),
    PRIMARY KEY (staff_id, role_id)
);
CREATE INDEX staff_roles_role ON staff_roles(role_id);

CREATE TABLE credentials (
    staff_id            BIGINT PRIMARY KEY REFERENCES staff(id) ON DELETE CASCADE,
    password_hash       TEXT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    totp_secret         TEXT NOT NULL,
    totp_enabled        INTEGER NOT NULL,
    totp_last_step      BIGINT NOT NULL,
    failed_count        INTEGER NOT NULL,
    first_failed_at     BIGINT NOT NULL,
    locked_until        BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    mfa_pending  INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL
);
CREATE INDEX sessions_staff ON sessions(staff_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    digest       TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL
);
CREATE INDEX api_tokens_staff ON api_tokens(staff_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    ip          TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id, seq);
CREATE INDEX audit_log_action ON audit_log(action, seq);
CREATE INDEX audit_log_at ON audit_log(at, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    head_hash TEXT NOT NULL,
    at        BIGINT NOT NULL,
    mac       TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    actor_id     BIGINT NOT NULL,
    idem_key     TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    location     TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (actor_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE credentials;
DROP TABLE staff_roles;
DROP TABLE staff;
DROP TABLE roles;
DROP TABLE teams;
DROP TABLE departments;
DROP TABLE settings;
