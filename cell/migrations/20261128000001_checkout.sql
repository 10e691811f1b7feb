-- Carts, checkouts, orders, stock reservations, idempotency keys and the
-- payment provider's webhook events (issue 7). Everything a shopper buys
-- stays in the shopper's home cell (DESIGN.md §2).

-- One cart per owner: a signed-in user (`user:<id>`) or a guest's shopper
-- key (`guest:<sk>`).
CREATE TABLE carts (
    id          CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    owner       VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY carts_owner (owner)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- `price_seen_minor` is the unit price the shopper last saw: a read that
-- finds another price flags the line until the shopper sees it again.
CREATE TABLE cart_items (
    cart_id          CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sku              VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    quantity         INT UNSIGNED NOT NULL,
    price_seen_minor BIGINT       NOT NULL,
    added_at         TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (cart_id, sku),
    CONSTRAINT cart_items_cart FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE,
    CONSTRAINT cart_items_quantity CHECK (quantity BETWEEN 1 AND 100)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A checkout walks address → shipping → payment; `order_id` is set when
-- payment starts, and from then on the checkout is that order's.
CREATE TABLE checkouts (
    id              CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    address         JSON         NULL,
    shipping_method VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    order_id        CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at      TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY checkouts_user (user_id, created_at),
    UNIQUE KEY checkouts_order (order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Orders: `pending` until the payment provider says the money moved
-- (`confirmed`), or `cancelled` (payment never came before the stock went
-- back). Issue 8 adds the later states.
CREATE TABLE orders (
    id                CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id           CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    shopper_key       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    checkout_id       CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status            ENUM('pending', 'confirmed', 'cancelled') NOT NULL,
    currency          CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subtotal_minor    BIGINT       NOT NULL,
    shipping_minor    BIGINT       NOT NULL,
    total_minor       BIGINT       NOT NULL,
    address           JSON         NOT NULL,
    shipping_method   VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    payment_intent    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
    client_secret     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
    payment_status    VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'not_started',
    payment_error     VARCHAR(500) NULL,
    reserved_until    TIMESTAMP(6) NOT NULL,
    refunded          BOOLEAN      NOT NULL DEFAULT FALSE,
    cancel_reason     VARCHAR(500) NULL,
    created_at        TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    confirmed_at      TIMESTAMP(6) NULL,
    cancelled_at      TIMESTAMP(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY orders_checkout (checkout_id),
    UNIQUE KEY orders_payment_intent (payment_intent),
    KEY orders_user (user_id, created_at),
    KEY orders_expiring (status, reserved_until),
    CONSTRAINT orders_totals CHECK (total_minor = subtotal_minor + shipping_minor AND total_minor > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE order_lines (
    order_id         CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sku              VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id       BIGINT UNSIGNED NOT NULL,
    title            VARCHAR(200)    NOT NULL,
    size             VARCHAR(32)     NOT NULL,
    colour           VARCHAR(32)     NOT NULL,
    unit_price_minor BIGINT          NOT NULL,
    quantity         INT UNSIGNED    NOT NULL,
    PRIMARY KEY (order_id, sku),
    CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Who moved an order, when and why: the order's timeline.
CREATE TABLE order_transitions (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    order_id   CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    from_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL,
    to_status  VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    actor      VARCHAR(100) NOT NULL,
    reason     VARCHAR(500) NOT NULL,
    at         TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY order_transitions_order (order_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Units taken out of `cell_stock.held` for an order until it is paid
-- (`committed`: sold) or not (`released`: back in `held`).
CREATE TABLE stock_reservations (
    order_id   CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sku        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    quantity   INT UNSIGNED NOT NULL,
    state      ENUM('held', 'committed', 'released') NOT NULL DEFAULT 'held',
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (order_id, sku),
    KEY stock_reservations_sku (sku, state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The first response to each (caller, Idempotency-Key): replayed for a
-- retry with the same body, refused for another body. `status` 0 while the
-- first request is still running.
CREATE TABLE idempotency_keys (
    scope        VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    idem_key     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash BINARY(32)   NOT NULL,
    status       SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    body         MEDIUMBLOB   NULL,
    content_type VARCHAR(100) NULL,
    created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (scope, idem_key),
    KEY idempotency_keys_age (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Payment provider events already acted on (webhooks are retried and may
-- come more than once).
CREATE TABLE payment_events (
    id          VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    event_type  VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    order_id    CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
