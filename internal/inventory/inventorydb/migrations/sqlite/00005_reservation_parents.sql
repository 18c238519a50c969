-- +goose Up
-- A reservation may take its stock from another held reservation (parent_ref) instead of
-- from available stock: a flash sale holds its units once, and each order of the sale moves
-- its units out of that hold. moved counts the units of a line taken out by such children;
-- what the line still holds is quantity - moved.
ALTER TABLE reservations ADD COLUMN parent_ref TEXT;
ALTER TABLE reservation_lines ADD COLUMN moved INTEGER NOT NULL DEFAULT 0 CHECK (moved >= 0);

-- +goose Down
ALTER TABLE reservation_lines DROP COLUMN moved;
ALTER TABLE reservations DROP COLUMN parent_ref;
