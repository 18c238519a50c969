-- +goose Up
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT,
    username_key    TEXT UNIQUE,
    mobile          TEXT UNIQUE,
    nickname        TEXT NOT NULL DEFAULT '',
    password_hash   BLOB,
    wechat_openid   TEXT UNIQUE,
    wechat_unionid  TEXT,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
    password_hash BLOB NOT NULL,
    created_at    DATETIME NOT NULL
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    family_id     INTEGER NOT NULL,
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('buyer', 'staff')),
    subject_id    INTEGER NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    used_at       DATETIME,
    revoked_at    DATETIME
);
CREATE INDEX sessions_family ON sessions (family_id);

CREATE TABLE addresses (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    recipient   TEXT NOT NULL,
    phone       TEXT NOT NULL,
    province    TEXT NOT NULL,
    city        TEXT NOT NULL,
    district    TEXT NOT NULL,
    detail      TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX addresses_user ON addresses (user_id, id);

-- +goose Down
DROP TABLE addresses;
DROP TABLE sessions;
DROP TABLE staff;
DROP TABLE users;
