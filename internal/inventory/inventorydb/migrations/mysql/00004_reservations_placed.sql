-- +goose Up
-- placed: the hold's order is known to be recorded. A hold is made before its order is
-- written; holds still unplaced after a while are checked against the orders and released
-- when their order never came to be. Holds that exist now predate the check: count them placed.
ALTER TABLE reservations
    ADD COLUMN placed BOOLEAN NOT NULL DEFAULT FALSE,
    ADD KEY reservations_unplaced (status, placed, created_at);
UPDATE reservations SET placed = TRUE;

-- +goose Down
ALTER TABLE reservations DROP KEY reservations_unplaced, DROP COLUMN placed;
