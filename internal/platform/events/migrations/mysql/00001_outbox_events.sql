-- +goose Up
CREATE TABLE outbox_events (
    id            BIGINT       NOT NULL PRIMARY KEY COMMENT 'the event id',
    type          VARCHAR(191) NOT NULL,
    event_key     VARCHAR(191) NOT NULL,
    payload       MEDIUMTEXT   NOT NULL COMMENT 'the whole envelope as JSON',
    created_at    DATETIME(6)  NOT NULL,
    published_at  DATETIME(6)  NULL,
    attempts      INT          NOT NULL DEFAULT 0,
    last_error    TEXT         NULL,
    claimed_until DATETIME(6)  NULL COMMENT 'a relay holds the row, or a failed row waits, until then',
    KEY outbox_events_unpublished (published_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

