import Foundation

/// One command of the broker's server API that an outbox row asks for, as the relay sends it inside
/// `POST /api/batch` (`{"commands": [{"publish": {...}}, {"unsubscribe": {...}}]}`).
enum BrokerCommand: Sendable, Equatable {
    /// `{"channel", "data", "idempotency_key"}`: the broker drops a repeated idempotency key, so a row re-sent
    /// after a crash between publish and commit is delivered once.
    case publish(channel: String, dataJSON: String, idempotencyKey: String)
    /// `{"user", "channel"}`: ends every subscription of `user` to `channel`, on every broker node (the client is
    /// told with an `unsubscribe` push, code 2000, and does not resubscribe by itself). Repeating it is harmless.
    case unsubscribe(userID: UUID, channel: String)

    /// The `kind` column of an outbox row (`0003_outbox_commands.sql`).
    enum Kind: String, Sendable {
        case publish
        case unsubscribe
    }

    /// The command of an outbox row, or nil when the row's columns do not fit its kind (the table's check
    /// constraint makes that impossible for rows the facade writes).
    init?(outboxID: Int64, kind: String, channel: String, payload: String?, userID: UUID?) {
        switch Kind(rawValue: kind) {
        case .publish:
            guard let payload else { return nil }
            self = .publish(channel: channel, dataJSON: payload, idempotencyKey: "outbox-\(outboxID)")
        case .unsubscribe:
            guard let userID else { return nil }
            self = .unsubscribe(userID: userID, channel: channel)
        case nil:
            return nil
        }
    }

    /// The command as one element of a batch's `commands` array.
    var batchJSON: String {
        switch self {
        case .publish(let channel, let dataJSON, let idempotencyKey):
            "{\"publish\":{\"channel\":\(JSONResponse.quote(channel)),\"data\":\(JSONResponse.compact(dataJSON)),"
                + "\"idempotency_key\":\(JSONResponse.quote(idempotencyKey))}}"
        case .unsubscribe(let userID, let channel):
            "{\"unsubscribe\":{\"user\":\(JSONResponse.quote(userID.uuidString.lowercased())),"
                + "\"channel\":\(JSONResponse.quote(channel))}}"
        }
    }
}
