-- Which cell owns this database. A cell refuses to start on a database that
-- another cell has claimed, so a copy-pasted URL cannot mix two cells' shoppers.
CREATE TABLE cell_identity (
    singleton  TINYINT UNSIGNED NOT NULL DEFAULT 1,
    cell_id    VARCHAR(32)      NOT NULL,
    claimed_at TIMESTAMP(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (singleton),
    CONSTRAINT cell_identity_one_row CHECK (singleton = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
