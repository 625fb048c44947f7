import Foundation

/// The `kind` of an invite (`0004_invite_kinds.sql`).
enum InviteKind: String, Sendable {
    /// Made for one email address: only a signed-in user whose account has that email may accept it.
    case email
    /// An open link: whoever holds it may accept it.
    case link

    /// The kind `requested` (by default `email` when an email is given, else `link`), checking that the email
    /// fits it; a problem goes into `validator` (and the answer is then not used).
    static func of(requested: String?, email: String?, _ validator: inout Validator) -> InviteKind {
        let kind = requested.map { InviteKind(rawValue: $0) } ?? (email == nil ? .link : .email)
        switch kind {
        case nil:
            validator.check(false, "kind", .invalidValue, "Must be email (bound to the addressee) or link (an open link).")
        case .email?:
            if let email {
                validator.check(EmailAddress.isPlausible(email), "email", .invalidFormat, "Must be a valid email address.")
            } else {
                validator.check(false, "email", .required, "An email invite needs the addressee's email.")
            }
        case .link?:
            validator.check(email == nil, "email", .invalidValue,
                            "An open link invite has no addressee: leave email out, or use kind email.")
        }
        return kind ?? .link
    }
}
