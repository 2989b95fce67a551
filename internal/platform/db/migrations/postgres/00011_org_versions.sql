-- Org records carry a version for PATCH (If-Match / "version": 428 without, 409 when
-- stale), bumped on every change. Staff mobile numbers move to an encrypted column
-- (secure.Keyring, additional data "staff.mobile"); the key ring is not reachable from
-- SQL, so org.Service.EncryptStaffMobiles moves existing clear values at start-up and
-- empties the old column.
-- +goose Up
ALTER TABLE departments ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE teams ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE roles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE staff ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE staff ADD COLUMN mobile_enc TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE staff DROP COLUMN mobile_enc;
ALTER TABLE staff DROP COLUMN version;
ALTER TABLE roles DROP COLUMN version;
ALTER TABLE teams DROP COLUMN version;
ALTER TABLE departments DROP COLUMN version;
