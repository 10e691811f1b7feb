-- Changing an account's e-mail address (docs/IDENTITY.md).
--
-- An account keeps the shopper key it was created with for life: its carts,
-- orders, fences and routing overrides all hang on that key. Until now the
-- key was computed from the e-mail; it is now stored, so a new address does
-- not change it. `email_key` is the key of the current address — what the
-- edge routes a sign-in by. Where the two differ, the control plane keeps a
-- sign-in alias that sends `email_key` to the account's cell.
--
-- The key stays unique: an address an account has left cannot be registered
-- again while that account exists (its key would be the account's own).
ALTER TABLE users ADD COLUMN account_key CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL;
UPDATE users SET account_key = shopper_key;
ALTER TABLE users DROP KEY users_shopper_key, DROP COLUMN shopper_key;
ALTER TABLE users
    CHANGE COLUMN account_key shopper_key CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    ADD UNIQUE KEY users_shopper_key (shopper_key),
    ADD COLUMN email_key CHAR(16) CHARACTER SET ascii COLLATE ascii_bin
        AS (LEFT(SHA2(email, 256), 16)) STORED;

-- A change asked for and not yet confirmed: one per account (a new request
-- replaces it). Only the SHA-256 of the link's token is kept.
CREATE TABLE email_changes (
    user_id    CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    new_email  VARCHAR(254) NOT NULL,
    token_hash CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at TIMESTAMP(6) NOT NULL,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (user_id),
    UNIQUE KEY email_changes_token (token_hash),
    CONSTRAINT email_changes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
