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
    id              INTEGER PRIMARY KEY,
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
    id              INTEGER PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications (id),
    attempt         BIGINT NOT NULL,
    node            TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail          TEXT NOT NULL,
    UNIQUE (notification_id, attempt)
);

CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications
BEGIN SELECT RAISE(ABORT, 'notifications are never deleted'); END;
CREATE TRIGGER notifications_text_fixed BEFORE UPDATE OF key, challan_number, reason, channel,
    recipient, body, event_seq, created_at ON notifications
BEGIN SELECT RAISE(ABORT, 'a notification''s text and recipient never change'); END;
CREATE TRIGGER notification_attempts_append_only_u BEFORE UPDATE ON notification_attempts
BEGIN SELECT RAISE(ABORT, 'notification attempts are append-only'); END;
CREATE TRIGGER notification_attempts_append_only_d BEFORE DELETE ON notification_attempts
BEGIN SELECT RAISE(ABORT, 'notification attempts are append-only'); END;
CREATE TRIGGER notify_recipients_append_only_u BEFORE UPDATE ON notify_recipients
BEGIN SELECT RAISE(ABORT, 'recipients are append-only'); END;
CREATE TRIGGER notify_recipients_append_only_d BEFORE DELETE ON notify_recipients
BEGIN SELECT RAISE(ABORT, 'recipients are append-only'); END;
