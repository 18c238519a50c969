-- +goose Up
-- claimed_by: the instance (see liveness) whose request holds an in-progress key. A retry
-- after that process died takes the key over as soon as the instance is known dead.
ALTER TABLE order_idempotency ADD COLUMN claimed_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL;

-- +goose Down
ALTER TABLE order_idempotency DROP COLUMN claimed_by;
