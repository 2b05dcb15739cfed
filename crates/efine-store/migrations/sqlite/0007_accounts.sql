-- Staff account security: login throttling, the second factor, account lifecycle and role
-- grants that need a second admin.

-- Failed logins per key ('account:<username>', 'address:<ip>', '1bill:<ip>'), shared by every
-- node. An attempt is counted before its password is checked and given back when it was right
-- (efine_core::auth::throttle); blocked_until is when the key may try again.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until   BIGINT
);

-- The TOTP secret (RFC 6238, base32) once the account has enrolled; NULL before.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
-- Bearer tokens and console sessions opened before this instant are over: disabling an
-- account or resetting its password sets it, so nothing opened earlier comes back on enable.
ALTER TABLE users ADD COLUMN sessions_after BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes (SHA-256 of the code); used_at is set when one is spent.
CREATE TABLE recovery_codes (
    user_id   BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A role that approves (supervisor, department admin, finance, admin) given in the console
-- waits here for a second admin; the account stays inactive until then.
CREATE TABLE role_grants (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    status       TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX role_grants_status ON role_grants (status, id);

-- The last request of each console session, for the idle timeout (console_sessions itself is
-- append-only). Written at most once a minute per session.
CREATE TABLE console_session_seen (
    session_hash TEXT PRIMARY KEY REFERENCES console_sessions (session_hash),
    seen_at      BIGINT NOT NULL
);
