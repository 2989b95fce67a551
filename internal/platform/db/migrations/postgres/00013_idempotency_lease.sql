-- +goose Up
-- An idempotency reservation is a lease: the holder's token and the time (Unix ms) until
-- which it holds the key. Once it has passed, a retry with the same key and request
-- takes the key over (internal/platform/idempotency).
ALTER TABLE idempotency_keys ADD COLUMN token TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN lease_until;
ALTER TABLE idempotency_keys DROP COLUMN token;
