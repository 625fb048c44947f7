-- Per-channel commit order with several relays.
--
-- Partitions: every outbox row belongs to one of 16 partitions, hash(channel) mod 16, so all the rows of a
-- channel (its publications and its unsubscribes) are in one partition. A relay process leases partitions
-- (outbox_partitions: owner + lease_until, renewed while it runs) and only the owner sends a partition's rows.
-- outbox_relays lists the live relays so each takes its share (16 / live relays, rounded up).
--
-- Commit order: `seq` numbers a partition's rows in the order their transactions committed. A deferred
-- trigger runs as the inserting transaction commits: it takes a transaction-scoped advisory lock on every
-- partition the transaction wrote to, in partition order (so two committing transactions cannot deadlock),
-- then numbers the transaction's rows, in id order, from outbox_seq. A later transaction that wrote to the same
-- partition waits for that lock, which is held until the first one has committed, so it draws larger numbers.
-- Hence within a partition seq order is commit order, and whoever sees a row also sees every smaller seq of
-- its partition. (Ids are drawn at insert, so two concurrent transactions can commit in the other order.)
CREATE SEQUENCE outbox_seq;

ALTER TABLE outbox
    ADD COLUMN partition smallint NOT NULL GENERATED ALWAYS AS ((hashtextextended(channel, 0) & 15)::smallint) STORED,
    -- The inserting (top-level) transaction, for the commit trigger to find its rows.
    ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ADD COLUMN seq bigint;

UPDATE outbox o SET seq = n.seq
FROM (SELECT id, nextval('outbox_seq') AS seq FROM (SELECT id FROM outbox ORDER BY id) ordered) n
WHERE o.id = n.id;

DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_seq_idx ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_unnumbered_idx ON outbox (xid) WHERE seq IS NULL;

CREATE FUNCTION outbox_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p smallint;
BEGIN
    -- The first of the transaction's rows to fire numbers all of them.
    IF NOT EXISTS (SELECT 1 FROM outbox WHERE id = NEW.id AND seq IS NULL) THEN
        RETURN NULL;
    END IF;
    FOR p IN
        SELECT DISTINCT partition FROM outbox WHERE xid = pg_current_xact_id() AND seq IS NULL ORDER BY partition
    LOOP
        -- 0x6f62 ('ob'): this lock space; the two-key form never collides with single-key advisory locks.
        PERFORM pg_advisory_xact_lock(28514, p);
    END LOOP;
    UPDATE outbox o SET seq = n.seq
    FROM (SELECT id, nextval('outbox_seq') AS seq
          FROM (SELECT id FROM outbox WHERE xid = pg_current_xact_id() AND seq IS NULL ORDER BY id) mine) n
    WHERE o.id = n.id;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER outbox_number_at_commit
    AFTER INSERT ON outbox
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION outbox_number_at_commit();

CREATE TABLE outbox_partitions (
    partition   smallint PRIMARY KEY,
    owner       uuid,
    lease_until timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO outbox_partitions (partition) SELECT generate_series(0, 15);

CREATE TABLE outbox_relays (
    owner       uuid PRIMARY KEY,
    alive_until timestamptz NOT NULL
);
