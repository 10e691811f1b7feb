-- An admin's refunds of paid orders, whole or in part. The amount is
-- counted on the order (`refunded_minor`) when the refund is requested, under
-- the order's row lock, so racing refunds cannot return more than was paid;
-- a refund the provider refuses gives its amount back. The provider is asked
-- with an idempotency key made from the refund's id, so a retry cannot pay
-- twice.
ALTER TABLE orders
    ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0 AFTER refund_id,
    ADD CONSTRAINT orders_refund_bound CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor);

CREATE TABLE order_refunds (
    id           CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    order_id     CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    amount_minor BIGINT       NOT NULL,
    reason       VARCHAR(500) NOT NULL,
    actor        VARCHAR(100) NOT NULL,
    state        ENUM('requested', 'succeeded', 'failed') NOT NULL DEFAULT 'requested',
    provider_id  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
    error        VARCHAR(500) NULL,
    created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    settled_at   TIMESTAMP(6) NULL,
    PRIMARY KEY (id),
    KEY order_refunds_order (order_id, created_at),
    KEY order_refunds_open (state, created_at),
    CONSTRAINT order_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT order_refunds_amount CHECK (amount_minor > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- What staff did to orders (cancel, refund, move on), append-only.
CREATE TABLE order_audit (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    occurred_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    actor       VARCHAR(100)    NOT NULL,
    action      VARCHAR(32)     NOT NULL,
    order_id    CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    detail      TEXT            NOT NULL,
    PRIMARY KEY (id),
    KEY order_audit_order (order_id, occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Each order e-mail sent, by the event that caused it: a redelivered event
-- finds its row and writes no second e-mail.
CREATE TABLE sent_emails (
    event_id  CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    order_id  CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind      VARCHAR(32)  NOT NULL,
    recipient VARCHAR(254) NOT NULL,
    subject   VARCHAR(200) NOT NULL,
    sent_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (event_id),
    KEY sent_emails_order (order_id, sent_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- What carriers said about a shipment (the simulated carrier's and real
-- carriers' signed webhooks), by their event id.
CREATE TABLE tracking_events (
    event_id        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    order_id        CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    carrier         VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    tracking_number VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status          ENUM('in_transit', 'out_for_delivery', 'delivered', 'exception') NOT NULL,
    detail          VARCHAR(500) NULL,
    occurred_at     TIMESTAMP(6) NOT NULL,
    received_at     TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (event_id),
    KEY tracking_events_number (tracking_number, occurred_at),
    KEY tracking_events_order (order_id, occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
