-- Search and recommendations (cell/src/search).

-- Product vectors as they came with the catalog events: all-MiniLM-L6-v2,
-- 384 little-endian f32. The vector store is rebuilt from here at start.
CREATE TABLE catalog_embeddings (
    product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    model      VARCHAR(64)     NOT NULL,
    vector     VARBINARY(1536) NOT NULL
) ENGINE = InnoDB;

-- What a shopper viewed and bought in this cell: "for you" is made of it.
CREATE TABLE shopper_activity (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    shopper_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id  BIGINT UNSIGNED NOT NULL,
    kind        ENUM('view', 'purchase') NOT NULL,
    at          TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY shopper_recent (shopper_key, at),
    KEY by_age (at)
) ENGINE = InnoDB;

-- How often two products were bought together here, both ways round.
CREATE TABLE co_purchases (
    product_id BIGINT UNSIGNED NOT NULL,
    other_id   BIGINT UNSIGNED NOT NULL,
    times      INT UNSIGNED    NOT NULL,
    PRIMARY KEY (product_id, other_id),
    KEY most_often (product_id, times)
) ENGINE = InnoDB;

-- The platform's trending list, as the control plane last sent it.
CREATE TABLE cell_trending (
    product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    score      DOUBLE          NOT NULL,
    KEY by_score (score)
) ENGINE = InnoDB;
