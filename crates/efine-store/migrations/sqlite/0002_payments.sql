-- Payments: attempts on each rail, the raw messages the rails sent, receipts, refund liabilities,
-- and the double-entry ledger. Money moves only by new rows; nothing here is updated or deleted
-- except an attempt's state, which is a projection of its payment.* events.

CREATE TABLE payment_attempts (
    id             INTEGER PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,      -- ours, sent to the rail (pp_TxnRefNo...)
    rail           TEXT NOT NULL,
    challan_number TEXT NOT NULL REFERENCES challans (number),
    amount_paisa   BIGINT NOT NULL CHECK (amount_paisa > 0),
    state          TEXT NOT NULL,
    rail_txn_id    TEXT,                      -- the rail's own id, once known
    created_by     TEXT NOT NULL,             -- who opened it: citizen, a bank, a cashier
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
-- One rail transaction credits at most one attempt, whatever the rail replays.
CREATE UNIQUE INDEX payment_attempts_rail_txn ON payment_attempts (rail, rail_txn_id)
    WHERE rail_txn_id IS NOT NULL;
CREATE INDEX payment_attempts_challan ON payment_attempts (challan_number);
CREATE INDEX payment_attempts_state ON payment_attempts (state, created_at);

-- Every message a rail sent us, as received (credentials removed), with what we made of it.
CREATE TABLE rail_messages (
    id          INTEGER PRIMARY KEY,
    rail        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    reference   TEXT,
    body        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX rail_messages_reference ON rail_messages (reference);

-- One receipt per paid challan; numbers gap-free per year.
CREATE TABLE receipts (
    number         TEXT PRIMARY KEY,
    year           BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    attempt_id     BIGINT NOT NULL UNIQUE REFERENCES payment_attempts (id),
    challan_number TEXT NOT NULL UNIQUE REFERENCES challans (number),
    rail           TEXT NOT NULL,
    amount_paisa   BIGINT NOT NULL,
    paid_at        BIGINT NOT NULL,
    UNIQUE (year, seq)
);

-- Money taken that was not owed (a challan already paid or cancelled): owed back to the payer.
CREATE TABLE refund_liabilities (
    id             INTEGER PRIMARY KEY,
    attempt_id     BIGINT NOT NULL UNIQUE REFERENCES payment_attempts (id),
    challan_number TEXT NOT NULL,
    rail           TEXT NOT NULL,
    amount_paisa   BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Paying a liability back: requested by one finance user, approved by another (four eyes).
CREATE TABLE refunds (
    id           INTEGER PRIMARY KEY,
    liability_id BIGINT NOT NULL UNIQUE REFERENCES refund_liabilities (id),
    amount_paisa BIGINT NOT NULL,
    state        TEXT NOT NULL,              -- requested, approved (and sent), rejected
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    rail_ref     TEXT                        -- the rail's id for the refund, once sent
);

-- Settlement files from the rails, each imported once, and what each line matched.
CREATE TABLE settlement_files (
    id          INTEGER PRIMARY KEY,
    rail        TEXT NOT NULL,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    imported_by TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    lines       BIGINT NOT NULL
);

CREATE TABLE settlement_items (
    id           INTEGER PRIMARY KEY,
    file_id      BIGINT NOT NULL REFERENCES settlement_files (id),
    line         BIGINT NOT NULL,
    rail_txn_id  TEXT NOT NULL,
    reference    TEXT,
    amount_paisa BIGINT NOT NULL,
    outcome      TEXT NOT NULL,     -- matched, corrected, missing_here, amount_differs, duplicate
    detail       TEXT NOT NULL
);

-- A confirmed payment the rail has settled to the bank: once.
CREATE TABLE settlements (
    attempt_id   BIGINT PRIMARY KEY REFERENCES payment_attempts (id),
    file_id      BIGINT NOT NULL REFERENCES settlement_files (id),
    amount_paisa BIGINT NOT NULL,
    settled_on   TEXT NOT NULL
);

CREATE TABLE journals (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    reference TEXT NOT NULL,
    at        BIGINT NOT NULL
);

CREATE TABLE postings (
    id           INTEGER PRIMARY KEY,
    journal_id   BIGINT NOT NULL REFERENCES journals (id),
    account      TEXT NOT NULL,
    debit_paisa  BIGINT NOT NULL CHECK (debit_paisa >= 0),
    credit_paisa BIGINT NOT NULL CHECK (credit_paisa >= 0),
    CHECK (debit_paisa = 0 OR credit_paisa = 0)
);
CREATE INDEX postings_account ON postings (account);
CREATE INDEX postings_journal ON postings (journal_id);

CREATE TRIGGER rail_messages_append_only_u BEFORE UPDATE ON rail_messages
BEGIN SELECT RAISE(ABORT, 'rail messages are append-only'); END;
CREATE TRIGGER rail_messages_append_only_d BEFORE DELETE ON rail_messages
BEGIN SELECT RAISE(ABORT, 'rail messages are append-only'); END;
CREATE TRIGGER receipts_append_only_u BEFORE UPDATE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER receipts_append_only_d BEFORE DELETE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER journals_append_only_u BEFORE UPDATE ON journals
BEGIN SELECT RAISE(ABORT, 'journals are append-only'); END;
CREATE TRIGGER journals_append_only_d BEFORE DELETE ON journals
BEGIN SELECT RAISE(ABORT, 'journals are append-only'); END;
CREATE TRIGGER postings_append_only_u BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_append_only_d BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER payment_attempts_no_delete BEFORE DELETE ON payment_attempts
BEGIN SELECT RAISE(ABORT, 'payment attempts are never deleted'); END;
