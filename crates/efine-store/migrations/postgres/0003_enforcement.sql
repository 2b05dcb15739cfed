-- Enforcement: penalty schedules on offences (copied onto each challan at issue), the
-- projection of appeals and escalation onto challans, cancellation requests and appeals.
-- Every change to these rows is written with its event (cancellation.*, appeal.*,
-- challan.surcharged, challan.escalated) in the same transaction; `efine audit verify` replays
-- the events and compares.

-- The penalty terms as JSON (efine_core::penalty::PenaltySchedule). Rows from before this
-- migration get the old rule: doubled the day after the due date, no stages.
ALTER TABLE offences ADD COLUMN penalty TEXT NOT NULL DEFAULT '{"surcharge":{"kind":"double"}}';
ALTER TABLE challans ADD COLUMN penalty TEXT NOT NULL DEFAULT '{"surcharge":{"kind":"double"}}';

-- Projections of later events (efine_core::penalty::Adjustments).
ALTER TABLE challans ADD COLUMN paused_days BIGINT NOT NULL DEFAULT 0;  -- under decided appeals
ALTER TABLE challans ADD COLUMN paused_since TEXT;                       -- open appeal, local day
ALTER TABLE challans ADD COLUMN reduced_amount_paisa BIGINT;             -- appeal reduced it
ALTER TABLE challans ADD COLUMN stage TEXT;                              -- latest enforcement stage
ALTER TABLE challans ADD COLUMN surcharged BIGINT NOT NULL DEFAULT 0;    -- surcharge recorded
-- The escalation job reads unpaid challans only.
CREATE INDEX challans_unpaid ON challans (due_date) WHERE status = 'unpaid';

-- Four-eyes cancellation: a request by one user, a decision by a supervisor of the department
-- who is someone else. At most one open request per challan.
CREATE TABLE cancellations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    challan_number TEXT NOT NULL REFERENCES challans (number),
    department     TEXT NOT NULL,
    district       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by     TEXT,
    decided_at     BIGINT,
    decision_note  TEXT
);
CREATE UNIQUE INDEX cancellations_one_open ON cancellations (challan_number)
    WHERE status = 'pending';
CREATE INDEX cancellations_status ON cancellations (status, department, district);

-- Appeals lodged by citizens, decided by a supervisor who did not issue the challan. Evidence
-- (optional, size-limited) is kept base64-encoded with its SHA-256. At most one open appeal
-- per challan.
CREATE TABLE appeals (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    challan_number       TEXT NOT NULL REFERENCES challans (number),
    department           TEXT NOT NULL,
    district             TEXT NOT NULL,
    reason               TEXT NOT NULL,
    evidence_name        TEXT,
    evidence_type        TEXT,
    evidence_sha256      TEXT,
    evidence_base64      TEXT,
    lodged_at            BIGINT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'decided', 'closed')),  -- closed: paid or cancelled while open
    outcome              TEXT CHECK (outcome IN ('uphold', 'reduce', 'quash')),
    decided_amount_paisa BIGINT,
    decided_by           TEXT,
    decided_at           BIGINT,
    decision_note        TEXT
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (challan_number) WHERE status = 'pending';
CREATE INDEX appeals_status ON appeals (status, department, district);
