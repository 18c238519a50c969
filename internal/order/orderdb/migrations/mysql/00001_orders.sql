-- +goose Up
CREATE TABLE orders (
    id                BIGINT NOT NULL PRIMARY KEY,
    order_no          VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    user_id           BIGINT NOT NULL,
    status            VARCHAR(16) NOT NULL,
    items_total       BIGINT NOT NULL,
    shipping_fee      BIGINT NOT NULL,
    payable           BIGINT NOT NULL,
    remark            VARCHAR(500) NOT NULL DEFAULT '',
    address           TEXT NOT NULL COMMENT 'the delivery address snapshot as JSON',
    pay_deadline      DATETIME(6) NOT NULL,
    paid_at           DATETIME(6) NULL,
    shipped_at        DATETIME(6) NULL,
    completed_at      DATETIME(6) NULL,
    cancelled_at      DATETIME(6) NULL,
    auto_complete_at  DATETIME(6) NULL,
    carrier           VARCHAR(64) NOT NULL DEFAULT '',
    tracking_no       VARCHAR(64) NOT NULL DEFAULT '',
    staff_note        TEXT NOT NULL,
    created_at        DATETIME(6) NOT NULL,
    updated_at        DATETIME(6) NOT NULL,
    UNIQUE KEY orders_no (order_no),
    KEY orders_user (user_id, id),
    KEY orders_pay_deadline (status, pay_deadline),
    KEY orders_auto_complete (status, auto_complete_at),
    KEY orders_created (created_at),
    CONSTRAINT orders_status CHECK (status IN
        ('pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunding', 'refunded'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_lines (
    order_id    BIGINT NOT NULL,
    line_no     INT NOT NULL,
    sku_id      BIGINT NOT NULL,
    product_id  BIGINT NOT NULL,
    title       VARCHAR(255) NOT NULL,
    specs       TEXT NOT NULL COMMENT 'the SKU spec values as a JSON object',
    image       VARCHAR(500) NOT NULL DEFAULT '',
    unit_price  BIGINT NOT NULL,
    quantity    INT NOT NULL,
    line_total  BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT order_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_history (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id     BIGINT NOT NULL,
    from_status  VARCHAR(16) NOT NULL DEFAULT '' COMMENT 'empty for the creation row',
    to_status    VARCHAR(16) NOT NULL,
    actor        VARCHAR(100) NOT NULL,
    reason       TEXT NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    KEY order_history_order (order_id, id),
    CONSTRAINT order_history_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- idem_key is VARBINARY so keys compare byte for byte: no case folding, no trailing-space padding.
CREATE TABLE order_idempotency (
    user_id       BIGINT NOT NULL,
    idem_key      VARBINARY(64) NOT NULL,
    request_hash  CHAR(64) NOT NULL,
    order_id      BIGINT NULL COMMENT 'NULL while the request is in progress',
    created_at    DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, idem_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE order_idempotency;
DROP TABLE order_history;
DROP TABLE order_lines;
DROP TABLE orders;
