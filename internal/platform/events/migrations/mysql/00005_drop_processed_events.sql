-- +goose Up
-- Every consumer is idempotent by a state check in its own tables; nothing records processed
-- event ids any more.
DROP TABLE IF EXISTS processed_events;

-- +goose Down
CREATE TABLE processed_events (
    consumer     VARCHAR(100) NOT NULL COLLATE utf8mb4_bin,
    event_id     BIGINT       NOT NULL,
    processed_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (consumer, event_id),
    KEY processed_events_age (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
