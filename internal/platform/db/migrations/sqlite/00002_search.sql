-- Full-text search indexes, one per document kind (internal/platform/search).
-- The terms are produced in Go (CJK bigrams and unigrams, lower-cased words) and
-- joined with single spaces. The ascii tokenizer treats every non-ASCII character as
-- part of a token, so FTS5 splits only on the spaces we put in and keeps each term
-- whole. Contentless: the text is not stored twice; contentless_delete=1 lets rows be
-- deleted and replaced. The FTS5 rowid is the document id.
-- +goose Up
CREATE VIRTUAL TABLE search_customer USING fts5(terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_'");
CREATE VIRTUAL TABLE search_ticket USING fts5(terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_'");
CREATE VIRTUAL TABLE search_kb USING fts5(terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_'");

-- +goose Down
DROP TABLE search_kb;
DROP TABLE search_ticket;
DROP TABLE search_customer;
