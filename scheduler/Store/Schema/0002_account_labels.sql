-- Mekong store, schema version 2: what an account is called and classed as, beside its policy.
-- NULL means "not set": the kind is then inferred from depth, the display name is the last path segment,
-- and the organisation class is inherited from the parent. Accounts written before this version read as
-- not set, which is what they were.

ALTER TABLE accounts ADD COLUMN kind TEXT NULL;                 -- organisation | project
ALTER TABLE accounts ADD COLUMN display_name TEXT NULL;
ALTER TABLE accounts ADD COLUMN organisation_class TEXT NULL;   -- academic | government | enterprise
