-- The order's life after payment: confirmed → processing → shipped →
-- delivered; cancelled from pending, confirmed or processing. The code moves
-- an order only through `orders::transition`; this trigger refuses any other
-- move, whoever writes, so no illegal status survives even a hand-written
-- UPDATE.
ALTER TABLE orders
    MODIFY status ENUM('pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled') NOT NULL,
    ADD COLUMN processing_at   TIMESTAMP(6) NULL AFTER confirmed_at,
    ADD COLUMN shipped_at      TIMESTAMP(6) NULL AFTER processing_at,
    ADD COLUMN delivered_at    TIMESTAMP(6) NULL AFTER shipped_at,
    ADD COLUMN carrier         VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN tracking_number VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD KEY orders_user_status (user_id, status, created_at);

CREATE TRIGGER orders_status_moves BEFORE UPDATE ON orders FOR EACH ROW
BEGIN
    IF NEW.status <> OLD.status AND NOT (
           (OLD.status = 'pending' AND NEW.status IN ('confirmed', 'cancelled'))
        OR (OLD.status = 'confirmed' AND NEW.status IN ('processing', 'cancelled'))
        OR (OLD.status = 'processing' AND NEW.status IN ('shipped', 'cancelled'))
        OR (OLD.status = 'shipped' AND NEW.status = 'delivered'))
    THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'illegal order status change';
    END IF;
END;
