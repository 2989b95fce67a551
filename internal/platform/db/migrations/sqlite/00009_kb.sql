-- Knowledge base / FAQ (internal/kb): a category tree and the articles. An article is
-- draft, published or archived (DELETE archives). Tags are a JSON array as TEXT; times
-- are Unix milliseconds (0 = never). The full-text index is search_kb (00002_search).
-- +goose Up
CREATE TABLE kb_categories (
    id         INTEGER PRIMARY KEY,
    parent_id  BIGINT REFERENCES kb_categories(id),
    name       TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kb_categories_parent ON kb_categories(parent_id);

CREATE TABLE kb_articles (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    category_id  BIGINT REFERENCES kb_categories(id),
    tags         TEXT NOT NULL,
    status       TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    author_id    BIGINT NOT NULL,
    updated_by   BIGINT NOT NULL,
    views        BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX kb_articles_status ON kb_articles(status, id);
CREATE INDEX kb_articles_category ON kb_articles(category_id, id);

-- +goose Down
DROP TABLE kb_articles;
DROP TABLE kb_categories;
