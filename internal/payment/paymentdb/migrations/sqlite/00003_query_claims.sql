-- +goose Up
-- query_claimed_by: the instance querying the provider about the row (see the MySQL migration).
ALTER TABLE payments ADD COLUMN query_claimed_by TEXT NULL;
ALTER TABLE payment_refunds ADD COLUMN query_claimed_by TEXT NULL;

-- +goose Down
ALTER TABLE payment_refunds DROP COLUMN query_claimed_by;
ALTER TABLE payments DROP COLUMN query_claimed_by;
