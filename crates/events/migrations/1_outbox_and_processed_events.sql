-- The transactional outbox: rows written in the same transaction as the state
-- change they announce, published in `seq` order by the relay, marked sent.
CREATE TABLE event_outbox (
    seq        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id   CHAR(36)        NOT NULL,
    topic      VARCHAR(249)    NOT NULL,
    event_key  VARCHAR(255)    NOT NULL,
    event_type VARCHAR(128)    NOT NULL,
    traceparent VARCHAR(55)    NOT NULL,
    envelope   LONGTEXT        NOT NULL,
    created_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at    TIMESTAMP(6)    NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY event_outbox_event (event_id),
    KEY event_outbox_unsent (sent_at, seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Events a consumer has applied, written in the handler's own transaction: a
-- redelivered event finds its row and is skipped.
CREATE TABLE event_processed (
    consumer     VARCHAR(128) NOT NULL,
    event_id     CHAR(36)     NOT NULL,
    processed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (consumer, event_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
