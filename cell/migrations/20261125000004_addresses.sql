-- Saved delivery addresses of an account (checkout offers them).
CREATE TABLE addresses (
    id          CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    user_id     CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    full_name   VARCHAR(100) NOT NULL,
    line1       VARCHAR(100) NOT NULL,
    line2       VARCHAR(100) NULL,
    city        VARCHAR(60)  NOT NULL,
    region      VARCHAR(60)  NULL,
    postcode    VARCHAR(12)  NOT NULL,
    country     CHAR(2)      NOT NULL,
    phone       VARCHAR(20)  NULL,
    is_default  BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY addresses_by_user (user_id, created_at),
    CONSTRAINT addresses_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
