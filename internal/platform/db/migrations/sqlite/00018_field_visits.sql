-- Field visits (internal/fieldvisit, SPEC §2.7): the salespeople's visit records (the
-- waiqin form) and the settings holding the visit plans per customer class. The contact's
-- phone is encrypted at rest (AES-256-GCM, key outside the database) with a blind index
-- for exact lookups. Times are Unix milliseconds; JSON as TEXT.
-- +goose Up
CREATE TABLE field_visits (
    id            INTEGER PRIMARY KEY,
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    business_type TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    contact_title TEXT NOT NULL,
    phone_enc     TEXT NOT NULL,
    phone_blind   TEXT NOT NULL,
    visited_at    BIGINT NOT NULL,
    purpose       TEXT NOT NULL,
    result        TEXT NOT NULL,
    next_step     TEXT NOT NULL,
    intent_class  TEXT NOT NULL,
    deal_closed   INTEGER NOT NULL,
    location      TEXT NOT NULL,
    staff_id      BIGINT NOT NULL REFERENCES staff(id),
    dept_id       BIGINT REFERENCES departments(id),
    team_id       BIGINT REFERENCES teams(id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX field_visits_staff ON field_visits(staff_id, visited_at, id);
CREATE INDEX field_visits_dept ON field_visits(dept_id, visited_at, id);
CREATE INDEX field_visits_team ON field_visits(team_id, visited_at, id);
CREATE INDEX field_visits_customer ON field_visits(customer_id, visited_at);
CREATE INDEX field_visits_visited ON field_visits(visited_at, id);
CREATE INDEX field_visits_phone ON field_visits(phone_blind);

CREATE TABLE field_visit_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE field_visit_settings;
DROP TABLE field_visits;
