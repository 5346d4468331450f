-- Fiscal receipts of Click sales (issue 15, click.md 10a): after a confirmed Complete the kiosk
-- asks Click's Merchant API whether it holds a receipt (GET payment/ofd_data), and otherwise
-- submits the receipt items (POST payment/ofd_data/submit_items) exactly once, then reads the
-- link back. One row per paid Click order, updated as the job goes; each try's requests and
-- answers are in payment_events (source 'system', kind 'click_fiscal').
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.sss' like the rest of the schema.
CREATE TABLE click_fiscal (
    id               INTEGER PRIMARY KEY,
    payment_id       INTEGER NOT NULL UNIQUE REFERENCES payments(id) ON DELETE CASCADE,
    click_payment_id INTEGER NOT NULL,            -- Click's payment id (the click_paydoc_id)
    -- pending    nothing submitted yet (or Click refused the items): the next try asks first;
    -- submitting the items are being sent: the outcome is unknown until a GET shows the receipt
    --            (a crash between the POST and its answer leaves this; the next try asks first);
    -- submitted  Click accepted the items (error_code 0): only GET from now on, never POST;
    -- done       the receipt link is known (origin: 'click' issued it, or 'kiosk' submitted it);
    -- failed     the last try passed without a link: a staff alert names the order;
    -- skipped    the order was refunded before it had a receipt.
    state            VARCHAR(12) NOT NULL
                     CHECK (state IN ('pending', 'submitting', 'submitted', 'done', 'failed',
                                      'skipped')),
    origin           VARCHAR(8) CHECK (origin IN ('click', 'kiosk')),
    attempts         INTEGER NOT NULL DEFAULT 0,  -- tries begun
    next_try_at      DATETIME,                    -- NULL once done, failed or skipped
    last_error       TEXT,
    receipt_url      TEXT,                        -- Click's qrCodeURL (the ofd.soliq.uz link)
    submitted_at     DATETIME,                    -- the POST Click accepted
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE INDEX idx_click_fiscal_due ON click_fiscal(state, next_try_at);
-- The job finds confirmed Click attempts without a row by their confirmation time.
CREATE INDEX idx_click_confirmed_at ON click_transactions(confirmed_at) WHERE state = 'confirmed';
