-- Hardening (issue 7) for customers, requests and the knowledge base.
-- 1. Every record a PATCH changes carries a version (optimistic concurrency: a PATCH
--    names the version it read; a stale one is refused with 409). Existing rows start
--    at version 1.
-- 2. customer_lookup_grants: an agent who found a caller by a whole phone number
--    (GET /api/v1/customers/lookup) may open a request for that customer for a short
--    while even when the customer file is outside the agent's scope. One row per
--    successful lookup; expired rows are ignored and pruned. Times are Unix ms.
-- 3. Credit grade A: "no bad debt in 2 years" now needs two years of cooperation.
--    Installs that hold customers get one re-evaluation queued at once (the job
--    customer.reclassify), instead of waiting for the nightly run.
-- +goose Up
ALTER TABLE customer_contacts ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE territories ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE ticket_categories ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE canned_replies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE kb_categories ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sla_policies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE customer_lookup_grants (
    id          INTEGER PRIMARY KEY,
    staff_id    BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_lookup_grants_staff ON customer_lookup_grants(staff_id, customer_id, expires_at);
CREATE INDEX customer_lookup_grants_expires ON customer_lookup_grants(expires_at);

INSERT INTO jobs (kind, payload, unique_key, status, attempts, max_attempts, run_at, locked_by, locked_until,
    last_error, created_at, updated_at, done_at)
SELECT 'customer.reclassify', '{"reason":"credit_a_needs_cooperation"}', 'customer.reclassify:migration-00012',
    'queued', 0, 5, 0, '', 0, '', 0, 0, 0
WHERE EXISTS (SELECT 1 FROM customers);

-- +goose Down
DELETE FROM jobs WHERE unique_key = 'customer.reclassify:migration-00012';
DROP TABLE customer_lookup_grants;
ALTER TABLE sla_policies DROP COLUMN version;
ALTER TABLE kb_categories DROP COLUMN version;
ALTER TABLE canned_replies DROP COLUMN version;
ALTER TABLE ticket_categories DROP COLUMN version;
ALTER TABLE territories DROP COLUMN version;
ALTER TABLE customer_contacts DROP COLUMN version;
