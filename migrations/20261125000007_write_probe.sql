-- The write probe's scratch table: while the database cannot be written (disk full, I/O error),
-- the maintenance task inserts a row bigger than a page here and deletes it in the same
-- committed transaction (`Store::probe_write`); it is always empty.
CREATE TABLE write_probe (
    id      INTEGER PRIMARY KEY,
    filler  BLOB NOT NULL
);
