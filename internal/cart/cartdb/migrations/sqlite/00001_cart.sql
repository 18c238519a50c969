-- +goose Up
-- One row per buyer who ever added to the cart; every add locks it (see the MySQL file).
CREATE TABLE carts (
    user_id     INTEGER PRIMARY KEY,
    updated_at  DATETIME NOT NULL
);

CREATE TABLE cart_lines (
    user_id     INTEGER NOT NULL,
    sku_id      INTEGER NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    selected    INTEGER NOT NULL DEFAULT 1,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (user_id, sku_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE cart_lines;
DROP TABLE carts;
