-- +goose Up
-- Running processes and their last heartbeat (see the MySQL migration).
CREATE TABLE IF NOT EXISTS instances (
    id           TEXT PRIMARY KEY,
    started_at   DATETIME NOT NULL,
    heartbeat_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE instances;
