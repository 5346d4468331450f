-- Staff panel: PIN, login attempts and lockout, PIN sessions, audit trail, comps, price settings.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.sss' like the rest of the schema. None of these tables
-- references another table except staff_comps, so clearing payments never loses an audit entry.

-- Key/value settings of the panel. 'pin_hash': the argon2id PHC string of the staff PIN
-- (set by `fotobox staff set-pin` or the panel; wins over config `[staff] pin_hash`).
CREATE TABLE staff_settings (
    key             VARCHAR(50) PRIMARY KEY,
    value           TEXT NOT NULL,
    updated_at      DATETIME NOT NULL
);

-- Every PIN attempt, right or wrong or refused during a lockout (never the PIN itself).
CREATE TABLE staff_login_attempts (
    id              INTEGER PRIMARY KEY,
    outcome         VARCHAR(10) NOT NULL CHECK (outcome IN ('ok', 'wrong', 'locked', 'no_pin', 'no_token')),
    client          VARCHAR(10) NOT NULL,           -- 'window' (the Tauri kiosk window) or 'browser'
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_staff_attempts_created ON staff_login_attempts(created_at);

-- The lockout state: a single row (id = 1).
CREATE TABLE staff_lockout (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    failures        INTEGER NOT NULL DEFAULT 0,     -- wrong PINs in a row since the last success or lockout
    locked_until    DATETIME
);
INSERT INTO staff_lockout (id, failures, locked_until) VALUES (1, 0, NULL);

-- PIN sessions: only a SHA-256 of the random token is stored.
CREATE TABLE staff_sessions (
    token_sha256    VARCHAR(64) PRIMARY KEY,
    client          VARCHAR(10) NOT NULL,
    created_at      DATETIME NOT NULL,
    last_seen_at    DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,              -- absolute end; idle end is last_seen_at + idle timeout
    ended_at        DATETIME                        -- logout
);

-- Append-only audit trail of staff actions (refund, comp, settings, PIN, backup, restore, clear,
-- export, reprint, paper reset, exit). payment_id is a plain number on purpose: no cascade.
CREATE TABLE staff_audit (
    id              INTEGER PRIMARY KEY,
    action          VARCHAR(30) NOT NULL,
    actor           VARCHAR(20) NOT NULL,           -- 'pin:window', 'pin:browser', 'token', 'cli'
    payment_id      INTEGER,
    order_id        VARCHAR(100),
    reason          TEXT,
    detail_json     TEXT,
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_staff_audit_payment ON staff_audit(payment_id, id);
CREATE INDEX idx_staff_audit_created ON staff_audit(created_at);
CREATE TRIGGER staff_audit_no_update BEFORE UPDATE ON staff_audit
BEGIN
    SELECT RAISE(ABORT, 'staff_audit is append-only');
END;
CREATE TRIGGER staff_audit_no_delete BEFORE DELETE ON staff_audit
BEGIN
    SELECT RAISE(ABORT, 'staff_audit is append-only');
END;

-- A free ("comp") session given by staff: the payments row is 'success' without any money.
-- Stats leave these rows out of payments and revenue and count them apart.
CREATE TABLE staff_comps (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL UNIQUE REFERENCES payments(id) ON DELETE CASCADE,
    reason          TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);

-- Price settings from the panel; the newest row wins over `[pricing]` in the config. History kept.
CREATE TABLE staff_prices (
    id              INTEGER PRIMARY KEY,
    layouts_json    TEXT NOT NULL,                  -- {"strip": 20000, ...}
    extra_copy      INTEGER NOT NULL CHECK (extra_copy >= 0),
    actor           VARCHAR(20) NOT NULL,
    created_at      DATETIME NOT NULL
);
