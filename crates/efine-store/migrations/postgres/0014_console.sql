-- The staff console: its reads, and schedule changes that wait for a second person.

-- A settlement file's lines, in file order, for its page in the import history
-- (ops::recon::items): without this every look at one file read every line ever imported.
CREATE INDEX settlement_items_file ON settlement_items (file_id, line);

-- A change to an offence's schedule (amount, days to pay, penalty terms) proposed in the
-- console: it takes effect as a new offence version only when a second person approves it
-- (ops::schedule). `base_version` is the version it was written against; a proposal whose
-- offence has moved on since cannot be approved.
CREATE TABLE schedule_proposals (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    department   TEXT NOT NULL,
    code         TEXT NOT NULL,
    base_version BIGINT NOT NULL,
    amount_paisa BIGINT NOT NULL CHECK (amount_paisa > 0),
    days_to_pay  BIGINT NOT NULL,
    penalty      TEXT NOT NULL,
    proposed_by  TEXT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX schedule_proposals_status ON schedule_proposals (status, department);
