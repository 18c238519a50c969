-- +goose Up
-- One row per buyer who ever added to the cart. Every add locks it, so adds of one buyer
-- run one at a time and the 100-line limit holds under concurrency on any engine, without
-- relying on gap locks (absent under READ COMMITTED and on TiDB).
CREATE TABLE carts (
    user_id     BIGINT NOT NULL PRIMARY KEY,
    updated_at  DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cart_lines (
    user_id     BIGINT NOT NULL,
    sku_id      BIGINT NOT NULL,
    quantity    INT NOT NULL,
    selected    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, sku_id),
    CONSTRAINT cart_lines_quantity CHECK (quantity BETWEEN 1 AND 99)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE cart_lines;
DROP TABLE carts;
