-- +goose Up
-- The staff summary totals orders by the day they were paid; payable is in the index so the
-- sum is read from it alone.
CREATE INDEX orders_paid ON orders (paid_at, payable);

-- +goose Down
DROP INDEX orders_paid;
