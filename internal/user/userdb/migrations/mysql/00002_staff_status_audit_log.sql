-- +goose Up
-- A disabled or deleted account is kept: the audit log names it. A deleted one's username_key
-- is rewritten so its name is free for a new account.
ALTER TABLE staff
    ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'active',
    ADD CONSTRAINT staff_status CHECK (status IN ('active', 'disabled', 'deleted'));
CREATE INDEX staff_role_status ON staff (role, status);

-- Disabling an account or resetting its password revokes its sessions.
CREATE INDEX sessions_subject ON sessions (subject_id, subject_kind);

-- Staff writes of every module and service, from audit.recorded events; id is the entry's
-- (and its event's) id, which makes storing a redelivered event a no-op.
CREATE TABLE audit_log (
    id              BIGINT        NOT NULL PRIMARY KEY,
    occurred_at     DATETIME(6)   NOT NULL,
    actor_id        BIGINT        NOT NULL,
    actor_username  VARCHAR(64)   NOT NULL DEFAULT '',
    actor_role      VARCHAR(16)   NOT NULL,
    method          VARCHAR(8)    NOT NULL,
    route           VARCHAR(255)  NOT NULL,
    path            VARCHAR(1024) NOT NULL,
    target_id       VARCHAR(64)   NOT NULL DEFAULT '',
    status          INT           NOT NULL,
    before_json     MEDIUMTEXT    NULL,
    after_json      MEDIUMTEXT    NULL,
    client_ip       VARCHAR(64)   NOT NULL,
    user_agent      VARCHAR(512)  NOT NULL DEFAULT '',
    request_id      VARCHAR(64)   NOT NULL DEFAULT '',
    service         VARCHAR(128)  NOT NULL,
    KEY audit_log_actor (actor_id, id),
    KEY audit_log_target (target_id, id),
    KEY audit_log_route (route, id),
    KEY audit_log_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE audit_log;
DROP INDEX sessions_subject ON sessions;
DROP INDEX staff_role_status ON staff;
ALTER TABLE staff DROP CONSTRAINT staff_status, DROP COLUMN status;
