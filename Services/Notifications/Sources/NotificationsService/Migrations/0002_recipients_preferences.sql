-- Issue 6: recipients with their role, areas, language and preferences; messages with their
-- rendered text, urgency and the in-app feed's read mark; quiet hours and the daily digest.
ALTER TABLE recipients
    ADD COLUMN role text,
    ADD COLUMN display_name text,
    ADD COLUMN email text,
    ADD COLUMN language text NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'en')),
    ADD COLUMN areas text[] NOT NULL DEFAULT '{}',
    -- Channels per urgency, in the order they are tried: `in-app`, `email`, `webhook`.
    ADD COLUMN urgent_channels text[],
    ADD COLUMN normal_channels text[],
    -- Quiet hours in the Netherlands' local time; urgent messages go through.
    ADD COLUMN quiet_from time,
    ADD COLUMN quiet_to time,
    -- Non-urgent e-mail and webhook messages wait for one daily digest.
    ADD COLUMN digest boolean NOT NULL DEFAULT false,
    -- Known from another service's events (a volunteer who stopped is no longer notified).
    ADD COLUMN active boolean NOT NULL DEFAULT true;
CREATE INDEX recipients_role ON recipients (role) WHERE active;

ALTER TABLE deliveries
    ADD COLUMN urgency text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent')),
    ADD COLUMN subject text NOT NULL DEFAULT '',
    ADD COLUMN message text NOT NULL DEFAULT '',
    -- When the event was published: the start of the event-to-receipt latency.
    ADD COLUMN event_time timestamptz,
    -- The in-app feed's read mark.
    ADD COLUMN read_at timestamptz,
    -- A sender that claimed the message holds it until then; after a crash it is sent again
    -- (with the same idempotency key) once the claim has run out.
    ADD COLUMN claimed_until timestamptz,
    -- A non-urgent message waiting for the recipient's digest, and the digest it went out in.
    ADD COLUMN bundled_into uuid;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed', 'digest', 'bundled'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('in-app', 'email', 'webhook'));
CREATE INDEX deliveries_feed ON deliveries (recipient_id, created_at DESC) WHERE channel = 'in-app';
CREATE INDEX deliveries_digest ON deliveries (recipient_id) WHERE status = 'digest';
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
