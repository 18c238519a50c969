-- +goose Up
-- Every consumer is idempotent by a state check in its own tables (see the MySQL migration).
DROP TABLE IF EXISTS processed_events;

-- +goose Down
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     INTEGER NOT NULL,
    processed_at DATETIME NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
