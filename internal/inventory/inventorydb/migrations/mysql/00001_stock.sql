-- +goose Up
CREATE TABLE stock (
    sku_id      BIGINT NOT NULL PRIMARY KEY,
    product_id  BIGINT NOT NULL,
    available   BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    sold        BIGINT NOT NULL DEFAULT 0,
    seq         BIGINT NOT NULL DEFAULT 0,
    updated_at  DATETIME(6) NOT NULL,
    KEY stock_product (product_id),
    CONSTRAINT stock_available CHECK (available >= 0),
    CONSTRAINT stock_reserved CHECK (reserved >= 0),
    CONSTRAINT stock_sold CHECK (sold >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE stock_ledger (
    id                BIGINT NOT NULL PRIMARY KEY,
    sku_id            BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    actor             VARCHAR(100) NOT NULL,
    reason            VARCHAR(200) NOT NULL,
    source            VARCHAR(64) NOT NULL,
    available_before  BIGINT NOT NULL,
    available_after   BIGINT NOT NULL,
    reserved_before   BIGINT NOT NULL,
    reserved_after    BIGINT NOT NULL,
    sold_before       BIGINT NOT NULL,
    sold_after        BIGINT NOT NULL,
    created_at        DATETIME(6) NOT NULL,
    UNIQUE KEY stock_ledger_sku (sku_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE stock_ledger;
DROP TABLE stock;
