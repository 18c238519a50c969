-- +goose Up
-- The sandbox provider's own books: what a real provider would hold on its side.
CREATE TABLE sandbox_trades (
    out_trade_no    TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    description     TEXT NOT NULL,
    notify_url      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'success', 'closed')),
    expires_at      DATETIME NOT NULL,
    paid_at         DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX sandbox_trades_paid ON sandbox_trades (paid_at);

CREATE TABLE sandbox_refunds (
    out_refund_no   TEXT PRIMARY KEY,
    out_trade_no    TEXT NOT NULL REFERENCES sandbox_trades (out_trade_no),
    refund_id       TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    notify_url      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded')),
    completed_at    DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX sandbox_refunds_completed ON sandbox_refunds (completed_at);

-- +goose Down
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_trades;
