-- Staff console sessions (browser login). The cookie carries a random token; only its SHA-256
-- is stored, so a leaked table opens nothing. A session ends at expires_at or when a row in
-- console_logouts names it; neither table is ever updated or deleted from.
CREATE TABLE console_sessions (
    session_hash TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

CREATE TABLE console_logouts (
    session_hash TEXT PRIMARY KEY REFERENCES console_sessions (session_hash),
    at           BIGINT NOT NULL
);

CREATE TRIGGER console_sessions_append_only BEFORE UPDATE OR DELETE ON console_sessions
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
CREATE TRIGGER console_logouts_append_only BEFORE UPDATE OR DELETE ON console_logouts
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
