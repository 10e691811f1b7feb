-- The cell map the control plane owns and publishes as the routing table
-- (DESIGN.md §3): cells with weight, state and address; per-shopper overrides
-- (migrated shoppers) with their epoch; one version for the whole table,
-- bumped on every change.
CREATE TABLE cells (
    id           VARCHAR(32)      NOT NULL,
    weight       INT UNSIGNED     NOT NULL,
    state        VARCHAR(16)      NOT NULL,
    http_address VARCHAR(255)     NOT NULL,
    updated_at   TIMESTAMP(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    CONSTRAINT cells_state CHECK (state IN ('active', 'draining', 'drained', 'failed'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE placement_overrides (
    shopper_key CHAR(16)         NOT NULL,
    cell_id     VARCHAR(32)      NOT NULL,
    epoch       BIGINT UNSIGNED  NOT NULL,
    updated_at  TIMESTAMP(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (shopper_key),
    KEY placement_overrides_cell (cell_id),
    CONSTRAINT placement_overrides_cell FOREIGN KEY (cell_id) REFERENCES cells (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE routing_table (
    singleton TINYINT UNSIGNED NOT NULL DEFAULT 1,
    version   BIGINT UNSIGNED  NOT NULL,
    PRIMARY KEY (singleton),
    CONSTRAINT routing_table_one_row CHECK (singleton = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT INTO routing_table (singleton, version) VALUES (1, 1);
