-- +goose Up
-- The payment that paid the order: a second successful payment is refunded, not counted.
ALTER TABLE orders ADD COLUMN payment_id BIGINT NULL;

-- +goose Down
ALTER TABLE orders DROP COLUMN payment_id;
