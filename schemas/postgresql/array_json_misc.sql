-- arrays, json/jsonb, bytea, tsvector, and a view and a materialized view (never written).
CREATE TABLE article (
    article_id bigserial PRIMARY KEY,
    title varchar(200) NOT NULL,
    tags text[] NOT NULL,
    scores integer[],
    metadata jsonb NOT NULL,
    raw json,
    thumbnail bytea,
    search tsvector,
    published boolean NOT NULL DEFAULT false,
    slug text NOT NULL
);
CREATE UNIQUE INDEX article_slug_lower ON article (lower(slug));
CREATE UNIQUE INDEX article_title_published ON article (title) WHERE published;
CREATE VIEW published_article AS SELECT article_id, title FROM article WHERE published;
CREATE MATERIALIZED VIEW article_count AS SELECT count(*) AS n FROM article;
