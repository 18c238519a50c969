-- +goose Up
CREATE TABLE outbox_events (
    id            INTEGER  NOT NULL PRIMARY KEY, -- the event id
    type          TEXT     NOT NULL,
    event_key     TEXT     NOT NULL,
    payload       TEXT     NOT NULL,             -- the whole envelope as JSON
    created_at    DATETIME NOT NULL,
    published_at  DATETIME NULL,
    attempts      INTEGER  NOT NULL DEFAULT 0,
    last_error    TEXT     NULL,
    claimed_until DATETIME NULL                  -- a relay holds the row, or a failed row waits, until then
);
-- Unpublished rows in id order (published_at IS NULL sorts first), and published rows by age for pruning.
CREATE INDEX outbox_events_unpublished ON outbox_events (published_at, id);

