-- Unattended operation: staff alerts (also sent to Telegram), tunnel checks and the log of
-- maintenance jobs (backups, recovery, retention, optimize). Times are UTC text like the rest.

-- Staff alerts. A repeat of an open alert with the same dedup_key within the repeat window only
-- bumps `occurrences`/`last_at`; it is not stored or sent again.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    kind            VARCHAR(50) NOT NULL,           -- tunnel_down, db_restored, backup_failed, paper_low, ...
    severity        VARCHAR(10) NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    dedup_key       VARCHAR(200) NOT NULL,
    message         TEXT NOT NULL,                  -- never a secret
    occurrences     INTEGER NOT NULL DEFAULT 1,
    first_at        DATETIME NOT NULL,
    last_at         DATETIME NOT NULL,
    delivery        VARCHAR(10) NOT NULL DEFAULT 'pending'
                    CHECK (delivery IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME,
    sent_at         DATETIME,
    last_error      TEXT,
    acknowledged_at DATETIME,
    resolved_at     DATETIME
);
CREATE INDEX idx_alerts_key ON alerts(dedup_key, id);
CREATE INDEX idx_alerts_delivery ON alerts(delivery, next_attempt_at);

-- One row per tunnel health check (GET {public_url}/healthz).
CREATE TABLE tunnel_checks (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL,
    ok              INTEGER NOT NULL,
    http_status     INTEGER,
    latency_ms      INTEGER,
    error           TEXT,
    checked_at      DATETIME NOT NULL
);
CREATE INDEX idx_tunnel_checks_at ON tunnel_checks(checked_at);

-- What the maintenance jobs did: backup, pre_migration_backup, recovery, retention, optimize, vacuum.
CREATE TABLE maintenance_runs (
    id              INTEGER PRIMARY KEY,
    job             VARCHAR(30) NOT NULL,
    ok              INTEGER NOT NULL,
    detail_json     TEXT,
    started_at      DATETIME NOT NULL,
    finished_at     DATETIME NOT NULL
);
CREATE INDEX idx_maintenance_runs_job ON maintenance_runs(job, id);
