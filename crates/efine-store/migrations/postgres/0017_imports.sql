-- Historical imports (`efine import`): how far each file has got, and the earlier system's
-- numbers that did not fit E-Fine's number format.

-- One row per file, keyed by the SHA-256 of its bytes. `lines_done` is the last line of the file
-- whose record is committed; it is updated in the transaction that writes the records, so an
-- import stopped at any point (even by kill -9) resumes after exactly that line and never writes
-- a record twice.
CREATE TABLE imports (
    digest      TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    lines_done  BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    finished_at BIGINT
);

-- An imported challan whose earlier number was not an E-Fine number (or belonged to another
-- department, district or year) got a new number; the earlier one is kept here, unique, so it
-- can still be looked up and never imported twice.
CREATE TABLE import_numbers (
    earlier_number TEXT PRIMARY KEY,
    challan_number TEXT NOT NULL UNIQUE REFERENCES challans (number)
);
