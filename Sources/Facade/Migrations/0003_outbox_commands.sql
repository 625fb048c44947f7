-- Outbox rows carry broker server-API commands, not only publications:
--   publish      channel + payload: POST /api/publish (inside /api/batch), idempotency_key = outbox-<id>
--   unsubscribe  channel + user_id: the broker ends that user's subscription to the channel on every node
--                (written with a member's removal or departure and a workspace's deletion).
-- Rows keep one id order, so a member.left publication is delivered before the unsubscribe that follows it.
ALTER TABLE outbox
    ADD COLUMN kind text NOT NULL DEFAULT 'publish' CHECK (kind IN ('publish', 'unsubscribe')),
    ADD COLUMN user_id uuid,
    ALTER COLUMN payload DROP NOT NULL,
    ADD CONSTRAINT outbox_kind_fields CHECK (
        CASE kind
            WHEN 'publish' THEN payload IS NOT NULL AND user_id IS NULL
            WHEN 'unsubscribe' THEN payload IS NULL AND user_id IS NOT NULL
        END);
