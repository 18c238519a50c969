-- +goose Up
-- claimed_by: the instance whose relay holds the row (see the MySQL migration).
ALTER TABLE outbox_events ADD COLUMN claimed_by TEXT NULL;

-- +goose Down
ALTER TABLE outbox_events DROP COLUMN claimed_by;
