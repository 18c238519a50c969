-- +goose Up
-- One row per (in-process consumer, event) not yet handled: the in-process bus's durable
-- per-consumer queue. The relay's publish inserts them (a duplicate is ignored); the
-- consumer's worker claims its due rows in event order, deletes a row once handled, and on a
-- failure counts the attempt and sets when it is tried again; after the last attempt the row
-- moves to dead_letters. outbox_events.failures is no longer written (handler failures are
-- counted here); it stays so that instances of the previous version keep working during a
-- rolling upgrade.
CREATE TABLE IF NOT EXISTS event_deliveries (
    consumer        VARCHAR(100) NOT NULL COLLATE utf8mb4_bin,
    event_id        BIGINT       NOT NULL,
    type            VARCHAR(191) NOT NULL,
    payload         MEDIUMTEXT   NOT NULL COMMENT 'the whole envelope as JSON',
    attempts        INT          NOT NULL DEFAULT 0 COMMENT 'handler failures so far',
    next_attempt_at DATETIME(6)  NOT NULL COMMENT 'not handled before then: the backoff after a failure',
    last_error      TEXT         NULL,
    claimed_by      VARCHAR(40)  CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the instance (see liveness) whose worker holds the row',
    claimed_until   DATETIME(6)  NULL COMMENT 'the claim lapses then, or at once when claimed_by is not alive',
    created_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (consumer, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
