/// Tables every service has in its own schema, created before the service's own migrations.
enum PlatformMigrations {
    static let all: [Migration] = [
        Migration(
            version: "0000_platform",
            sql: """
                -- Events waiting to be published (transactional outbox, DESIGN.md "Delivery guarantees").
                CREATE TABLE outbox (
                    seq bigserial PRIMARY KEY,
                    event_id text NOT NULL,
                    topic text NOT NULL,
                    kafka_key text,
                    event text NOT NULL,            -- the structured CloudEvent, exactly as published
                    traceparent text,               -- copied into the Kafka header of the same name
                    created_at timestamptz NOT NULL DEFAULT now(),
                    sent_at timestamptz,
                    attempts integer NOT NULL DEFAULT 0,
                    last_error text
                );
                CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

                -- Wake the relay when events are committed; it also polls in case a notification is missed.
                CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
                    RETURN NULL;
                END $$;
                CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
                    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

                -- Events already handled (idempotent inbox), keyed by CloudEvent source + id.
                CREATE TABLE inbox (
                    source text NOT NULL,
                    event_id text NOT NULL,
                    event_type text NOT NULL,
                    handled_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (source, event_id)
                );

                -- Every read or change of family data (DESIGN.md, HTTP).
                CREATE TABLE audit_log (
                    id bigserial PRIMARY KEY,
                    at timestamptz NOT NULL DEFAULT now(),
                    actor text NOT NULL,
                    role text NOT NULL,
                    action text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text NOT NULL,
                    case_id uuid,
                    outcome text NOT NULL DEFAULT 'allowed'
                );
                CREATE INDEX audit_log_case ON audit_log (case_id, at);
                """),
        Migration(
            version: "0000_platform_timers",
            sql: """
                -- Durable timers: due work as rows, claimed with SKIP LOCKED so each fires once,
                -- whatever restarts or however many replicas run. One timer per kind and subject.
                CREATE TABLE timers (
                    id bigserial PRIMARY KEY,
                    kind text NOT NULL,
                    subject text NOT NULL,
                    due_at timestamptz NOT NULL,
                    payload text NOT NULL DEFAULT '{}',
                    fired_at timestamptz,
                    UNIQUE (kind, subject)
                );
                CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
                """),
    ]
}
