/// SQL fragments rendering rows as the API's JSON objects (`json_build_object`), so that the
/// JSON clients receive, the JSON published to the broker and the OpenAPI schemas share one definition.
enum Projection {
    /// A member; `m` is the members alias.
    static func member(_ m: String = "m") -> String {
        """
        json_build_object('id', \(m).id, 'workspace_id', \(m).workspace_id, 'user_id', \(m).user_id, \
        'display_name', \(m).display_name, 'role', \(m).role, 'status', \(m).status, 'joined_at', \(m).joined_at)
        """
    }

    /// The short author form embedded in posts, comments and todos.
    static func author(_ m: String) -> String {
        "json_build_object('id', \(m).id, 'display_name', \(m).display_name, 'role', \(m).role)"
    }

    static func workspace(_ w: String = "w", member m: String = "m") -> String {
        """
        json_build_object('id', \(w).id, 'name', \(w).name, 'time_zone', \(w).time_zone, \
        'created_at', \(w).created_at, 'my_member', \(member(m)))
        """
    }

    /// A post without its reactions/comments summary (see `FeedQuery` for that); `a` is the author member.
    static func post(_ p: String = "p", author a: String = "a") -> String {
        """
        json_build_object('id', \(p).id, 'workspace_id', \(p).workspace_id, 'kind', \(p).kind, 'body', \(p).body, \
        'local_date', \(p).local_date, 'checkin_id', \(p).checkin_id, 'created_at', \(p).created_at, \
        'edited_at', \(p).edited_at, 'author', \(author(a)))
        """
    }

    static func comment(_ c: String = "c", author a: String = "a") -> String {
        """
        json_build_object('id', \(c).id, 'post_id', \(c).post_id, 'body', \(c).body, \
        'created_at', \(c).created_at, 'author', \(author(a)))
        """
    }

    static func todo(_ t: String = "t") -> String {
        """
        json_build_object('id', \(t).id, 'workspace_id', \(t).workspace_id, 'title', \(t).title, \
        'assignee_member_id', \(t).assignee_member_id, 'created_by_member_id', \(t).created_by_member_id, \
        'due_date', \(t).due_date, 'done', \(t).done, 'post_id', \(t).post_id, \
        'created_at', \(t).created_at, 'updated_at', \(t).updated_at)
        """
    }

    static func reaction(_ r: String = "r") -> String {
        """
        json_build_object('id', \(r).id, 'post_id', \(r).post_id, 'comment_id', \(r).comment_id, \
        'member_id', \(r).member_id, 'emoji', \(r).emoji, 'created_at', \(r).created_at)
        """
    }

    static func notification(_ n: String = "n") -> String {
        """
        json_build_object('id', \(n).id, 'workspace_id', \(n).workspace_id, \
        'recipient_member_id', \(n).recipient_member_id, 'kind', \(n).kind, 'payload', \(n).payload, \
        'read_at', \(n).read_at, 'created_at', \(n).created_at)
        """
    }

    static func invite(_ i: String = "i") -> String {
        """
        json_build_object('id', \(i).id, 'workspace_id', \(i).workspace_id, 'kind', \(i).kind, 'token', \(i).token, \
        'email', \(i).email, 'expires_at', \(i).expires_at, 'accepted_at', \(i).accepted_at, \
        'created_at', \(i).created_at)
        """
    }

    static func user(_ u: String = "u") -> String {
        "json_build_object('id', \(u).id, 'email', \(u).email, 'created_at', \(u).created_at)"
    }
}
