-- Refunds that return the money through the provider (issue 15): a Click reversal through the
-- Merchant API, or a Payme refund window (staff open it; Payme's CancelTransaction of the
-- performed transaction is accepted while it lasts). One row per order, updated as it goes; the
-- history is in payment_events and staff_audit. A refund "by hand" (cash, or a provider cabinet
-- the kiosk cannot see) has no row here: only `payments.cancel_reason = 'staff:refund'`.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.sss' like the rest of the schema.
CREATE TABLE provider_refunds (
    id                INTEGER PRIMARY KEY,
    payment_id        INTEGER NOT NULL UNIQUE REFERENCES payments(id) ON DELETE CASCADE,
    method            VARCHAR(20) NOT NULL CHECK (method IN ('click_reversal', 'payme_window')),
    -- click_reversal: requested (the call is under way) → done | refused (Click said no) |
    --                 failed (no answer: the outcome is unknown);
    -- payme_window:   open (until window_expires_at) → done (Payme's CancelTransaction came)
    state             VARCHAR(10) NOT NULL
                      CHECK (state IN ('requested', 'done', 'refused', 'failed', 'open')),
    amount            INTEGER NOT NULL,               -- whole sum, the order's amount
    reason            TEXT NOT NULL,                  -- the staff's reason
    actor             VARCHAR(20) NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 1,
    window_expires_at DATETIME,                       -- payme_window only
    provider_ref      TEXT,                           -- Click payment_id / Payme transaction id
    provider_code     INTEGER,                        -- Click error_code; Payme cancel reason
    provider_note     TEXT,                           -- Click error_note, or why there is no answer
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
