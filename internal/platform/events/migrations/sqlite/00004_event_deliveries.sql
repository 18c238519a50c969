-- +goose Up
-- One row per (in-process consumer, event) not yet handled: the in-process bus's durable
-- per-consumer queue (see the MySQL migration). outbox_events.failures is no longer written.
CREATE TABLE IF NOT EXISTS event_deliveries (
    consumer        TEXT     NOT NULL,
    event_id        INTEGER  NOT NULL,
    type            TEXT     NOT NULL,
    payload         TEXT     NOT NULL, -- the whole envelope as JSON
    attempts        INTEGER  NOT NULL DEFAULT 0, -- handler failures so far
    next_attempt_at DATETIME NOT NULL, -- not handled before then: the backoff after a failure
    last_error      TEXT     NULL,
    claimed_by      TEXT     NULL,     -- the instance whose worker holds the row
    claimed_until   DATETIME NULL,     -- the claim lapses then, or at once when claimed_by is not alive
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
