-- Products published without a vector, waiting for the background embedder
-- (docs/CATALOG.md, "Vectors after the import"): an import that asks for
-- vectors later, or a write whose embedding failed. The embedder gives each
-- one its vector as a new version and removes its row; a deleted product's
-- row goes with it.
CREATE TABLE vector_backlog (
    product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    queued_at  TIMESTAMP(6)    NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT vector_backlog_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE = InnoDB;
