-- Two kinds of invite:
--   email  made for one address: only a signed-in user whose account has that email may accept it
--   link   an open link: whoever holds it may accept it
-- Both expire and are single-use. Existing invites with an email become bound to it.
ALTER TABLE invites ADD COLUMN kind text NOT NULL DEFAULT 'link' CHECK (kind IN ('email', 'link'));
UPDATE invites SET kind = 'email' WHERE email IS NOT NULL;
ALTER TABLE invites
    ALTER COLUMN kind DROP DEFAULT,
    ADD CONSTRAINT invites_kind_email CHECK ((kind = 'email') = (email IS NOT NULL));
