-- Promotions as the control plane announced them (newest version wins).
CREATE TABLE promotions (
    id         BIGINT UNSIGNED NOT NULL,
    version    BIGINT UNSIGNED NOT NULL,
    code       VARCHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    automatic  BOOLEAN         NOT NULL,
    snapshot   JSON            NOT NULL,
    applied_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY promotions_code (code),
    KEY promotions_automatic (automatic)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per order placed with a promotion, from the moment its stock is
-- reserved: the per-shopper limit and this cell's share of the cap count
-- them. A cancelled order's row goes, giving its use back.
CREATE TABLE promotion_redemptions (
    order_id     CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    promotion_id BIGINT UNSIGNED NOT NULL,
    user_id      CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (order_id),
    KEY promotion_redemptions_shopper (promotion_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE carts ADD COLUMN coupon VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE orders
    ADD COLUMN discount_minor BIGINT          NOT NULL DEFAULT 0 AFTER subtotal_minor,
    ADD COLUMN promotion_id   BIGINT UNSIGNED NULL AFTER discount_minor,
    ADD COLUMN coupon         VARCHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NULL AFTER promotion_id,
    DROP CONSTRAINT orders_totals,
    ADD CONSTRAINT orders_totals CHECK (
        total_minor = subtotal_minor - discount_minor + shipping_minor
        AND total_minor > 0
        AND discount_minor BETWEEN 0 AND subtotal_minor);
