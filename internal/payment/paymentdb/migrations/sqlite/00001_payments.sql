-- +goose Up
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL,
    order_no        TEXT NOT NULL,              -- the out_trade_no sent to the provider
    user_id         INTEGER NOT NULL,
    provider        TEXT NOT NULL,
    method          TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    refunded        INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'closed')),
    transaction_id  TEXT NOT NULL DEFAULT '',
    instructions    TEXT NOT NULL DEFAULT '{}', -- what the buyer's client needs to pay, as JSON
    expires_at      DATETIME NOT NULL,
    paid_at         DATETIME,
    closed_at       DATETIME,
    next_query_at   DATETIME,                   -- NULL once the payment is settled
    query_attempts  INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (order_no, provider)
);
CREATE INDEX payments_order ON payments (order_id, id);
CREATE INDEX payments_next_query ON payments (next_query_at);
CREATE INDEX payments_paid ON payments (provider, paid_at);

CREATE TABLE payment_refunds (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL REFERENCES payments (id),
    order_id        INTEGER NOT NULL,
    order_no        TEXT NOT NULL,
    out_refund_no   TEXT NOT NULL UNIQUE,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    automatic       INTEGER NOT NULL DEFAULT 0,
    requested_by    TEXT NOT NULL,
    refund_id       TEXT NOT NULL DEFAULT '',   -- the provider's refund number
    next_query_at   DATETIME,
    created_at      DATETIME NOT NULL,
    completed_at    DATETIME
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id, id);
CREATE INDEX payment_refunds_order ON payment_refunds (order_id, id);
CREATE INDEX payment_refunds_next_query ON payment_refunds (next_query_at);
CREATE INDEX payment_refunds_completed ON payment_refunds (completed_at);

CREATE TABLE payment_notifications (
    id              INTEGER PRIMARY KEY,
    provider        TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT '',   -- trade or refund; empty when unverified
    out_trade_no    TEXT NOT NULL DEFAULT '',
    out_refund_no   TEXT NOT NULL DEFAULT '',
    verified        INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    headers         TEXT NOT NULL,
    body            TEXT NOT NULL,
    received_at     DATETIME NOT NULL
);
CREATE INDEX payment_notifications_trade ON payment_notifications (out_trade_no, id);

CREATE TABLE payment_idempotency (
    scope           TEXT NOT NULL,              -- user:<id> or staff:<id>
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    result_id       INTEGER NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

-- +goose Down
DROP TABLE payment_idempotency;
DROP TABLE payment_notifications;
DROP TABLE payment_refunds;
DROP TABLE payments;
