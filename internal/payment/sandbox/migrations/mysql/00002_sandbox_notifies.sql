-- +goose Up
-- Notifies the sandbox owes the shop, written in the transaction that pays a trade or
-- takes a refund, so a crash after the cashier said "Paid" cannot lose one: a sender
-- delivers them, retrying as providers do, and a restarted (or another) instance takes over
-- the ones a dead instance held.
CREATE TABLE sandbox_notifies (
    id              VARCHAR(80) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY COMMENT 'trade:<out_trade_no> or refund:<out_refund_no>',
    url             VARCHAR(500) NOT NULL,
    body            TEXT NOT NULL,
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    claimed_by      VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
    claimed_until   DATETIME(6) NULL,
    created_at      DATETIME(6) NOT NULL,
    KEY sandbox_notifies_due (next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE sandbox_notifies;
