import Testing

@testable import Broker
@testable import BrokerProtocol

/// Channel name rules and namespace resolution (compat doc §5.1, §5.3 steps 1–3).
@Suite("ChannelRules")
struct ChannelRulesTests {
    // MARK: Fixtures

    /// Options told apart by `presence` / `historySize`, so a test can see which namespace resolved.
    private static func options(marker: Int, userLimited: Bool = false, regex: String = "") -> ChannelOptions {
        var o = ChannelOptions()
        o.historySize = marker
        o.allowUserLimitedChannels = userLimited
        o.channelRegex = regex
        return o
    }

    private static func rules(
        withoutNamespace: ChannelOptions = options(marker: 1),
        namespaces: [NamespaceConfig] = [
            NamespaceConfig(name: "chat", options: options(marker: 2)),
            NamespaceConfig(name: "dm", options: options(marker: 3, userLimited: true)),
        ],
        configure: (inout ChannelConfig) -> Void = { _ in }
    ) -> ChannelRules {
        var c = ChannelConfig()
        c.withoutNamespace = withoutNamespace
        c.namespaces = namespaces
        configure(&c)
        return ChannelRules(config: c)
    }

    /// The error `resolve` throws, or nil.
    private func resolveError(_ rules: ChannelRules, _ channel: String) -> ClientError? {
        do {
            _ = try rules.resolve(channel)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Namespaces

    /// A name without `:` uses channel.without_namespace; the channel is kept verbatim.
    @Test func noBoundaryUsesWithoutNamespace() throws {
        let r = try Self.rules().resolve("news")
        #expect(r.channel == "news")
        #expect(r.namespace == "")
        #expect(r.options.historySize == 1)
        #expect(r.isPrivate == false)
        #expect(r.allowedUsers == nil)
    }

    /// `ns:chan` resolves to the namespace's options.
    @Test func namespaceResolves() throws {
        let r = try Self.rules().resolve("chat:room1")
        #expect(r.channel == "chat:room1")
        #expect(r.namespace == "chat")
        #expect(r.options.historySize == 2)
        #expect(r.isPrivate == false)
    }

    /// The name splits at the first `:`; later ones belong to the channel part.
    @Test func splitsAtFirstBoundary() throws {
        let r = try Self.rules().resolve("chat:a:b:c")
        #expect(r.namespace == "chat")
        #expect(r.options.historySize == 2)
        // "a:b" would be an unknown namespace if the split happened at the last `:`.
        #expect(try Self.rules().resolve("dm:x:y").namespace == "dm")
    }

    /// An unknown namespace is 102 unknown channel.
    @Test(arguments: ["other:room", "Chat:room", "chatx:room", "$other:room"])
    func unknownNamespaceIs102(channel: String) {
        let err = resolveError(Self.rules(), channel)
        #expect(err == .unknownChannel)
        #expect(err?.code == 102)
    }

    /// An empty channel is 102.
    @Test func emptyChannelIs102() {
        #expect(resolveError(Self.rules(), "")?.code == 102)
        #expect(resolveError(Self.rules(), "") == .unknownChannel)
    }

    /// options(namespace:) gives without_namespace for "", the namespace's options, or nil when unknown.
    @Test func optionsLookup() {
        let r = Self.rules()
        #expect(r.options(namespace: "")?.historySize == 1)
        #expect(r.options(namespace: "chat")?.historySize == 2)
        #expect(r.options(namespace: "nope") == nil)
    }

    /// With no namespaces configured, any `ns:` is unknown, and plain names still resolve.
    @Test func noNamespacesConfigured() throws {
        let r = Self.rules(namespaces: [])
        #expect(resolveError(r, "chat:room") == .unknownChannel)
        #expect(try r.resolve("room").namespace == "")
    }

    // MARK: Private prefix

    /// `$` marks a private channel and is stripped before the namespace lookup.
    @Test func privatePrefixStrippedBeforeLookup() throws {
        let plain = try Self.rules().resolve("$secret")
        #expect(plain.isPrivate)
        #expect(plain.namespace == "")
        #expect(plain.options.historySize == 1)
        #expect(plain.channel == "$secret")
        let ns = try Self.rules().resolve("$chat:room")
        #expect(ns.isPrivate)
        #expect(ns.namespace == "chat")
        #expect(ns.options.historySize == 2)
        #expect(ns.channel == "$chat:room")
    }

    /// Only a leading `$` is the private prefix.
    @Test func dollarElsewhereIsNotPrivate() throws {
        let r = try Self.rules().resolve("chat:$room")
        #expect(r.isPrivate == false)
        #expect(r.namespace == "chat")
        #expect(try Self.rules().resolve("a$b").isPrivate == false)
    }

    /// An empty private_prefix disables private channels: `$` is then part of the name.
    @Test func emptyPrivatePrefix() throws {
        let r = Self.rules { $0.privatePrefix = "" }
        #expect(try r.resolve("$room").isPrivate == false)
        // "$chat" is now the namespace name, which is unknown.
        #expect(resolveError(r, "$chat:room") == .unknownChannel)
    }

    // MARK: User-limited channels

    /// `#` lists the allowed users when the namespace allows user-limited channels.
    @Test func userLimitedInAllowingNamespace() throws {
        let r = try Self.rules().resolve("dm:chat#42,43")
        #expect(r.namespace == "dm")
        #expect(r.allowedUsers == ["42", "43"])
    }

    /// Without allow_user_limited_channels, `#` is an ordinary character and nobody is listed.
    @Test func userLimitedNeedsTheOption() throws {
        #expect(try Self.rules().resolve("chat#42,43").allowedUsers == nil)
        #expect(try Self.rules().resolve("chat:room#42").allowedUsers == nil)
    }

    /// The option on without_namespace enables `chat#42,43` there.
    @Test func userLimitedWithoutNamespace() throws {
        let r = Self.rules(withoutNamespace: Self.options(marker: 1, userLimited: true))
        #expect(try r.resolve("chat#42,43").allowedUsers == ["42", "43"])
        #expect(try r.resolve("#42").allowedUsers == ["42"])
        #expect(try r.resolve("plain").allowedUsers == nil)
    }

    /// The user list is the text after the LAST `#`.
    @Test func userListAfterLastBoundary() throws {
        let r = try Self.rules().resolve("dm:a#b#7,8")
        #expect(r.allowedUsers == ["7", "8"])
    }

    /// A single user; empty items name nobody (`#` with nothing after it lists no real user).
    @Test func userListEdges() throws {
        #expect(try Self.rules().resolve("dm:#42").allowedUsers == ["42"])
        let sparse = try #require(try Self.rules().resolve("dm:x#1,,2,").allowedUsers)
        #expect(sparse.filter { !$0.isEmpty } == ["1", "2"])
        let none = try #require(try Self.rules().resolve("dm:x#").allowedUsers)
        #expect(none.allSatisfy { $0.isEmpty })
    }

    /// A private user-limited channel is both private and user-limited.
    @Test func privateUserLimited() throws {
        let r = try Self.rules().resolve("$dm:x#42")
        #expect(r.isPrivate)
        #expect(r.namespace == "dm")
        #expect(r.allowedUsers == ["42"])
    }

    /// The namespace part is not searched for `#`: only the channel part after `ns:` is user-limited.
    @Test func userBoundaryOnlyAfterNamespace() throws {
        #expect(try Self.rules().resolve("dm:plain").allowedUsers == nil)
    }

    // MARK: Length and characters

    /// channel.max_length (255 bytes) is allowed; one more byte is 107 bad request.
    @Test func maxLengthDefault() throws {
        let r = Self.rules()
        let ok = String(repeating: "a", count: 255)
        #expect(try r.resolve(ok).channel == ok)
        let tooLong = String(repeating: "a", count: 256)
        #expect(resolveError(r, tooLong) == .badRequest)
        #expect(resolveError(r, tooLong)?.code == 107)
    }

    /// The length counts the whole name, `$` and `ns:` included.
    @Test func maxLengthCountsWholeName() throws {
        let r = Self.rules { $0.maxLength = 10 }
        #expect(try r.resolve("chat:abcde").namespace == "chat")  // 10
        #expect(resolveError(r, "chat:abcdef") == .badRequest)  // 11
        #expect(try r.resolve("$chat:abcd").isPrivate)  // 10
        #expect(resolveError(r, "$chat:abcde") == .badRequest)  // 11
    }

    /// The length is counted in UTF-8 bytes, not characters.
    @Test func maxLengthCountsBytes() throws {
        let r = Self.rules(withoutNamespace: Self.options(marker: 1, regex: ".*")) { $0.maxLength = 10 }
        #expect(try r.resolve(String(repeating: "é", count: 5)).namespace == "")  // 10 bytes
        #expect(resolveError(r, String(repeating: "é", count: 6)) == .badRequest)  // 6 characters, 12 bytes
    }

    /// An unknown namespace is reported as 102 before the length check (§5.3: 102 before 107).
    @Test func unknownNamespaceBeforeLength() {
        let r = Self.rules { $0.maxLength = 10 }
        #expect(resolveError(r, "other:" + String(repeating: "a", count: 20)) == .unknownChannel)
    }

    /// Non-ASCII names are 107 when no channel_regex is set.
    @Test(arguments: ["café", "chat:café", "$é", "канал", "chat:room🙂", "dm:x#é"])
    func nonASCIIIs107(channel: String) {
        #expect(resolveError(Self.rules(), channel) == .badRequest)
    }

    /// Every printable ASCII character is accepted (reserved `/ * &` are only reserved, not rejected).
    @Test func printableASCIIAccepted() throws {
        let printable = String(decoding: (0x20..<0x7F).map { UInt8($0) }.filter { $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "$") }, as: UTF8.self)
        #expect(try Self.rules().resolve(printable).namespace == "")
        #expect(try Self.rules().resolve("chat:a/b*c&d").namespace == "chat")
    }

    /// ASCII control characters and DEL are ASCII, so the doc's "ASCII only" rule accepts them (as Centrifugo's isASCII does).
    @Test
    func asciiControlCharactersAccepted() throws {
        #expect(try Self.rules().resolve("chat:a\tb").namespace == "chat")
        #expect(try Self.rules().resolve("a\u{7F}").namespace == "")
    }

    // MARK: channel_regex

    /// With channel_regex, non-ASCII names are allowed when they match.
    @Test func regexAllowsNonASCII() throws {
        let r = Self.rules(namespaces: [NamespaceConfig(name: "intl", options: Self.options(marker: 4, regex: "^\\p{L}+$"))])
        let resolved = try r.resolve("intl:café")
        #expect(resolved.namespace == "intl")
        #expect(resolved.options.historySize == 4)
        #expect(resolveError(r, "intl:café!") == .badRequest)
    }

    /// The regex applies to the part after `ns:` only (here `:` and the namespace letters would not match).
    @Test func regexAppliesAfterNamespace() throws {
        let r = Self.rules(namespaces: [NamespaceConfig(name: "ns", options: Self.options(marker: 5, regex: "^[0-9]+$"))])
        #expect(try r.resolve("ns:12345").namespace == "ns")
        #expect(resolveError(r, "ns:12a45") == .badRequest)
        #expect(resolveError(r, "ns:") == .badRequest)
        // The private prefix is not part of what the regex sees either.
        #expect(try r.resolve("$ns:42").isPrivate)
    }

    /// A namespace's regex does not apply to other namespaces or to channels without namespace.
    @Test func regexIsPerNamespace() throws {
        let r = Self.rules(namespaces: [
            NamespaceConfig(name: "ns", options: Self.options(marker: 5, regex: "^[0-9]+$")),
            NamespaceConfig(name: "free", options: Self.options(marker: 6)),
        ])
        #expect(try r.resolve("free:abc").namespace == "free")
        #expect(try r.resolve("abc").namespace == "")
        #expect(resolveError(r, "free:é") == .badRequest)
    }

    /// without_namespace's regex applies to the whole name (after a `$`).
    @Test func regexWithoutNamespace() throws {
        let r = Self.rules(withoutNamespace: Self.options(marker: 1, regex: "^[a-z]+$"))
        #expect(try r.resolve("abc").namespace == "")
        #expect(try r.resolve("$abc").isPrivate)
        #expect(resolveError(r, "ABC") == .badRequest)
        // Namespaced channels are not checked by it.
        #expect(try r.resolve("chat:ABC").namespace == "chat")
    }

    /// Like Go's MatchString, the regex is searched, not anchored.
    @Test func regexIsUnanchoredSearch() throws {
        let r = Self.rules(namespaces: [NamespaceConfig(name: "ns", options: Self.options(marker: 5, regex: "abc"))])
        #expect(try r.resolve("ns:xxabcxx").namespace == "ns")
        #expect(resolveError(r, "ns:xxabxcx") == .badRequest)
    }

    /// With a regex set, max_length still applies.
    @Test func regexStillChecksLength() {
        let r = Self.rules(withoutNamespace: Self.options(marker: 1, regex: ".*")) { $0.maxLength = 5 }
        #expect(resolveError(r, "abcdef") == .badRequest)
    }

    /// The private prefix and namespace boundary are matched on bytes, as Centrifugo does: a combining mark after `$`
    /// does not hide the prefix.
    @Test
    func prefixAndBoundaryAreBytes() throws {
        let r = Self.rules(
            withoutNamespace: Self.options(marker: 1, regex: ".*"),
            namespaces: [NamespaceConfig(name: "chat", options: Self.options(marker: 2, regex: ".*"))])
        #expect(try r.resolve("$\u{301}x").isPrivate)
        let ns = try r.resolve("chat:\u{301}x")
        #expect(ns.namespace == "chat")
        #expect(ns.options.historySize == 2)
    }

    // MARK: Custom boundaries

    /// Custom private prefix, namespace boundary, user boundary and separator are honoured together.
    @Test func customBoundaries() throws {
        let r = Self.rules {
            $0.privatePrefix = "priv-"
            $0.namespaceBoundary = "__"
            $0.userBoundary = "@"
            $0.userSeparator = ";"
        }
        let full = try r.resolve("priv-dm__room@1;2")
        #expect(full.isPrivate)
        #expect(full.namespace == "dm")
        #expect(full.options.historySize == 3)
        #expect(full.allowedUsers == ["1", "2"])
        // The default characters lose their meaning.
        let plain = try r.resolve("dm:room#1,2")
        #expect(plain.namespace == "")
        #expect(plain.isPrivate == false)
        #expect(try r.resolve("$x").isPrivate == false)
        #expect(try r.resolve("chat__x").namespace == "chat")
        #expect(resolveError(r, "nope__x") == .unknownChannel)
    }

    /// A user separator longer than one character splits the list like Go's strings.Split (no trap).
    @Test
    func multiCharacterUserSeparator() throws {
        let r = Self.rules { $0.userSeparator = "||" }
        #expect(try r.resolve("dm:x#1||2").allowedUsers == ["1", "2"])
    }

    // MARK: Personal channels

    /// personalChannel builds `#<user>` or `<ns>:#<user>`.
    @Test func personalChannelDefault() throws {
        let r = Self.rules()
        #expect(r.personalChannel(user: "42", namespace: "") == "#42")
        #expect(r.personalChannel(user: "42", namespace: "dm") == "dm:#42")
        // In a user-limited namespace the personal channel admits exactly its user.
        #expect(try r.resolve(r.personalChannel(user: "42", namespace: "dm")).allowedUsers == ["42"])
    }

    /// personalChannel uses the configured boundaries.
    @Test func personalChannelCustomBoundaries() {
        let r = Self.rules {
            $0.namespaceBoundary = "__"
            $0.userBoundary = "@"
        }
        #expect(r.personalChannel(user: "u1", namespace: "") == "@u1")
        #expect(r.personalChannel(user: "u1", namespace: "personal") == "personal__@u1")
    }
}
