-- +goose Up
-- claimed_by: the instance (see liveness) whose relay holds the row until claimed_until. A
-- row held by an instance that stopped beating is free at once, not when the lease ends.
ALTER TABLE outbox_events ADD COLUMN claimed_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL;

-- +goose Down
ALTER TABLE outbox_events DROP COLUMN claimed_by;
