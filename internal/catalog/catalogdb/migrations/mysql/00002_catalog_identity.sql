-- +goose Up
-- One row naming this catalog database, so a search index can tell whether it was built
-- from it: database_id is random, made once here, and stays with the data (a copy of the
-- database keeps it; a new database gets another). index_version is raised by `minimart
-- reindex` to make every search index built before rebuild itself.
CREATE TABLE catalog_identity (
    singleton     TINYINT     NOT NULL PRIMARY KEY,
    database_id   VARCHAR(64) NOT NULL,
    index_version BIGINT      NOT NULL DEFAULT 0,
    CONSTRAINT catalog_identity_one_row CHECK (singleton = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO catalog_identity (singleton, database_id) VALUES (1, MD5(CONCAT(UUID(), RAND(), NOW(6))));

-- +goose Down
DROP TABLE catalog_identity;
