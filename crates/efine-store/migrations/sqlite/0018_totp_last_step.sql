-- The last TOTP time step (seconds since the epoch / 30) accepted for an account, so that a code
-- is accepted once: a login whose code is of this step or an older one is refused (ASVS 6.5.1).
-- Kept in the database rather than in a node's memory so that every node sharing it agrees.
-- NULL until a code is accepted; enrolling a new secret clears it.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
