-- +goose Up
CREATE TABLE payments (
    id              BIGINT NOT NULL PRIMARY KEY,
    order_id        BIGINT NOT NULL,
    order_no        VARCHAR(32) COLLATE utf8mb4_bin NOT NULL COMMENT 'the out_trade_no sent to the provider',
    user_id         BIGINT NOT NULL,
    provider        VARCHAR(16) NOT NULL,
    method          VARCHAR(32) NOT NULL,
    amount          BIGINT NOT NULL,
    refunded        BIGINT NOT NULL DEFAULT 0,
    status          VARCHAR(16) NOT NULL,
    transaction_id  VARCHAR(64) NOT NULL DEFAULT '',
    instructions    TEXT NOT NULL COMMENT 'what the buyer client needs to pay, as JSON',
    expires_at      DATETIME(6) NOT NULL,
    paid_at         DATETIME(6) NULL,
    closed_at       DATETIME(6) NULL,
    next_query_at   DATETIME(6) NULL COMMENT 'NULL once the payment is settled',
    query_attempts  INT NOT NULL DEFAULT 0,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    UNIQUE KEY payments_trade (order_no, provider),
    KEY payments_order (order_id, id),
    KEY payments_next_query (next_query_at),
    KEY payments_paid (provider, paid_at),
    CONSTRAINT payments_amount CHECK (amount > 0),
    CONSTRAINT payments_refunded CHECK (refunded >= 0 AND refunded <= amount),
    CONSTRAINT payments_status CHECK (status IN ('pending', 'succeeded', 'closed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_refunds (
    id              BIGINT NOT NULL PRIMARY KEY,
    payment_id      BIGINT NOT NULL,
    order_id        BIGINT NOT NULL,
    order_no        VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    out_refund_no   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    amount          BIGINT NOT NULL,
    reason          VARCHAR(255) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    automatic       TINYINT(1) NOT NULL DEFAULT 0,
    requested_by    VARCHAR(100) NOT NULL,
    refund_id       VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'the provider refund number',
    next_query_at   DATETIME(6) NULL,
    created_at      DATETIME(6) NOT NULL,
    completed_at    DATETIME(6) NULL,
    UNIQUE KEY payment_refunds_out_no (out_refund_no),
    KEY payment_refunds_payment (payment_id, id),
    KEY payment_refunds_order (order_id, id),
    KEY payment_refunds_next_query (next_query_at),
    KEY payment_refunds_completed (completed_at),
    CONSTRAINT payment_refunds_payment_fk FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT payment_refunds_amount CHECK (amount > 0),
    CONSTRAINT payment_refunds_status CHECK (status IN ('pending', 'succeeded', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_notifications (
    id              BIGINT NOT NULL PRIMARY KEY,
    provider        VARCHAR(16) NOT NULL,
    kind            VARCHAR(16) NOT NULL DEFAULT '',
    out_trade_no    VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    out_refund_no   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    verified        TINYINT(1) NOT NULL,
    outcome         VARCHAR(16) NOT NULL,
    reason          TEXT NOT NULL,
    headers         TEXT NOT NULL,
    body            MEDIUMTEXT NOT NULL,
    received_at     DATETIME(6) NOT NULL,
    KEY payment_notifications_trade (out_trade_no, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- idem_key is VARBINARY so keys compare byte for byte.
CREATE TABLE payment_idempotency (
    scope           VARCHAR(64) NOT NULL,
    idem_key        VARBINARY(64) NOT NULL,
    request_hash    CHAR(64) NOT NULL,
    result_id       BIGINT NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (scope, idem_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE payment_idempotency;
DROP TABLE payment_notifications;
DROP TABLE payment_refunds;
DROP TABLE payments;
