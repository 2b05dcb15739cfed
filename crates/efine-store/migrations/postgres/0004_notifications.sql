-- Notifications: an outbox of SMS and e-mail messages to the people a challan concerns, derived
-- from the event log, and every delivery attempt. A message is never deleted and its text and
-- recipient never change; its status, attempt count, next-attempt time and lease are a
-- projection of its rows in notification_attempts.

-- How far the event log has been turned into messages. Starts at the current head, so turning
-- notifications on for an existing database does not message its whole history. Advanced in the
-- same transaction as the messages it enqueues.
CREATE TABLE notify_cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO notify_cursors (name, seq) SELECT 'events', seq FROM chain_head WHERE id = 1;

-- Whom a challan's messages go to: the mobile written on the challan or, for a challan issued
-- against a plate alone, the registered owner as the vehicle registry answered. Looked up once.
CREATE TABLE notify_recipients (
    challan_number TEXT PRIMARY KEY REFERENCES challans (number),
    source         TEXT NOT NULL CHECK (source IN ('challan', 'registry', 'none')),
    mobile         TEXT,
    email          TEXT,
    owner_name     TEXT,
    owner_cnic     TEXT,
    looked_up_at   BIGINT NOT NULL
);

CREATE TABLE notifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- challan:reason:channel. The unique index is what keeps a message from ever being queued
    -- twice, whichever node derives it and however often.
    key             TEXT NOT NULL UNIQUE,
    challan_number  TEXT NOT NULL REFERENCES challans (number),
    reason          TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    event_seq       BIGINT,            -- the event it came from; NULL for reminders
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,              -- the node sending it now, until lease_until
    lease_until     BIGINT,
    sent_at         BIGINT,
    provider_ref    TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_challan ON notifications (challan_number);
CREATE INDEX challans_unpaid_due ON challans (due_date) WHERE status = 'unpaid';

CREATE TABLE notification_attempts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications (id),
    attempt         BIGINT NOT NULL,
    node            TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail          TEXT NOT NULL,
    UNIQUE (notification_id, attempt)
);

CREATE FUNCTION efine_notification_text_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key IS DISTINCT FROM OLD.key OR NEW.challan_number IS DISTINCT FROM OLD.challan_number
       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.channel IS DISTINCT FROM OLD.channel
       OR NEW.recipient IS DISTINCT FROM OLD.recipient OR NEW.body IS DISTINCT FROM OLD.body
       OR NEW.event_seq IS DISTINCT FROM OLD.event_seq OR NEW.created_at IS DISTINCT FROM OLD.created_at
    THEN
        RAISE EXCEPTION 'a notification''s text and recipient never change';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
CREATE TRIGGER notifications_text_fixed BEFORE UPDATE ON notifications
    FOR EACH ROW EXECUTE FUNCTION efine_notification_text_fixed();
CREATE TRIGGER notification_attempts_append_only BEFORE UPDATE OR DELETE ON notification_attempts
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
CREATE TRIGGER notify_recipients_append_only BEFORE UPDATE OR DELETE ON notify_recipients
    FOR EACH ROW EXECUTE FUNCTION efine_refuse_change();
