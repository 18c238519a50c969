-- +goose Up
CREATE TABLE users (
    id              BIGINT NOT NULL PRIMARY KEY,
    username        VARCHAR(64) NULL,
    username_key    VARCHAR(64) COLLATE utf8mb4_bin NULL,
    mobile          VARCHAR(20) NULL,
    nickname        VARCHAR(64) NOT NULL DEFAULT '',
    password_hash   VARBINARY(100) NULL,
    wechat_openid   VARCHAR(64) COLLATE utf8mb4_bin NULL,
    wechat_unionid  VARCHAR(64) COLLATE utf8mb4_bin NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    UNIQUE KEY users_username (username_key),
    UNIQUE KEY users_mobile (mobile),
    UNIQUE KEY users_openid (wechat_openid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff (
    id            BIGINT NOT NULL PRIMARY KEY,
    username      VARCHAR(64) NOT NULL,
    username_key  VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    role          VARCHAR(16) NOT NULL,
    password_hash VARBINARY(100) NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    UNIQUE KEY staff_username (username_key),
    CONSTRAINT staff_role CHECK (role IN ('admin', 'operator'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id            BIGINT NOT NULL PRIMARY KEY,
    family_id     BIGINT NOT NULL,
    subject_kind  VARCHAR(8) NOT NULL,
    subject_id    BIGINT NOT NULL,
    token_hash    BINARY(32) NOT NULL,
    expires_at    DATETIME(6) NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    used_at       DATETIME(6) NULL,
    revoked_at    DATETIME(6) NULL,
    UNIQUE KEY sessions_token (token_hash),
    KEY sessions_family (family_id),
    CONSTRAINT sessions_kind CHECK (subject_kind IN ('buyer', 'staff'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE addresses (
    id          BIGINT NOT NULL PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    recipient   VARCHAR(32) NOT NULL,
    phone       VARCHAR(20) NOT NULL,
    province    VARCHAR(32) NOT NULL,
    city        VARCHAR(32) NOT NULL,
    district    VARCHAR(32) NOT NULL,
    detail      VARCHAR(200) NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    KEY addresses_user (user_id, id),
    CONSTRAINT addresses_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE addresses;
DROP TABLE sessions;
DROP TABLE staff;
DROP TABLE users;
