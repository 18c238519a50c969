-- +goose Up
CREATE TABLE orders (
    id                INTEGER PRIMARY KEY,
    order_no          TEXT NOT NULL UNIQUE,
    user_id           INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN
        ('pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunding', 'refunded')),
    items_total       INTEGER NOT NULL,
    shipping_fee      INTEGER NOT NULL,
    payable           INTEGER NOT NULL,
    remark            TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL,          -- the delivery address snapshot as JSON
    pay_deadline      DATETIME NOT NULL,
    paid_at           DATETIME,
    shipped_at        DATETIME,
    completed_at      DATETIME,
    cancelled_at      DATETIME,
    auto_complete_at  DATETIME,
    carrier           TEXT NOT NULL DEFAULT '',
    tracking_no       TEXT NOT NULL DEFAULT '',
    staff_note        TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_pay_deadline ON orders (status, pay_deadline);
CREATE INDEX orders_auto_complete ON orders (status, auto_complete_at);
CREATE INDEX orders_created ON orders (created_at);

CREATE TABLE order_lines (
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    line_no     INTEGER NOT NULL,
    sku_id      INTEGER NOT NULL,
    product_id  INTEGER NOT NULL,
    title       TEXT NOT NULL,
    specs       TEXT NOT NULL,                -- the SKU spec values as a JSON object
    image       TEXT NOT NULL DEFAULT '',
    unit_price  INTEGER NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    line_total  INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_history (
    id           INTEGER PRIMARY KEY,          -- assigned by SQLite (rowid), increasing
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    from_status  TEXT NOT NULL DEFAULT '',     -- empty for the creation row
    to_status    TEXT NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   DATETIME NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

CREATE TABLE order_idempotency (
    user_id       INTEGER NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    order_id      INTEGER,                     -- NULL while the request is in progress
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- +goose Down
DROP TABLE order_idempotency;
DROP TABLE order_history;
DROP TABLE order_lines;
DROP TABLE orders;
