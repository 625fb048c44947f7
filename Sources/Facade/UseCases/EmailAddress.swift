/// The one check the API makes on an email address before it is stored or compared.
enum EmailAddress {
    /// One `@`, something before it, a dot after it, no space, at most 254 characters.
    static func isPlausible(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !email.contains(" ")
            && email.count <= 254
    }
}
