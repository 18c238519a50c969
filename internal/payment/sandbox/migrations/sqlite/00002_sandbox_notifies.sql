-- +goose Up
-- Notifies the sandbox owes the shop (see the MySQL migration).
CREATE TABLE sandbox_notifies (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claimed_by      TEXT NULL,
    claimed_until   DATETIME NULL,
    created_at      DATETIME NOT NULL
);
CREATE INDEX sandbox_notifies_due ON sandbox_notifies (next_attempt_at);

-- +goose Down
DROP TABLE sandbox_notifies;
