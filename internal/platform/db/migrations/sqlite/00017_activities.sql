-- Activities with customers (internal/activity, issue 9 item 5): sports and culture
-- events, promotions and trainings with their participant customers; and the
-- cooperation records (hezuo xieyi) on customer files (internal/customer, top secret).
-- Days are 'YYYY-MM-DD'; times Unix milliseconds (0 = never).
-- activity_participants has no unique (activity_id, customer_id): customer merges
-- re-point its rows, so the service keeps one row per customer and reads DISTINCT.
-- +goose Up
CREATE TABLE activities (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    type         TEXT NOT NULL,
    start_on     TEXT NOT NULL,
    end_on       TEXT NOT NULL,
    organiser_id BIGINT REFERENCES staff(id),
    dept_id      BIGINT REFERENCES departments(id),
    team_id      BIGINT REFERENCES teams(id),
    description  TEXT NOT NULL,
    status       TEXT NOT NULL,
    participants INTEGER NOT NULL,
    ended_at     BIGINT NOT NULL,
    cancelled_at BIGINT NOT NULL,
    created_by   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX activities_status ON activities(status, id);
CREATE INDEX activities_dept ON activities(dept_id, id);
CREATE INDEX activities_team ON activities(team_id, id);
CREATE INDEX activities_organiser ON activities(organiser_id, id);

CREATE TABLE activity_participants (
    id          INTEGER PRIMARY KEY,
    activity_id BIGINT NOT NULL REFERENCES activities(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    source      TEXT NOT NULL,
    added_by    BIGINT NOT NULL,
    added_at    BIGINT NOT NULL
);
CREATE INDEX activity_participants_activity ON activity_participants(activity_id, customer_id);
CREATE INDEX activity_participants_customer ON activity_participants(customer_id, activity_id);

CREATE TABLE customer_cooperations (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    title       TEXT NOT NULL,
    number      TEXT NOT NULL,
    start_on    TEXT NOT NULL,
    end_on      TEXT NOT NULL,
    status      TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_by  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX customer_cooperations_customer ON customer_cooperations(customer_id, id);
-- Cooperating(on): active records by customer, the dates checked in the index.
CREATE INDEX customer_cooperations_active ON customer_cooperations(status, customer_id, start_on, end_on);

-- +goose Down
DROP TABLE customer_cooperations;
DROP TABLE activity_participants;
DROP TABLE activities;
