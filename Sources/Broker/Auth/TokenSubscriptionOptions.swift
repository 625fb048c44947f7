import BrokerProtocol

/// Parsing of the per-subscription parts of token claims: `override` and a connection token's `subs`.
extension TokenClaimReader {
    /// `override`: `{presence, join_leave, force_push_join_leave, force_positioning, force_recovery}`,
    /// each `{"value": bool}` (`{}` means false, as in Centrifugo), absent or null = no override.
    func override(_ key: String = "override") throws(TokenError) -> SubscriptionOverride {
        var result = SubscriptionOverride()
        guard let object = try object(key) else { return result }
        let fields = TokenClaimReader(object)
        func flag(_ name: String) throws(TokenError) -> Bool? {
            guard let box = try fields.object(name) else { return nil }
            return try TokenClaimReader(box).bool("value") ?? false
        }
        result.presence = try flag("presence")
        result.joinLeave = try flag("join_leave")
        result.forcePushJoinLeave = try flag("force_push_join_leave")
        result.forcePositioning = try flag("force_positioning")
        result.forceRecovery = try flag("force_recovery")
        return result
    }

    /// `subs`: channel → `{info, b64info, data, b64data, override}`, in document order; a repeated
    /// channel keeps its first position and its last options (Go map semantics).
    /// Returns the entries with their still-encoded payloads (see `PayloadClaim`).
    func subscriptions() throws(TokenError) -> [PendingTokenSubscription] {
        guard let object = try object("subs") else { return [] }
        var result: [PendingTokenSubscription] = []
        var indexByChannel: [String: Int] = [:]
        for member in object.members {
            var entry = PendingTokenSubscription(channel: member.key)
            switch member.value {
            case .null:
                break
            case .object(let options):
                let reader = TokenClaimReader(options)
                entry.info = try reader.payload(json: "info", base64: "b64info")
                entry.data = try reader.payload(json: "data", base64: "b64data")
                entry.override = try reader.override()
            default:
                throw .invalid("claim \"subs\" must map channels to objects, not \(member.value.kindName)")
            }
            if let index = indexByChannel[member.key] {
                result[index] = entry
            } else {
                indexByChannel[member.key] = result.count
                result.append(entry)
            }
        }
        return result
    }
}

/// A `subs` entry whose `info`/`data` are not decoded yet.
struct PendingTokenSubscription {
    var channel: String
    var info: PayloadClaim?
    var data: PayloadClaim?
    var override = SubscriptionOverride()

    init(channel: String) {
        self.channel = channel
    }

    func decoded() throws(TokenError) -> TokenSubscription {
        var subscription = TokenSubscription(channel: channel)
        subscription.info = try info?.bytes()
        subscription.infoIsBinary = info?.isBinary ?? false
        subscription.data = try data?.bytes()
        subscription.dataIsBinary = data?.isBinary ?? false
        subscription.override = override
        return subscription
    }
}
