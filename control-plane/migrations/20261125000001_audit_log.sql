-- Every admin and SRE action, append-only (DESIGN.md §6). Rows are inserted
-- in the same transaction as the change they record and never updated.
CREATE TABLE audit_log (
    id          BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    occurred_at TIMESTAMP(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    actor       VARCHAR(320)     NOT NULL,
    action      VARCHAR(64)      NOT NULL,
    subject     VARCHAR(255)     NOT NULL,
    detail      JSON             NOT NULL,
    request_id  VARCHAR(128)     NULL,
    PRIMARY KEY (id),
    KEY audit_log_by_subject (subject, occurred_at),
    KEY audit_log_by_actor (actor, occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
