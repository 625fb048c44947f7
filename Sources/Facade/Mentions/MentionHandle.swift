/// What an `@name` in a post or comment matches: a member's **mention handle**, the letters and digits of
/// their display name in the workspace, lowercased. "Grace Hopper" is `@gracehopper`, "O'Brien" is
/// `@obrien`, "Zoë 2" is `@zoë2`; `@Grace.Hopper`, `@grace_hopper` and `@GRACE-HOPPER` name the same handle,
/// since only letters and digits count on either side.
///
/// Pure: the parser and the member lookup both go through ``normalize(_:)``, so they cannot disagree.
enum MentionHandle {
    static func normalize(_ text: some StringProtocol) -> String {
        String(text).lowercased().filter { $0.isLetter || $0.isNumber }
    }
}
