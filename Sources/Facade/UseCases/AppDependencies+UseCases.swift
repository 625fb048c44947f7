/// The use cases, each built on the dependencies it needs (cheap values: built per request).
extension AppDependencies {
    var accounts: AccountUseCases { AccountUseCases(db: db, passwords: passwords, sessions: sessions) }
    /// nil when Google sign-in is not configured.
    var googleSignIn: GoogleSignInUseCase? { google.map { GoogleSignInUseCase(db: db, google: $0, sessions: sessions) } }
    var workspaces: WorkspaceUseCases { WorkspaceUseCases(db: db) }
    var members: MemberUseCases { MemberUseCases(db: db) }
    var invites: InviteUseCases { InviteUseCases(db: db, now: now) }
    var posts: PostUseCases { PostUseCases(db: db, now: now) }
    var comments: CommentUseCases { CommentUseCases(db: db) }
    var reactions: ReactionUseCases { ReactionUseCases(db: db) }
    var todos: TodoUseCases { TodoUseCases(db: db) }
    var notifications: NotificationUseCases { NotificationUseCases(db: db) }
    var realtime: RealtimeUseCases { RealtimeUseCases(db: db, brokerTokens: brokerTokens, now: now) }
}
