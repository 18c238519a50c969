-- +goose Up
-- Flash sales, their attempts and buyers' counts (see the MySQL migration).
CREATE TABLE flash_sales (
    id              INTEGER PRIMARY KEY,
    sku_id          INTEGER NOT NULL,
    product_id      INTEGER NOT NULL,
    title           TEXT NOT NULL,
    image           TEXT NOT NULL DEFAULT '',
    list_price      INTEGER NOT NULL,
    price           INTEGER NOT NULL,
    quantity        INTEGER NOT NULL,
    remaining       INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND quantity),
    per_user_limit  INTEGER NOT NULL,
    starts_at       DATETIME NOT NULL,
    ends_at         DATETIME NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('holding', 'scheduled', 'ended', 'cancelled', 'failed')),
    fail_reason     TEXT NOT NULL DEFAULT '',
    settled_at      DATETIME,
    created_by      TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX flash_sales_sku ON flash_sales (sku_id, status);
CREATE INDEX flash_sales_status ON flash_sales (status, ends_at);

CREATE TABLE flash_sale_skus (
    sku_id      INTEGER PRIMARY KEY,
    updated_at  DATETIME NOT NULL
);

CREATE TABLE flash_attempts (
    id            INTEGER PRIMARY KEY,
    sale_id       INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    address_id    INTEGER NOT NULL,
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    status        TEXT NOT NULL CHECK (status IN ('accepted', 'ordered', 'failed')),
    order_id      INTEGER,
    order_no      TEXT,
    reason        TEXT NOT NULL DEFAULT '',
    tries         INTEGER NOT NULL DEFAULT 0,
    next_try_at   DATETIME NOT NULL,
    claimed_by    TEXT,
    returned_at   DATETIME,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX flash_attempts_key ON flash_attempts (user_id, idem_key);
CREATE UNIQUE INDEX flash_attempts_order ON flash_attempts (order_id);
CREATE INDEX flash_attempts_due ON flash_attempts (status, next_try_at);
CREATE INDEX flash_attempts_sale ON flash_attempts (sale_id, status);

CREATE TABLE flash_buyers (
    sale_id   INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    bought    INTEGER NOT NULL CHECK (bought >= 0),
    PRIMARY KEY (sale_id, user_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE flash_buyers;
DROP TABLE flash_attempts;
DROP TABLE flash_sale_skus;
DROP TABLE flash_sales;
