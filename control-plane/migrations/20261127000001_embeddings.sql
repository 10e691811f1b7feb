-- Product vectors (all-MiniLM-L6-v2, 384 little-endian f32), keyed by a hash
-- of the model and the product's text, so an unchanged text is not embedded
-- again.
CREATE TABLE product_embeddings (
    product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    text_hash  BINARY(32)      NOT NULL,
    model      VARCHAR(64)     NOT NULL,
    vector     VARBINARY(1536) NOT NULL,
    KEY by_text (text_hash),
    CONSTRAINT product_embeddings_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE = InnoDB;
