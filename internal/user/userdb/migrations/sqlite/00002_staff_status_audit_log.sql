-- +goose Up
-- A disabled or deleted account is kept: the audit log names it. A deleted one's username_key
-- is rewritten so its name is free for a new account.
ALTER TABLE staff ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted'));
CREATE INDEX staff_role_status ON staff (role, status);

-- Disabling an account or resetting its password revokes its sessions.
CREATE INDEX sessions_subject ON sessions (subject_id, subject_kind);

-- Staff writes of every module and service, from audit.recorded events; id is the entry's
-- (and its event's) id, which makes storing a redelivered event a no-op.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    occurred_at     DATETIME NOT NULL,
    actor_id        INTEGER NOT NULL,
    actor_username  TEXT NOT NULL DEFAULT '',
    actor_role      TEXT NOT NULL,
    method          TEXT NOT NULL,
    route           TEXT NOT NULL,
    path            TEXT NOT NULL,
    target_id       TEXT NOT NULL DEFAULT '',
    status          INTEGER NOT NULL,
    before_json     TEXT,
    after_json      TEXT,
    client_ip       TEXT NOT NULL,
    user_agent      TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    service         TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);
CREATE INDEX audit_log_route ON audit_log (route, id);
CREATE INDEX audit_log_time ON audit_log (occurred_at);

-- +goose Down
DROP TABLE audit_log;
DROP INDEX sessions_subject;
DROP INDEX staff_role_status;
ALTER TABLE staff DROP COLUMN status;
