-- A cell added through the API starts `joining`: it rebuilds its catalog from
-- the compacted topic and takes no shoppers until an SRE activates it (which
-- checks that its catalog has caught up).
ALTER TABLE cells DROP CONSTRAINT cells_state;
ALTER TABLE cells ADD CONSTRAINT cells_state
    CHECK (state IN ('joining', 'active', 'draining', 'drained', 'failed'));
