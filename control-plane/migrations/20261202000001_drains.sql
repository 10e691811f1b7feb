-- Draining a cell: its shoppers move to the cells placement gives them
-- without it, one at a time, each move resumable step by step (docs/RUNBOOK.md).
CREATE TABLE cell_drains (
    cell_id        VARCHAR(32)     NOT NULL,
    -- moving: shoppers being moved; sealed: the cell refuses every shopper
    -- write while the last pass moves whoever is left; done; failed.
    state          ENUM('moving', 'sealed', 'done', 'failed') NOT NULL DEFAULT 'moving',
    passes         INT UNSIGNED    NOT NULL DEFAULT 0,
    -- Where the current pass over the cell's shopper list has got to.
    cursor_key     VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    found_in_pass  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    shoppers_moved BIGINT UNSIGNED NOT NULL DEFAULT 0,
    last_error     VARCHAR(1000)   NULL,
    actor          VARCHAR(100)    NOT NULL,
    started_at     TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    finished_at    TIMESTAMP(6)    NULL,
    PRIMARY KEY (cell_id),
    CONSTRAINT cell_drains_cell FOREIGN KEY (cell_id) REFERENCES cells (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One shopper's move: fenced on the old cell → copied to the new one (the
-- checksum both agree on) → switched (the override is published) → done
-- (deleted from the old cell). `conflict`: the old cell's copy changed after
-- the switch; it is left there for an operator.
CREATE TABLE shopper_moves (
    shopper_key CHAR(16)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    epoch       BIGINT UNSIGNED NOT NULL,
    source_cell VARCHAR(32)     NOT NULL,
    target_cell VARCHAR(32)     NOT NULL,
    step        ENUM('fencing', 'fenced', 'copied', 'switched', 'done', 'conflict') NOT NULL DEFAULT 'fencing',
    checksum    CHAR(64)        CHARACTER SET ascii COLLATE ascii_bin NULL,
    attempts    INT UNSIGNED    NOT NULL DEFAULT 0,
    last_error  VARCHAR(1000)   NULL,
    created_at  TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (shopper_key, epoch),
    KEY shopper_moves_source (source_cell, step)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
