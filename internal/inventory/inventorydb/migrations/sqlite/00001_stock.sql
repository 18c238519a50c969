-- +goose Up
CREATE TABLE stock (
    sku_id      INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL,
    available   INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0),
    reserved    INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sold        INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    seq         INTEGER NOT NULL DEFAULT 0,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX stock_product ON stock (product_id);

CREATE TABLE stock_ledger (
    id                INTEGER PRIMARY KEY,
    sku_id            INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    actor             TEXT NOT NULL,
    reason            TEXT NOT NULL,
    source            TEXT NOT NULL,
    available_before  INTEGER NOT NULL,
    available_after   INTEGER NOT NULL,
    reserved_before   INTEGER NOT NULL,
    reserved_after    INTEGER NOT NULL,
    sold_before       INTEGER NOT NULL,
    sold_after        INTEGER NOT NULL,
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX stock_ledger_sku ON stock_ledger (sku_id, seq);

-- +goose Down
DROP TABLE stock_ledger;
DROP TABLE stock;
