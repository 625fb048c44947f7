import BrokerProtocol
import Foundation

/// A channel name resolved against the namespaces: which options apply and what kind of channel it is.
public struct ResolvedChannel: Sendable {
    public var channel: String
    /// "" for channels without a namespace.
    public var namespace: String
    public var options: ChannelOptions
    /// Starts with `channel.private_prefix` (`$`): subscribing needs a token.
    public var isPrivate: Bool
    /// Users listed after `#` (`chat#42,43`), when the namespace allows user-limited channels; nil otherwise.
    public var allowedUsers: [Substring]?
}

/// Namespace lookup and channel name rules (Centrifugo v6 §5.1).
public final class ChannelRules: Sendable {
    public let config: ChannelConfig
    private let namespaces: [String: ChannelOptions]
    /// Compiled `channel_regex` per namespace ("" = without namespace).
    private let regexes: [String: NSRegularExpressionBox]

    public init(config: ChannelConfig) {
        self.config = config
        var ns: [String: ChannelOptions] = [:]
        var rx: [String: NSRegularExpressionBox] = [:]
        for n in config.namespaces {
            ns[n.name] = n.options
            if !n.options.channelRegex.isEmpty, let r = try? NSRegularExpression(pattern: n.options.channelRegex) {
                rx[n.name] = NSRegularExpressionBox(regex: r)
            }
        }
        if !config.withoutNamespace.channelRegex.isEmpty,
            let r = try? NSRegularExpression(pattern: config.withoutNamespace.channelRegex)
        {
            rx[""] = NSRegularExpressionBox(regex: r)
        }
        self.namespaces = ns
        self.regexes = rx
    }

    /// Options of a namespace by name ("" = without namespace), nil when unknown.
    public func options(namespace: String) -> ChannelOptions? {
        namespace.isEmpty ? config.withoutNamespace : namespaces[namespace]
    }

    /// Resolves a channel: 102 for an empty channel or unknown namespace, 107 for a bad name.
    public func resolve(_ channel: String) throws(ClientError) -> ResolvedChannel {
        if channel.isEmpty { throw .unknownChannel }
        // Prefix and boundaries are matched on UTF-8 bytes, as Centrifugo does, so that a combining
        // character after `$` or `:` cannot change how a channel is classified.
        var name = Substring(channel).utf8[...]
        var isPrivate = false
        if !config.privatePrefix.isEmpty, name.starts(with: config.privatePrefix.utf8) {
            isPrivate = true
            name = name.dropFirst(config.privatePrefix.utf8.count)
        }
        var namespace = ""
        var rest = name
        if !config.namespaceBoundary.isEmpty, let r = ChannelRules.first(config.namespaceBoundary, in: name) {
            namespace = String(decoding: name[..<r.lowerBound], as: UTF8.self)
            rest = name[r.upperBound...]
        }
        guard let options = self.options(namespace: namespace) else { throw .unknownChannel }
        if channel.utf8.count > config.maxLength { throw .badRequest }
        if let regex = regexes[namespace] {
            let s = String(decoding: rest, as: UTF8.self)
            let range = NSRange(s.startIndex..., in: s)
            if regex.regex.firstMatch(in: s, range: range) == nil { throw .badRequest }
        } else if !channel.utf8.allSatisfy({ $0 < 0x80 }) {
            throw .badRequest
        }
        var allowedUsers: [Substring]?
        if options.allowUserLimitedChannels, !config.userBoundary.isEmpty,
            let r = ChannelRules.last(config.userBoundary, in: rest)
        {
            let list = Substring(decoding: rest[r.upperBound...], as: UTF8.self)
            let separator = config.userSeparator.isEmpty ? "," : config.userSeparator
            allowedUsers = list.split(separator: separator, omittingEmptySubsequences: true)
        }
        return ResolvedChannel(
            channel: channel, namespace: namespace, options: options, isPrivate: isPrivate, allowedUsers: allowedUsers)
    }

    // Boundaries are almost always one byte (`:`, `#`): a byte scan then, instead of the generic
    // collection search, which showed up at 10% of a server-API publish in a profile.

    static func first(_ boundary: String, in name: Substring.UTF8View) -> Range<Substring.UTF8View.Index>? {
        let b = boundary.utf8
        guard b.count == 1 else { return name.firstRange(of: b) }
        return name.firstIndex(of: b.first!).map { $0..<name.index(after: $0) }
    }

    static func last(_ boundary: String, in name: Substring.UTF8View) -> Range<Substring.UTF8View.Index>? {
        let b = boundary.utf8
        guard b.count == 1 else { return name.ranges(of: b).last }
        return name.lastIndex(of: b.first!).map { $0..<name.index(after: $0) }
    }

    /// The personal channel of a user (`#42` or `ns:#42`).
    public func personalChannel(user: String, namespace: String) -> String {
        let base = config.userBoundary + user
        return namespace.isEmpty ? base : namespace + config.namespaceBoundary + base
    }
}

/// NSRegularExpression is immutable and thread-safe once built, but not marked Sendable.
struct NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression
}
