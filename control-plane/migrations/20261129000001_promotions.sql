-- Promotions and coupons: the whole snapshot as announced to the cells, with
-- the code kept unique here (a code-less promotion applies by itself).
CREATE TABLE promotions (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    code       VARCHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    version    BIGINT UNSIGNED NOT NULL,
    snapshot   JSON            NOT NULL,
    created_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY promotions_code (code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
