-- Fotobox schema v1. Times are UTC text 'YYYY-MM-DD HH:MM:SS.sss' unless a column says *_ms
-- (13-digit Unix milliseconds, Payme's unit). Amounts are whole sum (UZS); *_tiyin only for Payme.

-- One row per order (what the customer buys). Columns up to metadata_json keep the previous
-- (Python) version's names so old exports and habits still fit.
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    order_id        VARCHAR(100) UNIQUE NOT NULL,
    transaction_id  VARCHAR(100) UNIQUE,            -- provider id of the transaction that paid/holds it
    amount          INTEGER NOT NULL CHECK (amount > 0),
    payment_type    VARCHAR(20) NOT NULL CHECK (payment_type IN ('payme', 'click')),
    status          VARCHAR(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'canceled')),
    state           INTEGER,                        -- provider state (Payme 1, 2, -1, -2)
    create_time     DATETIME NOT NULL,
    perform_time    DATETIME,
    cancel_time     DATETIME,
    metadata_json   TEXT,
    template_name   VARCHAR(50),
    copies          INTEGER NOT NULL DEFAULT 1 CHECK (copies >= 1),
    expires_at      DATETIME NOT NULL,              -- unpaid orders are refused after this
    cancel_reason   VARCHAR(50),                    -- 'customer', 'expired', 'payme:<reason>', 'click:<error>'
    fulfilled_at    DATETIME,                       -- prints handed out: a Payme refund is refused after
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX idx_payments_order_id ON payments(order_id);
CREATE INDEX idx_payments_transaction_id ON payments(transaction_id);
CREATE INDEX idx_payments_status_created ON payments(status, created_at);
CREATE INDEX idx_payments_created ON payments(created_at);
CREATE INDEX idx_payments_type_created ON payments(payment_type, created_at);

CREATE TABLE photos (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER REFERENCES payments(id) ON DELETE CASCADE,
    template_name   VARCHAR(50) NOT NULL,
    copy_count      INTEGER NOT NULL DEFAULT 1,
    composite_path  VARCHAR(255),
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_photos_payment ON photos(payment_id);

-- Payme transactions (Merchant API). Our `transaction` id is this row's id as a string.
CREATE TABLE payme_transactions (
    id              INTEGER PRIMARY KEY,
    payme_id        VARCHAR(64) UNIQUE NOT NULL,
    payment_id      INTEGER NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
    payme_time_ms   INTEGER NOT NULL,               -- params.time of CreateTransaction
    amount_tiyin    INTEGER NOT NULL,
    state           INTEGER NOT NULL CHECK (state IN (1, 2, -1, -2)),
    create_time_ms  INTEGER NOT NULL,
    perform_time_ms INTEGER NOT NULL DEFAULT 0,
    cancel_time_ms  INTEGER NOT NULL DEFAULT 0,
    reason          INTEGER,                        -- cancel reason as Payme sent it
    created_at      DATETIME NOT NULL
);
-- One order, one live transaction: the database itself refuses a second one.
CREATE UNIQUE INDEX idx_payme_live_per_payment ON payme_transactions(payment_id) WHERE state IN (1, 2);
CREATE INDEX idx_payme_time ON payme_transactions(payme_time_ms);

CREATE TABLE payme_fiscal_data (
    id              INTEGER PRIMARY KEY,
    payme_id        VARCHAR(64) NOT NULL,
    kind            VARCHAR(10) NOT NULL,           -- PERFORM or CANCEL
    receipt_id      INTEGER,
    status_code     INTEGER,
    message         TEXT,
    terminal_id     TEXT,
    fiscal_sign     TEXT,
    qr_code_url     TEXT,
    fiscal_date     TEXT,
    raw_json        TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_payme_fiscal_id ON payme_fiscal_data(payme_id);

-- Click SHOP attempts. merchant_prepare_id is this row's id.
CREATE TABLE click_transactions (
    id                  INTEGER PRIMARY KEY,
    click_trans_id      INTEGER UNIQUE NOT NULL,
    click_paydoc_id     INTEGER NOT NULL,
    payment_id          INTEGER NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
    amount_raw          VARCHAR(32) NOT NULL,       -- as Click sent it (hashed raw)
    state               VARCHAR(12) NOT NULL CHECK (state IN ('prepared', 'confirmed', 'cancelled')),
    click_error         INTEGER,
    click_error_note    TEXT,
    merchant_confirm_id INTEGER,
    prepared_at         DATETIME NOT NULL,
    confirmed_at        DATETIME,
    cancelled_at        DATETIME
);
CREATE INDEX idx_click_payment ON click_transactions(payment_id);
-- At most one confirmed attempt per order.
CREATE UNIQUE INDEX idx_click_confirmed_per_payment ON click_transactions(payment_id) WHERE state = 'confirmed';

-- Append-only log of everything that happened to a payment: provider callbacks, kiosk and staff actions.
CREATE TABLE payment_events (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
    source          VARCHAR(20) NOT NULL,           -- payme, click, kiosk, staff, system
    kind            VARCHAR(50) NOT NULL,           -- method / action, e.g. CreateTransaction, complete, cancel
    detail_json     TEXT,                           -- request and answer (never a secret)
    created_at      DATETIME NOT NULL
);
CREATE INDEX idx_events_payment ON payment_events(payment_id, id);
CREATE TRIGGER payment_events_append_only BEFORE UPDATE ON payment_events
BEGIN
    SELECT RAISE(ABORT, 'payment_events is append-only');
END;
