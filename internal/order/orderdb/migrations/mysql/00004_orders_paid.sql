-- +goose Up
-- The staff summary totals orders by the day they were paid; payable is in the index so the
-- sum is read from it alone.
ALTER TABLE orders ADD INDEX orders_paid (paid_at, payable);

-- +goose Down
ALTER TABLE orders DROP INDEX orders_paid;
