-- This cell's share of each promotion's global cap (docs/CHECKOUT.md).
--
-- `granted` is everything the control plane has given this cell of the cap
-- (it only grows: grants carry the running total), `returned` what the cell
-- gave back when it was recalled, and `used` the orders this cell placed
-- with the promotion that still count (a cancellation gives its use back).
-- `used` is a counter, not a count of `promotion_redemptions`: when a
-- shopper moves, their redemptions go with them, but the use stays spent
-- here, where it was granted.
CREATE TABLE promotion_allowances (
    promotion_id        BIGINT UNSIGNED NOT NULL,
    granted             BIGINT UNSIGNED NOT NULL DEFAULT 0,
    returned            BIGINT UNSIGNED NOT NULL DEFAULT 0,
    used                BIGINT UNSIGNED NOT NULL DEFAULT 0,
    top_up_requested_at TIMESTAMP(6)    NULL,
    PRIMARY KEY (promotion_id),
    CONSTRAINT promotion_allowances_returned CHECK (returned <= granted)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A row for every promotion held (checkout then locks a row, never a gap),
-- and for any promotion only redemptions still name.
INSERT INTO promotion_allowances (promotion_id, used)
SELECT p.id, (SELECT COUNT(*) FROM promotion_redemptions r WHERE r.promotion_id = p.id)
FROM promotions p;
INSERT IGNORE INTO promotion_allowances (promotion_id, used)
SELECT promotion_id, COUNT(*) FROM promotion_redemptions GROUP BY promotion_id;
