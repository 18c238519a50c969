-- +goose Up
-- Refused notifies carry no trusted order number; staff find them by outcome.
CREATE INDEX payment_notifications_outcome ON payment_notifications (outcome, id);

-- +goose Down
DROP INDEX payment_notifications_outcome;
