import BrokerProtocol

/// What keeps the console live: the events one `GET /admin/events` stream sends, produced by asking the
/// server API (so the page shows what `broker inspect` and any API client would see, from every node).
///
/// Every stream sends `overview` (the nodes) each second and, when watching a channel, polls its
/// presence four times a second and sends `presence` (the full set, first), then `join`/`leave` for each
/// client that came or went, `presence_stats` when the counts change, and `publications` (the newest
/// from history) when the channel's top offset moves. Polling the engine rather than subscribing to the
/// channel means presence is right whether or not the namespace has `join_leave`, on every node.
struct AdminFeed {
    struct Event: Equatable {
        var name: String
        var data: JSONValue
    }

    static let overviewInterval: Int64 = 1000
    static let channelsInterval: Int64 = 3000
    static let historyInterval: Int64 = 1000
    static let historyLimit = 20

    let api: ServerAPI
    /// The channel the page watches; nil on the overview and channel list.
    let channel: String?

    private var nextOverviewAt: Int64 = 0
    private var nextChannelsAt: Int64 = 0
    private var nextHistoryAt: Int64 = 0
    private var presence: [String: JSONValue]?
    private var stats: JSONValue?
    private var historyTop: JSONValue?
    /// An error already reported for the channel's presence or history (sent once, not every tick).
    private var presenceError: String?
    private var historyError: String?

    init(api: ServerAPI, channel: String?) {
        self.api = api
        self.channel = channel
    }

    /// The events due at `now` (Unix ms).
    mutating func tick(now: Int64) async -> [Event] {
        var events: [Event] = []
        if now >= nextOverviewAt {
            nextOverviewAt = now + AdminFeed.overviewInterval
            if let info = await value("info", []) { events.append(Event(name: "overview", data: info)) }
        }
        guard let channel else {
            if now >= nextChannelsAt {
                nextChannelsAt = now + AdminFeed.channelsInterval
                if let list = await value("channels", []) { events.append(Event(name: "channels", data: list)) }
            }
            return events
        }
        await presenceEvents(channel, now: now, into: &events)
        if now >= nextHistoryAt {
            nextHistoryAt = now + AdminFeed.historyInterval
            await historyEvents(channel, into: &events)
        }
        return events
    }

    private mutating func presenceEvents(_ channel: String, now: Int64, into events: inout [Event]) async {
        let params: [(String, JSONValue)] = [("channel", .string(channel))]
        let current: [String: JSONValue]
        switch await result("presence", params) {
        case .failure(let error):
            if presenceError != error.message {
                presenceError = error.message
                events.append(Event(name: "presence_error", data: AdminFeed.describe(error)))
            }
            return
        case .success(let value):
            presenceError = nil
            var map: [String: JSONValue] = [:]
            for m in value.objectValue?["presence"]?.objectValue?.members ?? [] { map[m.key] = m.value }
            current = map
        }
        let time = JSONValue.number(String(now))
        if let previous = presence {
            for (client, info) in current.sorted(by: { $0.key < $1.key }) where previous[client] == nil {
                events.append(Event(name: "join", data: AdminFeed.change(info, time: time)))
            }
            for (client, info) in previous.sorted(by: { $0.key < $1.key }) where current[client] == nil {
                events.append(Event(name: "leave", data: AdminFeed.change(info, time: time)))
            }
        } else {
            let list = current.sorted { $0.key < $1.key }.map(\.value)
            events.append(Event(name: "presence", data: .object(JSONObject([("clients", .array(list))]))))
        }
        presence = current
        if let s = await value("presence_stats", params), s != stats {
            stats = s
            events.append(Event(name: "presence_stats", data: s))
        }
    }

    private mutating func historyEvents(_ channel: String, into events: inout [Event]) async {
        let params: [(String, JSONValue)] = [
            ("channel", .string(channel)), ("limit", .number(String(AdminFeed.historyLimit))), ("reverse", .bool(true)),
        ]
        switch await result("history", params) {
        case .failure(let error):
            if historyError != error.message {
                historyError = error.message
                events.append(Event(name: "history_error", data: AdminFeed.describe(error)))
            }
        case .success(let value):
            historyError = nil
            let publications = value.objectValue?["publications"]?.arrayValue ?? []
            let top = JSONValue.array([value.objectValue?["epoch"] ?? .null, publications.first?.objectValue?["offset"] ?? .null])
            if top != historyTop {
                historyTop = top
                events.append(Event(name: "publications", data: value))
            }
        }
    }

    private func result(_ method: String, _ params: [(String, JSONValue)]) async -> Result<JSONValue, APIError> {
        do {
            let bytes = try await api.call(method: method, request: .object(JSONObject(params)))
            return .success((try? JSONParser.parse(bytes)) ?? .null)
        } catch {
            guard error.code == APIError.unknownChannel.code, let channel else { return .failure(error) }
            // As the admin API answers it: which namespace is missing and which exist.
            let config = api.node.config.channel
            return .failure(APIError(code: error.code, message: UnknownChannelDetail.message(channel: channel, config: config)))
        }
    }

    private func value(_ method: String, _ params: [(String, JSONValue)]) async -> JSONValue? {
        if case .success(let v) = await result(method, params) { return v }
        return nil
    }

    private static func change(_ info: JSONValue, time: JSONValue) -> JSONValue {
        var o = info.objectValue ?? JSONObject()
        o["time"] = time
        return .object(o)
    }

    private static func describe(_ error: APIError) -> JSONValue {
        .object(JSONObject([("code", .number(String(error.code))), ("message", .string(error.message))]))
    }
}
