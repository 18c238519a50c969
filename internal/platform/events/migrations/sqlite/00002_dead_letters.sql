-- +goose Up
-- Events given up on: one row per consumer whose handler failed MaxAttempts times.
CREATE TABLE dead_letters (
    id         INTEGER  NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER  NOT NULL,
    consumer   TEXT     NOT NULL, -- empty when unknown
    type       TEXT     NOT NULL,
    payload    TEXT     NOT NULL, -- the whole envelope as JSON
    error      TEXT     NOT NULL, -- the last error
    attempts   INTEGER  NOT NULL, -- handler failures
    created_at DATETIME NOT NULL
);
CREATE INDEX dead_letters_event ON dead_letters (event_id);

-- Events a consumer has applied, written in the consumer's own transaction (events.Once).
CREATE TABLE processed_events (
    consumer     TEXT     NOT NULL,
    event_id     INTEGER  NOT NULL,
    processed_at DATETIME NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_age ON processed_events (processed_at);

-- Handler failures of an unpublished event; at RelayOptions.MaxAttempts it is dead-lettered.
ALTER TABLE outbox_events ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
