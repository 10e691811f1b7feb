-- Shopper accounts of this cell. The e-mail is stored normalised (trimmed,
-- lower case); it is unique, and the shopper key derives from it.
CREATE TABLE users (
    id            CHAR(36)     NOT NULL,
    email         VARCHAR(254) NOT NULL,
    name          VARCHAR(100) NOT NULL,
    password_hash CHAR(60)     NULL,
    roles         VARCHAR(64)  NOT NULL DEFAULT 'user',
    created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY users_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Security events of this cell's accounts (refresh-token reuse, role grants),
-- append-only.
CREATE TABLE auth_audit (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    occurred_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    user_id     CHAR(36)        NULL,
    action      VARCHAR(64)     NOT NULL,
    detail      TEXT            NOT NULL,
    PRIMARY KEY (id),
    KEY auth_audit_user (user_id, occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
