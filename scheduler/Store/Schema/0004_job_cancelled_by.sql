-- Mekong store, schema version 4: who cancelled a job, in a column of its own.
-- Written with the cancellation; NULL for every other end, and for a job the scheduler itself cancelled.
-- Rows cancelled before this version are not backfilled here (splitting the reason text at its first ':' has
-- no portable SQL): the store reads their canceller from the reason text "cancelled by X[: why]" they were
-- written with (MekongStore.LegacyCancelledBy).

ALTER TABLE jobs ADD COLUMN cancelled_by TEXT NULL;
