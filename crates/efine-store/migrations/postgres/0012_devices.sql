-- Officers' enrolled devices (the field app). A device is named by its department, district and
-- slot (`TRF-PSH-007`); the slot is part of every challan number the device allocates
-- (efine_core::device), so two devices can never hand out the same number. The public key is
-- the phone's own Ed25519 key (the private half never leaves the phone); `kid` is its QR key id.
-- `revoked_at` ends what the key vouches for; `last_counter` and `last_sync_at` are kept by the
-- sync for the console. Enrolment, revocation and every synced challan are events in the log.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    kid          TEXT NOT NULL UNIQUE,
    public_key   TEXT NOT NULL,
    officer_id   BIGINT NOT NULL REFERENCES users (id),
    officer      TEXT NOT NULL,
    department   TEXT NOT NULL REFERENCES departments (code),
    district     TEXT NOT NULL REFERENCES districts (code),
    slot         BIGINT NOT NULL,
    enrolled_by  TEXT NOT NULL,
    valid_from   BIGINT NOT NULL,
    revoked_at   BIGINT,
    revoked_by   TEXT,
    last_counter BIGINT NOT NULL DEFAULT 0,
    last_sync_at BIGINT,
    UNIQUE (department, district, slot)
);
CREATE INDEX devices_officer ON devices (officer_id);

-- One-time enrolment codes made in the console for one officer. Only SHA-256 of the code is
-- kept; a code works once and until `expires_at`.
CREATE TABLE device_enrolment_codes (
    code_hash  TEXT PRIMARY KEY,
    officer_id BIGINT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    device_id  TEXT
);

-- The challans a device issued, one row per (device, counter): what makes a sync idempotent.
-- `item_hash` is SHA-256 of the signed item's text, so the same item sent again is "already had
-- it" and another item under a used counter is refused. `issued_at` is the device's, `received_at`
-- the server's.
CREATE TABLE device_challans (
    device_id      TEXT NOT NULL REFERENCES devices (id),
    counter        BIGINT NOT NULL,
    challan_number TEXT NOT NULL UNIQUE,
    item_hash      TEXT NOT NULL,
    issued_at      BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    accuracy_m     BIGINT,
    PRIMARY KEY (device_id, counter)
);

-- Photos taken with a challan (at most three), compressed on the phone. `id` is 32 random hex
-- digits: the only way to a photo, never derived from the challan number. Base64 text, so both
-- databases store it alike.
CREATE TABLE challan_photos (
    id             TEXT PRIMARY KEY,
    challan_number TEXT NOT NULL,
    n              BIGINT NOT NULL,
    content_type   TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    data_base64    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (challan_number, n)
);

-- What a device synced is never changed or removed.
CREATE TRIGGER device_challans_append_only BEFORE UPDATE OR DELETE ON device_challans
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
CREATE TRIGGER challan_photos_append_only BEFORE UPDATE OR DELETE ON challan_photos
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
