-- Foundation: catalogue, staff, challans, idempotency keys and the hash-chained event log.
-- Instants are microseconds since the Unix epoch (UTC); dates are local (Asia/Karachi)
-- 'YYYY-MM-DD' text; money is paisa. Column types mirror the PostgreSQL migration.

CREATE TABLE districts (
    code     TEXT PRIMARY KEY,
    abbr     TEXT NOT NULL UNIQUE,
    number   BIGINT NOT NULL UNIQUE,   -- inside PSIDs: never reused
    name_en  TEXT NOT NULL,
    name_ur  TEXT NOT NULL,
    division TEXT NOT NULL
);

CREATE TABLE departments (
    code    TEXT PRIMARY KEY,
    abbr    TEXT NOT NULL UNIQUE,
    number  BIGINT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_ur TEXT NOT NULL
);

-- Each change to an offence or fee is a new version; challans point at the version in force
-- when they were issued, so a schedule change never alters an issued challan.
CREATE TABLE offences (
    id              INTEGER PRIMARY KEY,
    department      TEXT NOT NULL REFERENCES departments (code),
    code            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('fine', 'fee')),
    name_en         TEXT NOT NULL,
    name_ur         TEXT NOT NULL,
    amount_paisa    BIGINT NOT NULL CHECK (amount_paisa > 0),
    days_to_pay     BIGINT NOT NULL CHECK (days_to_pay > 0),
    legal_reference TEXT NOT NULL,
    active          BIGINT NOT NULL DEFAULT 1,
    effective_from  BIGINT NOT NULL,
    UNIQUE (department, code, version)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,           -- Argon2id PHC string
    role          TEXT NOT NULL,
    department    TEXT REFERENCES departments (code),
    district      TEXT REFERENCES districts (code),
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

-- Bearer tokens are stored as SHA-256 of the token: a leaked table grants nothing.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Gap-free sequences (challan numbers per department, district and year). Incremented inside
-- the issuing transaction, so a rolled-back issue gives its number back.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE challans (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    psid              TEXT NOT NULL UNIQUE,
    department        TEXT NOT NULL REFERENCES departments (code),
    district          TEXT NOT NULL REFERENCES districts (code),
    year              BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    offence_id        BIGINT NOT NULL REFERENCES offences (id),
    offence_code      TEXT NOT NULL,
    offence_version   BIGINT NOT NULL,
    kind              TEXT NOT NULL,
    amount_paisa      BIGINT NOT NULL,
    issued_at         BIGINT NOT NULL,
    due_date          TEXT NOT NULL,
    officer_id        BIGINT NOT NULL REFERENCES users (id),
    officer           TEXT NOT NULL,
    vehicle           TEXT,
    vehicle_authority TEXT,
    cnic              TEXT,
    mobile            TEXT,
    name              TEXT,
    lat_micro         BIGINT,
    lon_micro         BIGINT,
    location_text     TEXT,
    notes             TEXT,
    -- A projection of the challan's events, updated in the transaction that appends them.
    status            TEXT NOT NULL,
    UNIQUE (department, district, year, seq)
);
CREATE INDEX challans_vehicle ON challans (vehicle) WHERE vehicle IS NOT NULL;
CREATE INDEX challans_cnic ON challans (cnic) WHERE cnic IS NOT NULL;
CREATE INDEX challans_issued_at ON challans (issued_at);

CREATE TABLE idempotency_keys (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- The append-only, hash-chained event log. Each row's hash covers the previous row's hash and
-- all its own fields; `efine audit verify` recomputes the chain.
CREATE TABLE events (
    seq       BIGINT PRIMARY KEY,
    at_micros BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    actor     TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX events_subject ON events (subject, seq);

-- The application never updates or deletes an event; these make an accidental attempt fail.
-- (Someone with the database file can drop them: that is what the hash chain is for.)
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER challans_no_delete BEFORE DELETE ON challans
BEGIN SELECT RAISE(ABORT, 'challans are never deleted'); END;

-- The last event's sequence and hash: the one row every write serialises on.
CREATE TABLE chain_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
