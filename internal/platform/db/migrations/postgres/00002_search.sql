-- Full-text search indexes, one per document kind (internal/platform/search).
-- tsv is built in Go as a tsvector literal from our own terms (CJK bigrams and
-- unigrams, lower-cased words) with their positions, so PostgreSQL's parser never
-- re-splits them; the GIN index answers term and prefix lookups.
-- +goose Up
CREATE TABLE search_customer (
    doc_id BIGINT PRIMARY KEY,
    tsv    tsvector NOT NULL
);
CREATE INDEX search_customer_tsv ON search_customer USING GIN (tsv);

CREATE TABLE search_ticket (
    doc_id BIGINT PRIMARY KEY,
    tsv    tsvector NOT NULL
);
CREATE INDEX search_ticket_tsv ON search_ticket USING GIN (tsv);

CREATE TABLE search_kb (
    doc_id BIGINT PRIMARY KEY,
    tsv    tsvector NOT NULL
);
CREATE INDEX search_kb_tsv ON search_kb USING GIN (tsv);

-- +goose Down
DROP TABLE search_kb;
DROP TABLE search_ticket;
DROP TABLE search_customer;
