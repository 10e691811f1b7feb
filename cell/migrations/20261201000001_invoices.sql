-- Invoices: one per confirmed order, issued in the transaction that confirms
-- it. Numbers run without gaps per series (the cell's prefix): the counter
-- row is bumped in that same transaction, so a confirmation that rolls back
-- takes its number back with it, and concurrent confirmations queue on the
-- counter's row lock.
CREATE TABLE invoice_series (
    series      VARCHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    last_number BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (series)
) ENGINE = InnoDB;

CREATE TABLE invoices (
    number    VARCHAR(48)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    series    VARCHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sequence  BIGINT UNSIGNED NOT NULL,
    order_id  CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    issued_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    -- Everything the document shows (seller, buyer, lines, tax, totals), as
    -- issued; the PDF is rendered from it and kept once rendered.
    document  JSON            NOT NULL,
    pdf       MEDIUMBLOB      NULL,
    PRIMARY KEY (number),
    UNIQUE KEY invoices_sequence (series, sequence),
    UNIQUE KEY invoices_order (order_id),
    CONSTRAINT invoices_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
