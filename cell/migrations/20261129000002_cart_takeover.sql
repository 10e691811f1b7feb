-- The giving side of a cross-cell cart takeover: what was handed over, by
-- takeover id, so a repeated request (its answer lost) gets the same lines.
CREATE TABLE cart_handovers (
    takeover_id CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    owner       VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    body        JSON         NOT NULL,
    created_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (takeover_id),
    KEY cart_handovers_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The taking side: a guest cart on another cell to take over for a shopper
-- who signed in here; retried with back-off until that cell answers.
CREATE TABLE cart_takeovers (
    id              CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    guest_key       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    attempts        INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_error      VARCHAR(500) NULL,
    created_at      TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY cart_takeovers_pair (user_id, guest_key),
    KEY cart_takeovers_due (next_attempt_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
