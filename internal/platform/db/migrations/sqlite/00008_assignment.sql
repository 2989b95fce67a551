-- Assignment (internal/ticket, assign*.go): per-team assignment rules and the agents'
-- availability and caps. An agent's open load is counted from tickets (assignee_id, open)
-- through the tickets_assignee_queue index. Times are Unix milliseconds.
-- +goose Up
CREATE TABLE ticket_team_rules (
    team_id              INTEGER PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    strategy             TEXT NOT NULL,
    default_cap          INTEGER NOT NULL,
    respect_availability INTEGER NOT NULL,
    last_assignee_id     BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE agent_presence (
    staff_id     INTEGER PRIMARY KEY REFERENCES staff(id) ON DELETE CASCADE,
    availability TEXT NOT NULL,
    cap          INTEGER NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE agent_presence;
DROP TABLE ticket_team_rules;
