-- Business calendars (internal/platform/calendar): named calendars with a time zone and
-- working hours per weekday, and the yearly public-holiday tables an administrator edits
-- or imports (a year absent here falls back to the embedded official table). Times are
-- Unix milliseconds; JSON as TEXT.
-- +goose Up
CREATE TABLE calendars (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    hours      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE holiday_years (
    year       INTEGER PRIMARY KEY,
    data       TEXT NOT NULL,
    source     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT NOT NULL
);

-- The calendar every request falls back to (the registry also creates it when missing).
INSERT INTO calendars (id, name, time_zone, hours, created_at, updated_at) VALUES ('default', 'default',
    'Asia/Shanghai', '{"mon":"09:00-18:00","tue":"09:00-18:00","wed":"09:00-18:00","thu":"09:00-18:00","fri":"09:00-18:00","sat":"","sun":""}', 0, 0);

-- +goose Down
DROP TABLE holiday_years;
DROP TABLE calendars;
