import Foundation

/// What a reaction is attached to.
enum ReactionTarget: Sendable, Equatable {
    case post(UUID)
    case comment(UUID)

    var id: UUID {
        switch self {
        case .post(let id), .comment(let id): id
        }
    }

    /// The name a 404 about the target uses.
    var what: String {
        switch self {
        case .post: "Post"
        case .comment: "Comment"
        }
    }
}
