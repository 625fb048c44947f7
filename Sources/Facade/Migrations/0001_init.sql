-- Core schema of the Scrumble facade.
-- Every workspace operation acts as a member (members.id), never as the bare user.

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL,
    password_hash   text,
    google_subject  text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared case-insensitively.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE workspaces (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    time_zone   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    display_name  text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
    joined_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE invites (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id         uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    token                text NOT NULL UNIQUE,
    email                text,
    created_by_member_id uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    expires_at           timestamptz NOT NULL,
    accepted_at          timestamptz,
    accepted_by_member_id uuid REFERENCES members(id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE posts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    member_id     uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('checkin', 'checkout')),
    -- The calendar day in the workspace's time zone when the post was created.
    local_date    date NOT NULL,
    body          text NOT NULL,
    -- A check-out links to that day's check-in.
    checkin_id    uuid REFERENCES posts(id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    edited_at     timestamptz,
    CHECK ((kind = 'checkout') = (checkin_id IS NOT NULL))
);
-- One check-in and one check-out per member per local day.
CREATE UNIQUE INDEX posts_one_per_day_key ON posts (member_id, kind, local_date);
-- Keyset pagination of the feed.
CREATE INDEX posts_feed_idx ON posts (workspace_id, created_at DESC, id DESC);

CREATE TABLE comments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    member_id   uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_post_idx ON comments (post_id, created_at DESC, id DESC);

CREATE TABLE reactions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id   uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    post_id     uuid REFERENCES posts(id) ON DELETE CASCADE,
    comment_id  uuid REFERENCES comments(id) ON DELETE CASCADE,
    emoji       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- A reaction targets exactly one post or one comment.
    CHECK ((post_id IS NULL) <> (comment_id IS NULL))
);
-- One reaction per member per emoji per target.
CREATE UNIQUE INDEX reactions_post_key ON reactions (post_id, member_id, emoji) WHERE post_id IS NOT NULL;
CREATE UNIQUE INDEX reactions_comment_key ON reactions (comment_id, member_id, emoji) WHERE comment_id IS NOT NULL;

CREATE TABLE todos (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id        uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by_member_id uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    assignee_member_id  uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    title               text NOT NULL,
    due_date            date,
    done                boolean NOT NULL DEFAULT false,
    post_id             uuid REFERENCES posts(id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX todos_workspace_idx ON todos (workspace_id, created_at, id);

CREATE TABLE notifications (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id         uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    recipient_member_id  uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind                 text NOT NULL CHECK (kind IN ('mention', 'comment', 'reaction', 'invite_accepted')),
    payload              jsonb NOT NULL DEFAULT '{}',
    read_at              timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_recipient_idx ON notifications (recipient_member_id, created_at DESC, id DESC);
