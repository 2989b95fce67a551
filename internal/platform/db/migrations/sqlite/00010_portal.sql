-- Customer portal (internal/portal): one-time sign-in codes and portal sessions.
-- A code row keeps only keyed hashes (the address or mobile the customer typed, and the
-- code); a session row keeps the SHA-256 of the cookie value. Times are Unix ms.
-- +goose Up
CREATE TABLE portal_codes (
    id          INTEGER PRIMARY KEY,
    email_hash  TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    used_at     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    ip          TEXT NOT NULL
);
CREATE INDEX portal_codes_email ON portal_codes(email_hash, id);
CREATE INDEX portal_codes_expires ON portal_codes(expires_at);

CREATE TABLE portal_sessions (
    id_hash      TEXT PRIMARY KEY,
    customer_id  BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL
);
CREATE INDEX portal_sessions_customer ON portal_sessions(customer_id);
CREATE INDEX portal_sessions_seen ON portal_sessions(last_seen_at);

-- Portal sign-in finds customers by e-mail address, compared case-insensitively.
CREATE INDEX customers_email_lower ON customers(lower(email));

-- +goose Down
DROP INDEX customers_email_lower;
DROP TABLE portal_sessions;
DROP TABLE portal_codes;
