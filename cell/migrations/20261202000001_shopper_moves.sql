-- Moving shoppers to another cell (a drain, DESIGN.md §3 and docs/RUNBOOK.md).
--
-- An account's shopper key is the first 16 hex digits of SHA-256 over its
-- normalised e-mail (crates/placement, ShopperKey::for_account); stored and
-- indexed here so a cell can list and select its shoppers by key.
ALTER TABLE users
    ADD COLUMN shopper_key CHAR(16) CHARACTER SET ascii COLLATE ascii_bin
        AS (LEFT(SHA2(email, 256), 16)) STORED,
    ADD KEY users_shopper_key (shopper_key);

ALTER TABLE orders ADD KEY orders_shopper (shopper_key);

-- A shopper being moved away: `fenced` refuses their writes (the move with
-- this epoch is copying them), `moved` refuses everything but browsing (they
-- live on another cell now; the edge sends them there on its next table).
CREATE TABLE shopper_fences (
    shopper_key VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    epoch       BIGINT UNSIGNED NOT NULL,
    state       ENUM('fenced', 'moved') NOT NULL,
    updated_at  TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (shopper_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Set when the last shoppers of a draining cell are moved: from then on it
-- refuses every shopper write (a retryable 503).
ALTER TABLE cell_identity ADD COLUMN sealed_at TIMESTAMP(6) NULL;
