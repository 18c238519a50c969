-- +goose Up
-- A reservation may take its stock from another held reservation (parent_ref) instead of
-- from available stock: a flash sale holds its units once, and each order of the sale moves
-- its units out of that hold. moved counts the units of a line taken out by such children;
-- what the line still holds is quantity - moved.
ALTER TABLE reservations ADD COLUMN parent_ref VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;
ALTER TABLE reservation_lines
    ADD COLUMN moved BIGINT NOT NULL DEFAULT 0,
    ADD CONSTRAINT reservation_lines_moved CHECK (moved >= 0 AND moved <= quantity);

-- +goose Down
ALTER TABLE reservation_lines DROP CONSTRAINT reservation_lines_moved, DROP COLUMN moved;
ALTER TABLE reservations DROP COLUMN parent_ref;
