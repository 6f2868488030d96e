-- Notifications owns recipients, their channels, and every message with its attempts.
CREATE TABLE recipients (
    id text PRIMARY KEY,
    webhook_url text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
    id uuid PRIMARY KEY,
    event_source text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    recipient_id text NOT NULL,
    channel text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- One event gives one message per recipient and channel, however often it is delivered.
    UNIQUE (event_source, event_id, recipient_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    attempt integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL,
    http_status integer,
    error text,
    PRIMARY KEY (delivery_id, attempt)
);
