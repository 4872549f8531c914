-- Mekong store, schema version 1.
-- One script for SQLite and PostgreSQL: only portable types (BIGINT, INTEGER, TEXT, DOUBLE PRECISION)
-- and one dialect token, {identity}, for an auto-numbered primary key (SqlDialect.Expand).
-- Times are BIGINT UTC ticks (100 ns since 0001-01-01, DateTimeOffset.UtcTicks), durations are ticks:
-- exact round trips, integer comparisons, the same on both databases.
-- Booleans are INTEGER 0/1. Maps and lists are JSON text.

CREATE TABLE accounts (
    path                TEXT PRIMARY KEY,
    parent              TEXT NOT NULL,            -- '' for an organisation under the root
    shares              INTEGER NOT NULL,
    guarantees          TEXT NOT NULL,            -- JSON {"h100": 16}
    limits              TEXT NOT NULL,            -- JSON {"h100": 32}; absent type = no limit
    budget_gpu_hours    BIGINT NULL,
    budget_period       TEXT NULL,                -- month | quarter | year
    budget_action       TEXT NULL,                -- hold | scavenge
    priority_preemption INTEGER NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE members (
    account    TEXT NOT NULL REFERENCES accounts (path) ON DELETE CASCADE,
    user_name  TEXT NOT NULL,
    role       TEXT NOT NULL,                     -- member | project-admin | org-admin
    PRIMARY KEY (account, user_name)
);

CREATE INDEX members_by_user ON members (user_name);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,                 -- public identifier, shown in listings
    secret_hash TEXT NOT NULL UNIQUE,             -- lowercase hex SHA-256 of the secret; the secret is never stored
    name        TEXT NOT NULL,
    subject     TEXT NOT NULL,                    -- the user the token acts as
    roles       TEXT NOT NULL,                    -- JSON ["centre-admin"]
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT NULL
);

CREATE TABLE nodes (
    name        TEXT PRIMARY KEY,
    gpu_type    TEXT NOT NULL,
    gpus        INTEGER NOT NULL,
    cpu_cores   INTEGER NOT NULL,
    memory_mb   BIGINT NOT NULL,
    block       TEXT NOT NULL,
    state       TEXT NOT NULL,                    -- up | draining | down
    updated_at  BIGINT NOT NULL
);

CREATE TABLE jobs (
    id                 BIGINT PRIMARY KEY,        -- assigned by the store's writer, monotonic
    project            TEXT NOT NULL,
    user_name          TEXT NOT NULL,
    name               TEXT NOT NULL,
    nodes              INTEGER NOT NULL,
    gpus_per_node      INTEGER NOT NULL,
    gpu_type           TEXT NULL,                 -- NULL: any type
    walltime           BIGINT NOT NULL,
    cpu_per_node       INTEGER NOT NULL,
    memory_mb_per_node BIGINT NOT NULL,
    priority           TEXT NOT NULL,             -- low | normal | high
    preemptible        INTEGER NOT NULL,
    grace_period       BIGINT NOT NULL,
    requeue            INTEGER NOT NULL,
    command            TEXT NOT NULL,             -- JSON ["python", "train.py"]
    env                TEXT NOT NULL,             -- JSON {"K": "V"}
    working_dir        TEXT NULL,
    image              TEXT NULL,
    state              TEXT NOT NULL,             -- pending | running | succeeded | failed | cancelled | timed-out | preempted | held
    submit_time        BIGINT NOT NULL,           -- original submit time; a requeued job keeps it
    start_time         BIGINT NULL,               -- of the current or last run
    end_time           BIGINT NULL,
    allocated_type     TEXT NULL,
    allocations        TEXT NULL,                 -- JSON [{"node": "n1", "mask": 15}] while running / of the last run
    borrowing          INTEGER NOT NULL,
    preemption_count   INTEGER NOT NULL,
    exit_code          INTEGER NULL,
    reason             TEXT NULL
);

-- Restart reads only live jobs; a partial index keeps that cheap however long the history grows.
CREATE INDEX jobs_live ON jobs (state) WHERE state IN ('pending', 'held', 'preempted', 'running');
CREATE INDEX jobs_by_project ON jobs (project, id);

CREATE TABLE job_events (
    seq      {identity},
    job_id   BIGINT NOT NULL REFERENCES jobs (id),
    at       BIGINT NOT NULL,
    state    TEXT NOT NULL,                       -- the state entered
    reason   TEXT NULL
);

CREATE INDEX job_events_by_job ON job_events (job_id, seq);

-- One row per run of a job (start to stop), so accounting can be rebuilt from the store alone.
-- end_time is NULL while the run goes on.
CREATE TABLE usage_records (
    job_id      BIGINT NOT NULL REFERENCES jobs (id),
    start_time  BIGINT NOT NULL,
    end_time    BIGINT NULL,
    project     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    gpu_type    TEXT NOT NULL,
    gpus        INTEGER NOT NULL,
    borrowing   INTEGER NOT NULL,
    PRIMARY KEY (job_id, start_time)
);

CREATE INDEX usage_by_end ON usage_records (end_time);
