-- +goose Up
-- The sandbox provider's own books: what a real provider would hold on its side.
CREATE TABLE sandbox_trades (
    out_trade_no    VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    transaction_id  VARCHAR(64) NOT NULL,
    amount          BIGINT NOT NULL,
    description     VARCHAR(255) NOT NULL,
    notify_url      VARCHAR(500) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    expires_at      DATETIME(6) NOT NULL,
    paid_at         DATETIME(6) NULL,
    created_at      DATETIME(6) NOT NULL,
    KEY sandbox_trades_paid (paid_at),
    CONSTRAINT sandbox_trades_status CHECK (status IN ('pending', 'success', 'closed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sandbox_refunds (
    out_refund_no   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    out_trade_no    VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    refund_id       VARCHAR(64) NOT NULL,
    amount          BIGINT NOT NULL,
    notify_url      VARCHAR(500) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    completed_at    DATETIME(6) NULL,
    created_at      DATETIME(6) NOT NULL,
    KEY sandbox_refunds_trade (out_trade_no),
    KEY sandbox_refunds_completed (completed_at),
    CONSTRAINT sandbox_refunds_status CHECK (status IN ('pending', 'succeeded'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_trades;
