-- +goose Up
-- claimed_by: the instance whose request holds an in-progress key (see the MySQL migration).
ALTER TABLE order_idempotency ADD COLUMN claimed_by TEXT NULL;

-- +goose Down
ALTER TABLE order_idempotency DROP COLUMN claimed_by;
