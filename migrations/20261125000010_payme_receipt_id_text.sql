-- Payme's SetFiscalData `receipt_id` may come as a number or a string (issue 15): the column
-- was INTEGER, read as a 64-bit integer, so a string (non-numeric) could not be kept or read.
-- It is TEXT now (a number is kept as its decimal text). SQLite cannot change a column's type:
-- the table is rebuilt with the same rows and ids, and a string id that was lost before is taken
-- back from the row's `raw_json` (the whole `fiscal_data` as Payme sent it).
CREATE TABLE payme_fiscal_data_new (
    id              INTEGER PRIMARY KEY,
    payme_id        VARCHAR(64) NOT NULL,
    kind            VARCHAR(10) NOT NULL,           -- PERFORM or CANCEL
    receipt_id      TEXT,                           -- as Payme sent it (number as decimal text)
    status_code     INTEGER,
    message         TEXT,
    terminal_id     TEXT,
    fiscal_sign     TEXT,
    qr_code_url     TEXT,                           -- the tax committee's receipt link
    fiscal_date     TEXT,
    raw_json        TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);
INSERT INTO payme_fiscal_data_new (id, payme_id, kind, receipt_id, status_code, message,
                                   terminal_id, fiscal_sign, qr_code_url, fiscal_date, raw_json,
                                   created_at)
SELECT id, payme_id, kind,
       COALESCE(CAST(receipt_id AS TEXT),
                CASE WHEN json_valid(raw_json)
                      AND json_type(raw_json, '$.receipt_id') IN ('text', 'integer', 'real')
                     THEN CAST(json_extract(raw_json, '$.receipt_id') AS TEXT) END),
       status_code, message, terminal_id,
       fiscal_sign, qr_code_url, fiscal_date, raw_json, created_at
FROM payme_fiscal_data;
DROP TABLE payme_fiscal_data;
ALTER TABLE payme_fiscal_data_new RENAME TO payme_fiscal_data;
CREATE INDEX idx_payme_fiscal_id ON payme_fiscal_data(payme_id);
