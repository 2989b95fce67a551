-- Customer files (internal/customer): customers, contacts and key persons, transactions
-- (RFM input), classification rules, territories, duplicate pairs, merges (reversible),
-- re-verifications and import runs. Personal data is stored encrypted (*_enc, AES-256-GCM
-- under the key ring, never in clear) with HMAC blind indexes (*_bidx whole value,
-- *_l4 last four digits) for exact lookups. Times are Unix milliseconds (0 = never),
-- days 'YYYY-MM-DD' ('' = unknown), money BIGINT fen, JSON as TEXT.
-- +goose Up
CREATE TABLE territories (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    parent_id      BIGINT REFERENCES territories(id),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    province       TEXT NOT NULL,
    city           TEXT NOT NULL,
    district       TEXT NOT NULL,
    match_rules    TEXT NOT NULL,
    responsible_id BIGINT REFERENCES staff(id),
    dept_id        BIGINT REFERENCES departments(id),
    sort_order     INTEGER NOT NULL,
    active         INTEGER NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX territories_parent ON territories(parent_id);
CREATE INDEX territories_place ON territories(province, city, district);
CREATE INDEX territories_responsible ON territories(responsible_id);

CREATE TABLE customers (
    id                   INTEGER PRIMARY KEY,
    kind                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    mobile_enc           TEXT NOT NULL,
    mobile_bidx          TEXT NOT NULL,
    mobile_l4            TEXT NOT NULL,
    phone_enc            TEXT NOT NULL,
    phone_bidx           TEXT NOT NULL,
    phone_l4             TEXT NOT NULL,
    email                TEXT NOT NULL,
    id_number_enc        TEXT NOT NULL,
    id_number_bidx       TEXT NOT NULL,
    credit_code          TEXT NOT NULL,
    province             TEXT NOT NULL,
    city                 TEXT NOT NULL,
    district             TEXT NOT NULL,
    address_enc          TEXT NOT NULL,
    address_bidx         TEXT NOT NULL,
    region               TEXT NOT NULL,
    industry             TEXT NOT NULL,
    source               TEXT NOT NULL,
    tier                 TEXT NOT NULL,
    tier_reasons         TEXT NOT NULL,
    value_class          TEXT NOT NULL,
    value_reasons        TEXT NOT NULL,
    credit_grade         TEXT NOT NULL,
    credit_reasons       TEXT NOT NULL,
    class_pinned         TEXT NOT NULL,
    classified_at        BIGINT NOT NULL,
    credit_facts         TEXT NOT NULL,
    size_employees       BIGINT NOT NULL,
    annual_sales_fen     BIGINT NOT NULL,
    founded_on           TEXT NOT NULL,
    relationship_since   TEXT NOT NULL,
    qualifications       TEXT NOT NULL,
    service_region       TEXT NOT NULL,
    credit_status        TEXT NOT NULL,
    trading_terms        TEXT NOT NULL,
    cooperation_attitude TEXT NOT NULL,
    bank_name            TEXT NOT NULL,
    bank_account_enc     TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    notes                TEXT NOT NULL,
    owner_id             BIGINT REFERENCES staff(id),
    dept_id              BIGINT REFERENCES departments(id),
    team_id              BIGINT REFERENCES teams(id),
    territory_id         BIGINT REFERENCES territories(id),
    verified_at          BIGINT NOT NULL,
    verified_by          BIGINT REFERENCES staff(id),
    merged_into          BIGINT REFERENCES customers(id),
    merged_at            BIGINT NOT NULL,
    anonymized_at        BIGINT NOT NULL,
    created_by           BIGINT REFERENCES staff(id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL
);
-- Keyset lists (newest first) per scope and filter.
CREATE INDEX customers_dept ON customers(dept_id, id);
CREATE INDEX customers_team ON customers(team_id, id);
CREATE INDEX customers_owner ON customers(owner_id, id);
CREATE INDEX customers_territory ON customers(territory_id, id);
CREATE INDEX customers_tier ON customers(tier, id);
CREATE INDEX customers_grade ON customers(credit_grade, id);
CREATE INDEX customers_place ON customers(province, city, district);
CREATE INDEX customers_verified ON customers(status, verified_at);
CREATE INDEX customers_owner_verified ON customers(owner_id, verified_at);
CREATE INDEX customers_merged_into ON customers(merged_into);
-- Exact lookups and duplicate detection. Not unique: a supervisor may force a duplicate.
-- A last-4 blind index has only 10,000 values: it narrows a lookup, it identifies nobody.
CREATE INDEX customers_mobile_bidx ON customers(mobile_bidx);
CREATE INDEX customers_mobile_l4 ON customers(mobile_l4);
CREATE INDEX customers_phone_bidx ON customers(phone_bidx);
CREATE INDEX customers_phone_l4 ON customers(phone_l4);
CREATE INDEX customers_id_number_bidx ON customers(id_number_bidx);
CREATE INDEX customers_credit_code ON customers(credit_code);
CREATE INDEX customers_address_bidx ON customers(address_bidx);
CREATE INDEX customers_name_key ON customers(name_key);

CREATE TABLE customer_contacts (
    id            INTEGER PRIMARY KEY,
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    name          TEXT NOT NULL,
    title         TEXT NOT NULL,
    is_key_person INTEGER NOT NULL,
    mobile_enc    TEXT NOT NULL,
    mobile_bidx   TEXT NOT NULL,
    mobile_l4     TEXT NOT NULL,
    phone_enc     TEXT NOT NULL,
    phone_bidx    TEXT NOT NULL,
    phone_l4      TEXT NOT NULL,
    email         TEXT NOT NULL,
    preferences   TEXT NOT NULL,
    birthday      TEXT NOT NULL,
    notes         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX customer_contacts_customer ON customer_contacts(customer_id, id);
CREATE INDEX customer_contacts_mobile_bidx ON customer_contacts(mobile_bidx);
CREATE INDEX customer_contacts_mobile_l4 ON customer_contacts(mobile_l4);
CREATE INDEX customer_contacts_phone_bidx ON customer_contacts(phone_bidx);
CREATE INDEX customer_contacts_phone_l4 ON customer_contacts(phone_l4);

CREATE TABLE customer_transactions (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    occurred_on TEXT NOT NULL,
    kind        TEXT NOT NULL,
    amount_fen  BIGINT NOT NULL,
    ref         TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_by  BIGINT REFERENCES staff(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_transactions_customer ON customer_transactions(customer_id, occurred_on);
CREATE INDEX customer_transactions_day ON customer_transactions(occurred_on);

CREATE TABLE customer_rules (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL UNIQUE,
    config     TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE customer_dup_pairs (
    id          INTEGER PRIMARY KEY,
    a_id        BIGINT NOT NULL REFERENCES customers(id),
    b_id        BIGINT NOT NULL REFERENCES customers(id),
    reasons     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    status      TEXT NOT NULL,
    detected_at BIGINT NOT NULL,
    resolved_by BIGINT REFERENCES staff(id),
    resolved_at BIGINT NOT NULL,
    UNIQUE (a_id, b_id)
);
CREATE INDEX customer_dup_pairs_status ON customer_dup_pairs(status, id);
CREATE INDEX customer_dup_pairs_b ON customer_dup_pairs(b_id);

CREATE TABLE customer_merges (
    id          INTEGER PRIMARY KEY,
    survivor_id BIGINT NOT NULL REFERENCES customers(id),
    merged_id   BIGINT NOT NULL REFERENCES customers(id),
    snapshot    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    merged_by   BIGINT REFERENCES staff(id),
    merged_at   BIGINT NOT NULL,
    undone_by   BIGINT REFERENCES staff(id),
    undone_at   BIGINT NOT NULL,
    purge_after BIGINT NOT NULL,
    purged_at   BIGINT NOT NULL
);
CREATE INDEX customer_merges_survivor ON customer_merges(survivor_id, id);
CREATE INDEX customer_merges_merged ON customer_merges(merged_id);
CREATE INDEX customer_merges_purge ON customer_merges(purged_at, purge_after);

CREATE TABLE customer_verifications (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    verified_by BIGINT REFERENCES staff(id),
    verified_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    changes     TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX customer_verifications_customer ON customer_verifications(customer_id, verified_at);

CREATE TABLE customer_imports (
    id          INTEGER PRIMARY KEY,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL,
    dry_run     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    rows_total  INTEGER NOT NULL,
    rows_ok     INTEGER NOT NULL,
    rows_failed INTEGER NOT NULL,
    report      TEXT NOT NULL,
    created_by  BIGINT REFERENCES staff(id),
    created_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX customer_imports_created ON customer_imports(created_at);

-- +goose Down
DROP TABLE customer_imports;
DROP TABLE customer_verifications;
DROP TABLE customer_merges;
DROP TABLE customer_dup_pairs;
DROP TABLE customer_rules;
DROP TABLE customer_transactions;
DROP TABLE customer_contacts;
DROP TABLE customers;
DROP TABLE territories;
