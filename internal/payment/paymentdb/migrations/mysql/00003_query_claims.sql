-- +goose Up
-- query_claimed_by: the instance (see liveness) querying the provider about the row. A row
-- whose querier died is queried again at once, not at its next scheduled query.
ALTER TABLE payments ADD COLUMN query_claimed_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL;
ALTER TABLE payment_refunds ADD COLUMN query_claimed_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL;

-- +goose Down
ALTER TABLE payment_refunds DROP COLUMN query_claimed_by;
ALTER TABLE payments DROP COLUMN query_claimed_by;
