-- Transactional outbox: rows are inserted in the same transaction as the change they announce,
-- and the relay publishes them to the broker.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    channel         text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    -- Earliest time the relay may try again (exponential backoff after failures).
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- Wake relays as soon as the inserting transaction commits (NOTIFY is delivered at commit).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('facade_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify_after_insert
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
