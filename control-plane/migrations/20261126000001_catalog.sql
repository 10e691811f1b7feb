-- The global catalog (DESIGN.md §2): the control plane is its source of truth;
-- every change bumps the product's version and writes a `ProductUpserted` /
-- `ProductDeleted` snapshot to the outbox in the same transaction.
CREATE TABLE brands (
    id   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    slug VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name VARCHAR(100)    NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY brands_slug (slug)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE categories (
    id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    slug      VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name      VARCHAR(100)    NOT NULL,
    parent_id BIGINT UNSIGNED NULL,
    position  INT UNSIGNED    NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY categories_slug (slug),
    KEY categories_parent (parent_id, position),
    CONSTRAINT categories_parent FOREIGN KEY (parent_id) REFERENCES categories (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE products (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    slug         VARCHAR(120)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    version      BIGINT UNSIGNED NOT NULL,
    title        VARCHAR(200)    NOT NULL,
    description  TEXT            NOT NULL,
    brand_id     BIGINT UNSIGNED NOT NULL,
    category_id  BIGINT UNSIGNED NOT NULL,
    tags         JSON            NOT NULL,
    attributes   JSON            NOT NULL,
    published    BOOLEAN         NOT NULL DEFAULT FALSE,
    rating_avg   FLOAT           NOT NULL DEFAULT 0,
    rating_count INT UNSIGNED    NOT NULL DEFAULT 0,
    created_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY products_slug (slug),
    KEY products_brand (brand_id),
    KEY products_category (category_id),
    KEY products_updated (updated_at, id),
    CONSTRAINT products_brand FOREIGN KEY (brand_id) REFERENCES brands (id),
    CONSTRAINT products_category FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT products_rating CHECK (rating_avg BETWEEN 0 AND 5)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE product_images (
    product_id BIGINT UNSIGNED NOT NULL,
    position   INT UNSIGNED    NOT NULL,
    url        VARCHAR(500)    NOT NULL,
    alt        VARCHAR(300)    NOT NULL,
    PRIMARY KEY (product_id, position),
    CONSTRAINT product_images_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE variants (
    sku              VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id       BIGINT UNSIGNED NOT NULL,
    position         INT UNSIGNED    NOT NULL,
    size             VARCHAR(32)     NOT NULL,
    colour           VARCHAR(32)     NOT NULL,
    price_minor      BIGINT          NOT NULL,
    currency         CHAR(3)         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    compare_at_minor BIGINT          NULL,
    PRIMARY KEY (sku),
    UNIQUE KEY variants_option (product_id, size, colour),
    KEY variants_product (product_id, position),
    CONSTRAINT variants_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT variants_price CHECK (price_minor > 0),
    CONSTRAINT variants_compare_at CHECK (compare_at_minor IS NULL OR compare_at_minor > price_minor)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Bulk imports: progress and the rejected rows, polled by the admin.
CREATE TABLE import_jobs (
    id         CHAR(36)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    actor      VARCHAR(320)    NOT NULL,
    state      VARCHAR(16)     NOT NULL,
    total      BIGINT UNSIGNED NOT NULL,
    processed  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    unchanged  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    failed     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    errors     JSON            NOT NULL,
    started_at TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    CONSTRAINT import_jobs_state CHECK (state IN ('running', 'finished', 'failed'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The stock ledger: one row per SKU, allocated + unallocated + sold = on hand,
-- enforced by the database as well as by the code.
CREATE TABLE stock_ledger (
    sku         VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    on_hand     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    unallocated BIGINT UNSIGNED NOT NULL DEFAULT 0,
    allocated   BIGINT UNSIGNED NOT NULL DEFAULT 0,
    sold        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (sku),
    CONSTRAINT stock_ledger_balanced CHECK (on_hand = unallocated + allocated + sold)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- What each cell holds of each SKU, and its recent demand (units sold in the
-- current hour window), which sizes its next share.
CREATE TABLE stock_shares (
    sku           VARCHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    cell_id       VARCHAR(32)     NOT NULL,
    allocated     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    sold          BIGINT UNSIGNED NOT NULL DEFAULT 0,
    demand        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    demand_window TIMESTAMP       NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (sku, cell_id),
    KEY stock_shares_cell (cell_id),
    CONSTRAINT stock_shares_sku FOREIGN KEY (sku) REFERENCES stock_ledger (sku) ON DELETE CASCADE,
    CONSTRAINT stock_shares_cell FOREIGN KEY (cell_id) REFERENCES cells (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
