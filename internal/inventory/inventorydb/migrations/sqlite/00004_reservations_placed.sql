-- +goose Up
-- placed: the hold's order is known to be recorded (see the MySQL migration for why).
ALTER TABLE reservations ADD COLUMN placed INTEGER NOT NULL DEFAULT 0;
UPDATE reservations SET placed = 1;
CREATE INDEX reservations_unplaced ON reservations (status, placed, created_at);

-- +goose Down
DROP INDEX reservations_unplaced;
ALTER TABLE reservations DROP COLUMN placed;
