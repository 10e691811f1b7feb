-- A paid order cancelled before shipping: its sold units go back into the
-- cell's share (`returned`), and the refund issued for it is kept.
ALTER TABLE stock_reservations
    MODIFY state ENUM('held', 'committed', 'released', 'returned') NOT NULL DEFAULT 'held';

ALTER TABLE orders ADD COLUMN refund_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER refunded;
