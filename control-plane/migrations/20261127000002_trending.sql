-- Time-decayed view counts: the trending list (control-plane/src/trending.rs).
-- `score` is as of `updated_at`; readers decay it to now.
CREATE TABLE trending_scores (
    product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    score      DOUBLE          NOT NULL,
    updated_at TIMESTAMP(6)    NOT NULL
) ENGINE = InnoDB;
