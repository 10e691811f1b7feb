-- Each cell's share of a promotion's global cap (docs/CHECKOUT.md), kept
-- like stock shares: `granted` is everything given to the cell so far and
-- `returned` everything it gave back when recalled. What is not out with a
-- cell (`global_cap - SUM(granted - returned)`) is the pool top-ups come
-- from. No foreign key to `cells`: a removed cell's row stays as history.
CREATE TABLE promotion_cap_shares (
    promotion_id BIGINT UNSIGNED NOT NULL,
    cell_id      VARCHAR(32)     NOT NULL,
    granted      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    returned     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (promotion_id, cell_id),
    CONSTRAINT promotion_cap_shares_promotion FOREIGN KEY (promotion_id) REFERENCES promotions (id),
    CONSTRAINT promotion_cap_shares_returned CHECK (returned <= granted)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Shares handed out before this table existed are in the snapshots.
INSERT INTO promotion_cap_shares (promotion_id, cell_id, granted)
SELECT p.id, k.cell_id,
       CAST(JSON_VALUE(p.snapshot, CONCAT('$.cell_caps."', k.cell_id, '"')) AS UNSIGNED)
FROM promotions p,
     JSON_TABLE(JSON_KEYS(p.snapshot, '$.cell_caps'), '$[*]' COLUMNS (cell_id VARCHAR(32) PATH '$')) AS k
WHERE JSON_TYPE(JSON_EXTRACT(p.snapshot, '$.global_cap')) = 'INTEGER';
