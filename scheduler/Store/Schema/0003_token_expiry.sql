-- Mekong store, schema version 3: API tokens may expire.
-- expires_at is UTC ticks, NULL for a token that never expires (every token issued before this version).

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NULL;
