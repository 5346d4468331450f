-- Photo pipeline: print queue, paper counter, staff flags and digital-copy download tokens.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.sss' like the rest of the schema.

-- When this pipeline was installed: paid orders older than this (from before prints were
-- tracked) are not resumed or flagged by the crash-resume routine.
CREATE TABLE photo_pipeline_meta (
    key             VARCHAR(50) PRIMARY KEY,
    value           TEXT NOT NULL
);
INSERT INTO photo_pipeline_meta (key, value)
VALUES ('installed_at', strftime('%Y-%m-%d %H:%M:%f', 'now'));

-- One print job per paid order (and per photo): copies are a count on the job, so repeated taps
-- can never queue a second job. A retry is a new attempt on the same row.
CREATE TABLE print_jobs (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL UNIQUE REFERENCES payments(id) ON DELETE CASCADE,
    photo_id        INTEGER NOT NULL UNIQUE REFERENCES photos(id) ON DELETE CASCADE,
    copies          INTEGER NOT NULL CHECK (copies >= 1),
    media           VARCHAR(50),
    state           VARCHAR(10) NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'printing', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    printer         VARCHAR(200),                   -- 'folder:<dir>' or 'cups:<queue>' of the last attempt
    submit_token    VARCHAR(100),                   -- job title of the last attempt (also the folder file name)
    printer_mark    VARCHAR(100),                   -- highest printer job id seen right before `lp` (crash reconciliation)
    printer_job_id  VARCHAR(100),                   -- the printer's id of the last attempt, once `lp` answered
    queued_at       DATETIME NOT NULL,
    submitted_at    DATETIME,
    finished_at     DATETIME,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX idx_print_jobs_state ON print_jobs(state, id);

-- Paper rolls: the newest row is the roll in the printer. A refill inserts a new row (history kept).
CREATE TABLE paper_rolls (
    id              INTEGER PRIMARY KEY,
    roll_size       INTEGER NOT NULL CHECK (roll_size > 0),
    remaining       INTEGER NOT NULL CHECK (remaining >= 0),
    reset_at        DATETIME NOT NULL,
    reset_by        VARCHAR(50) NOT NULL            -- 'staff', 'initial'
);

-- A paid order that could not be printed: staff reprint or refund it. At most one open flag per order.
CREATE TABLE fulfillment_flags (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
    reason          TEXT NOT NULL,
    suggested_action VARCHAR(10) NOT NULL CHECK (suggested_action IN ('reprint', 'refund')),
    created_at      DATETIME NOT NULL,
    resolved_at     DATETIME,
    resolution      TEXT
);
CREATE UNIQUE INDEX idx_flags_open_per_payment ON fulfillment_flags(payment_id) WHERE resolved_at IS NULL;
CREATE INDEX idx_flags_payment ON fulfillment_flags(payment_id);

-- Digital copy: GET /p/{token} serves exactly the photo's composite until expires_at.
CREATE TABLE download_tokens (
    token           VARCHAR(64) PRIMARY KEY,        -- 256 random bits, base64url
    photo_id        INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    expires_at      DATETIME NOT NULL,
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_download_tokens_photo ON download_tokens(photo_id);
CREATE INDEX idx_download_tokens_expires ON download_tokens(expires_at);
