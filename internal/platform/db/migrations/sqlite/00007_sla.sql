-- SLA policies (internal/ticket, sla.go): first-response, resolution and confirmation
-- targets per request type / severity / customer tier ('' = any), each a duration text
-- ("24h", "3d") in a mode (calendar | business_hours | working_days) on a business
-- calendar; warn_before is a duration ("4h") or a share of the target ("20%").
-- The most specific active policy wins. Times are Unix milliseconds.
-- +goose Up
CREATE TABLE sla_policies (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    tier            TEXT NOT NULL,
    calendar_id     TEXT NOT NULL REFERENCES calendars(id),
    response_target TEXT NOT NULL,
    response_mode   TEXT NOT NULL,
    resolve_target  TEXT NOT NULL,
    resolve_mode    TEXT NOT NULL,
    confirm_target  TEXT NOT NULL,
    confirm_mode    TEXT NOT NULL,
    warn_before     TEXT NOT NULL,
    active          INTEGER NOT NULL,
    sort_order      INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX sla_policies_match ON sla_policies(active, sort_order, id);

-- Seeds (SPEC 2.2: respond within 24 h, resolve within 48 h, confirm within 24 h of
-- resolving), plus faster targets for major requests and VIP customers.
INSERT INTO sla_policies (name, type, severity, tier, calendar_id, response_target, response_mode,
    resolve_target, resolve_mode, confirm_target, confirm_mode, warn_before, active, sort_order, created_at, updated_at)
VALUES ('默认', '', '', '', 'default', '24h', 'calendar', '48h', 'calendar', '24h', 'calendar', '4h', 1, 100, 0, 0),
       ('重大', '', 'major', '', 'default', '2h', 'calendar', '24h', 'calendar', '24h', 'calendar', '25%', 1, 10, 0, 0),
       ('VIP', '', '', 'vip', 'default', '4h', 'calendar', '24h', 'calendar', '24h', 'calendar', '25%', 1, 20, 0, 0),
       ('VIP 重大', '', 'major', 'vip', 'default', '1h', 'calendar', '12h', 'calendar', '24h', 'calendar', '25%', 1, 5, 0, 0);

-- +goose Down
DROP TABLE sla_policies;
