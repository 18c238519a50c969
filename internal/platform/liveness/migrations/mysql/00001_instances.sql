-- +goose Up
-- Running processes and their last heartbeat. Work a process claims (outbox batches,
-- payment queries, sandbox notifies, idempotency keys) names it, so another process takes
-- the work over as soon as the claimer's heartbeat is stale rather than after a long lease.
CREATE TABLE IF NOT EXISTS instances (
    id           VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    started_at   DATETIME(6) NOT NULL,
    heartbeat_at DATETIME(6) NOT NULL,
    KEY instances_heartbeat (heartbeat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE instances;
