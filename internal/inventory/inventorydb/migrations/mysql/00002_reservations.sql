-- +goose Up
-- Stock held for an order, keyed by its order number. Refs are ASCII and compared byte for
-- byte, as on SQLite, so the same ref means the same reservation on every engine.
CREATE TABLE reservations (
    ref         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    status      VARCHAR(16) NOT NULL,
    expires_at  DATETIME(6) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    KEY reservations_status_expires (status, expires_at),
    CONSTRAINT reservations_status CHECK (status IN ('held', 'released', 'committed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reservation_lines (
    ref       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sku_id    BIGINT NOT NULL,
    quantity  BIGINT NOT NULL,
    PRIMARY KEY (ref, sku_id),
    CONSTRAINT reservation_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE reservation_lines;
DROP TABLE reservations;
