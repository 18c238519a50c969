-- +goose Up
-- The CREATE statements can run again; the ALTER cannot (MySQL has no ADD COLUMN IF NOT
-- EXISTS, and its DDL commits at once), so it comes last: a start that stopped before it runs
-- it again, one that stopped after it has nothing left to do.
CREATE TABLE IF NOT EXISTS dead_letters (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id   BIGINT       NOT NULL,
    consumer   VARCHAR(100) NOT NULL COLLATE utf8mb4_bin COMMENT 'the consumer whose handler gave up; empty when unknown',
    type       VARCHAR(191) NOT NULL,
    payload    MEDIUMTEXT   NOT NULL COMMENT 'the whole envelope as JSON',
    error      TEXT         NOT NULL COMMENT 'the last error',
    attempts   INT          NOT NULL COMMENT 'handler failures',
    created_at DATETIME(6)  NOT NULL,
    KEY dead_letters_event (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS processed_events (
    consumer     VARCHAR(100) NOT NULL COLLATE utf8mb4_bin,
    event_id     BIGINT       NOT NULL,
    processed_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (consumer, event_id),
    KEY processed_events_age (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE outbox_events
    ADD COLUMN failures INT NOT NULL DEFAULT 0 COMMENT 'handler failures; at RelayOptions.MaxAttempts the event is dead-lettered';
