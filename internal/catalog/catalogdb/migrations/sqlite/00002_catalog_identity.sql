-- +goose Up
-- One row naming this catalog database, so a search index can tell whether it was built
-- from it: database_id is random, made once here, and stays with the data (a copy of the
-- database keeps it; a new database gets another). index_version is raised by `minimart
-- reindex` to make every search index built before rebuild itself.
CREATE TABLE catalog_identity (
    singleton     INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
    database_id   TEXT    NOT NULL,
    index_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO catalog_identity (singleton, database_id) VALUES (1, lower(hex(randomblob(16))));

-- +goose Down
DROP TABLE catalog_identity;
