-- The Google account (OpenID `sub`) linked to a shopper account, by verified
-- e-mail. An account made through Google has no password.
ALTER TABLE users ADD COLUMN google_subject VARCHAR(255) NULL AFTER password_hash,
    ADD UNIQUE KEY users_google_subject (google_subject);
