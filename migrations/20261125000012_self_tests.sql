-- Staff self-tests from the Devices page (issue 16): a test print (a calibration sheet through
-- the real print path, counted on the paper counter), a camera test (a still at full
-- resolution) and a payment-path test (the public URL's health round trip). One row per run;
-- the panel shows the newest of each kind. Times are UTC text like the rest of the schema.
CREATE TABLE self_tests (
    id           INTEGER PRIMARY KEY,
    kind         VARCHAR(12) NOT NULL CHECK (kind IN ('print', 'camera', 'payment_path')),
    -- running  under way (a test print waits for the printer); a restart marks it failed;
    -- passed   it worked;
    -- warning  it worked, with something staff should see (a camera too coarse for a layout);
    -- failed   it did not work: `summary` says why;
    -- skipped  nothing to test (no public URL configured).
    state        VARCHAR(8) NOT NULL
                 CHECK (state IN ('running', 'passed', 'warning', 'failed', 'skipped')),
    summary      TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '{}',   -- JSON: sizes, dpi, latency, the printer's job
    -- The CUPS job of a test print, recorded as soon as `lp` answers, so crash reconciliation
    -- of customers' print jobs never takes it for theirs.
    printer_job  TEXT,
    actor        TEXT NOT NULL,
    started_at   DATETIME NOT NULL,
    finished_at  DATETIME,
    duration_ms  INTEGER
);
CREATE INDEX idx_self_tests_kind ON self_tests(kind, id);
