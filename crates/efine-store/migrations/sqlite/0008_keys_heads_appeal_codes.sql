-- QR signing keys, shared by every node through the database. The private key is sealed with
-- AES-256-GCM under a key-encryption key that never enters the database (an environment
-- variable or a file): `sealed` is base64 of nonce (12 bytes) || ciphertext and tag, the key id
-- being the associated data, so a sealed key copied to another row does not open. The public
-- key is kept in the clear: publishing and verifying need no key-encryption key. `n` orders the
-- keys; the highest signs, all verify. Never updated or deleted: a rotation adds a row.
CREATE TABLE signing_keys (
    n          BIGINT PRIMARY KEY,
    kid        TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    public_key TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    kek_id     TEXT NOT NULL
);

CREATE TRIGGER signing_keys_append_only_u BEFORE UPDATE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'signing keys are append-only'); END;
CREATE TRIGGER signing_keys_append_only_d BEFORE DELETE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'signing keys are append-only'); END;

-- Published heads of the event log: the chain head (sequence and hash) signed with the signing
-- key at the time, kept as a history anyone may download. A copy saved outside proves later
-- that the database still holds every published head (`efine audit verify --against`). One row
-- per sequence: publishing again while the head has not moved adds nothing.
CREATE TABLE log_heads (
    seq          BIGINT PRIMARY KEY,
    hash         TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    kid          TEXT NOT NULL,
    signature    TEXT NOT NULL
);

CREATE TRIGGER log_heads_append_only_u BEFORE UPDATE ON log_heads
BEGIN SELECT RAISE(ABORT, 'published log heads are append-only'); END;
CREATE TRIGGER log_heads_append_only_d BEFORE DELETE ON log_heads
BEGIN SELECT RAISE(ABORT, 'published log heads are append-only'); END;

-- One-time codes proving that an appeal comes from the person charged, sent to the challan's
-- mobile through the notification outbox. Only a salted SHA-256 of a code is kept; `tries`
-- counts wrong codes (void after a few), `used_at` marks the code an appeal was lodged with.
CREATE TABLE appeal_codes (
    challan_number TEXT NOT NULL,
    n              BIGINT NOT NULL,
    code_hash      TEXT NOT NULL,
    salt           TEXT NOT NULL,
    sent_to        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    tries          BIGINT NOT NULL,
    used_at        BIGINT,
    PRIMARY KEY (challan_number, n)
);

-- Wrong CNICs given as the proof for an appeal (challans without a mobile), counted per
-- challan and day.
CREATE TABLE appeal_proof_failures (
    challan_number TEXT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX appeal_proof_failures_challan ON appeal_proof_failures (challan_number, at);
