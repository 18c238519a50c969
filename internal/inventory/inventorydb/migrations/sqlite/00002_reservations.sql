-- +goose Up
-- Stock held for an order, keyed by its order number.
CREATE TABLE reservations (
    ref         TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('held', 'released', 'committed')),
    expires_at  DATETIME NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX reservations_status_expires ON reservations (status, expires_at);

CREATE TABLE reservation_lines (
    ref       TEXT NOT NULL,
    sku_id    INTEGER NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (ref, sku_id)
);

-- +goose Down
DROP TABLE reservation_lines;
DROP TABLE reservations;
