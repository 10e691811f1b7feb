-- Sign-in aliases (docs/IDENTITY.md, "Changing the e-mail address").
--
-- An account keeps the shopper key it was created with; after an e-mail
-- change the new address makes another key, which the edge routes sign-ins
-- by. The alias sends that key wherever the account itself is placed: the
-- published routing table carries it as an override to the account's cell,
-- computed afresh each time, so a drain that moves the account moves its
-- alias with it. One alias per account; an alias key is nobody else's.
CREATE TABLE sign_in_aliases (
    account_key CHAR(16)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    alias_key   CHAR(16)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    -- The cell that asked (where the account lived then).
    cell_id     VARCHAR(32)  NOT NULL,
    updated_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (account_key),
    UNIQUE KEY sign_in_aliases_alias (alias_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
