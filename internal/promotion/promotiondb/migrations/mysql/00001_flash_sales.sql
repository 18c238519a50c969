-- +goose Up
-- One row per flash sale. remaining is what is left to admit: attempts take their units off
-- it in batches under the row's lock, so it never goes below zero (the CHECK is a last
-- guard, not the mechanism).
CREATE TABLE flash_sales (
    id              BIGINT NOT NULL PRIMARY KEY,
    sku_id          BIGINT NOT NULL,
    product_id      BIGINT NOT NULL,
    title           VARCHAR(255) NOT NULL,
    image           VARCHAR(500) NOT NULL DEFAULT '',
    list_price      BIGINT NOT NULL,
    price           BIGINT NOT NULL,
    quantity        INT NOT NULL,
    remaining       INT NOT NULL,
    per_user_limit  INT NOT NULL,
    starts_at       DATETIME(6) NOT NULL,
    ends_at         DATETIME(6) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    fail_reason     VARCHAR(64) NOT NULL DEFAULT '',
    settled_at      DATETIME(6) NULL COMMENT 'when what the sale still held went back to available stock',
    created_by      VARCHAR(64) NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    KEY flash_sales_sku (sku_id, status),
    KEY flash_sales_status (status, ends_at),
    CONSTRAINT flash_sales_remaining CHECK (remaining BETWEEN 0 AND quantity),
    CONSTRAINT flash_sales_status CHECK (status IN ('holding', 'scheduled', 'ended', 'cancelled', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per SKU that ever had a sale. Creating a sale locks it, so two overlapping sales of
-- one SKU cannot both be inserted, without relying on gap locks (absent under READ
-- COMMITTED and on TiDB).
CREATE TABLE flash_sale_skus (
    sku_id      BIGINT NOT NULL PRIMARY KEY,
    updated_at  DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Admitted attempts only (refusals record nothing); also the durable queue of orders to
-- make: status accepted until the order exists (ordered) or cannot be made (failed).
CREATE TABLE flash_attempts (
    id            BIGINT NOT NULL PRIMARY KEY,
    sale_id       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    address_id    BIGINT NOT NULL,
    quantity      INT NOT NULL,
    status        VARCHAR(16) NOT NULL,
    order_id      BIGINT NULL,
    order_no      VARCHAR(32) NULL,
    reason        VARCHAR(64) NOT NULL DEFAULT '',
    tries         INT NOT NULL DEFAULT 0,
    next_try_at   DATETIME(6) NOT NULL,
    claimed_by    VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the instance making its order (liveness)',
    returned_at   DATETIME(6) NULL COMMENT 'when its units went back to the sale (order cancelled while the sale ran)',
    idem_key      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    updated_at    DATETIME(6) NOT NULL,
    UNIQUE KEY flash_attempts_key (user_id, idem_key),
    UNIQUE KEY flash_attempts_order (order_id),
    KEY flash_attempts_due (status, next_try_at),
    KEY flash_attempts_sale (sale_id, status),
    CONSTRAINT flash_attempts_quantity CHECK (quantity > 0),
    CONSTRAINT flash_attempts_status CHECK (status IN ('accepted', 'ordered', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each buyer's units counted against a sale's per-buyer limit; a row stays (at 0) when its
-- units went back, so the buyer is known to have tried.
CREATE TABLE flash_buyers (
    sale_id   BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    bought    INT NOT NULL,
    PRIMARY KEY (sale_id, user_id),
    CONSTRAINT flash_buyers_bought CHECK (bought >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE flash_buyers;
DROP TABLE flash_attempts;
DROP TABLE flash_sale_skus;
DROP TABLE flash_sales;
