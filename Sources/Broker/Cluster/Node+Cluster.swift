import BrokerProtocol
import Foundation
import Logging

/// Node-to-node work over the engine's control channel: heartbeats (so `info` lists every node),
/// server-API actions on connections held by other nodes, and surveys (`channels` across nodes).
///
/// On the memory engine the control channel loops back to this node only, and messages from oneself
/// are ignored, so the same code runs without special cases.
extension Node {
    /// How often a node tells the others it is alive.
    static let heartbeatInterval: Duration = .seconds(3)
    /// How long a survey waits for slow nodes.
    static let surveyTimeout: Duration = .seconds(2)

    func startHeartbeat() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await self.sendControl(.node(await self.localInfo()))
                self.metrics.record(await self.engine.health())
                try? await Task.sleep(for: Node.heartbeatInterval)
            }
        }
        heartbeat.withLockedValue { $0 = task }
    }

    func stopHeartbeat() async {
        heartbeat.withLockedValue { $0 }?.cancel()
        await sendControl(.leaving)
    }

    /// Publishes `message` to every node; a failure is logged (control is best effort).
    func sendControl(_ message: ControlMessage) async {
        do {
            try await engine.publishControl(message.encode(from: id))
        } catch {
            logger.warning("control message not sent", metadata: ["error": "\(error)"])
        }
    }

    /// Called by the hub for every control message the engine delivers.
    func handleControl(_ bytes: [UInt8]) {
        guard let (from, message) = ControlMessage.decode(bytes) else {
            logger.debug("undecodable control message ignored")
            return
        }
        if from == id { return }
        switch message {
        case .node(let info):
            // A node that just appeared learns about this one at once instead of a heartbeat later.
            if nodes.heard(info, at: clock.nowMillis()) {
                Task { await self.sendControl(.node(await self.localInfo())) }
            }
        case .leaving:
            nodes.forget(from)
        case .action(let method, let params):
            Task {
                do {
                    try await ServerAPI(node: self).applyHere(method: method, APIRequestReader(object: params))
                } catch {
                    self.logger.warning("control action failed", metadata: ["method": "\(method)", "error": "\(error)"])
                }
            }
        case .survey(let surveyID, let op, let params):
            Task {
                let data = await self.answerSurvey(op: op, params: params)
                await self.sendControl(.surveyReply(id: surveyID, to: from, data: data))
            }
        case .surveyReply(let surveyID, let to, let data):
            if to == id { surveys.reply(id: surveyID, from: from, data: data) }
        }
    }

    /// This node's counters, as `info` and the heartbeat show them.
    func localInfo() async -> NodeInfo {
        let counts = await channelCounts()
        var info = NodeInfo(
            uid: id, name: name, version: Node.version, numClients: Int64(numClients), numUsers: Int64(numUsers),
            numChannels: Int64(counts.count), numSubs: Int64(counts.values.reduce(0, +)),
            uptime: max(0, (clock.nowMillis() - startedAt) / 1000))
        info.engine = config.engine.type
        info.engineHealthy = await engine.health().isHealthy
        let rates = trafficRates.sample(metrics.traffic, now: clock.nowMillis())
        info.messagesInPerSecond = rates.received
        info.messagesOutPerSecond = rates.sent
        info.rss = ProcessStats.residentBytes()
        return info
    }

    /// Every live node: this one first, then the others by name.
    func clusterInfo() async -> [NodeInfo] {
        let me = await localInfo()
        return [me] + nodes.alive(now: clock.nowMillis()).filter { $0.uid != id }
    }

    /// Asks every other live node `op` and returns their answers (node ID → answer); nodes that do not
    /// answer within ``surveyTimeout`` are left out.
    func survey(op: String, params: JSONObject = JSONObject()) async -> [String: JSONValue] {
        let others = Set(nodes.alive(now: clock.nowMillis()).map(\.uid)).subtracting([id])
        let surveyID = UUID().uuidString
        return await surveys.collect(id: surveyID, from: others, timeout: Node.surveyTimeout) {
            do {
                try await self.engine.publishControl(
                    ControlMessage.survey(id: surveyID, op: op, params: params).encode(from: self.id))
                return true
            } catch {
                self.logger.warning("survey not sent", metadata: ["op": "\(op)", "error": "\(error)"])
                return false
            }
        }
    }

    /// This node's answer to a survey.
    func answerSurvey(op: String, params: JSONObject) async -> JSONValue {
        switch op {
        case "channels":
            let counts = await channelCounts()
            return .object(JSONObject(counts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number(String($0.value))) }))
        case "connections":
            return .object(JSONObject(await localConnections(user: params["user"]?.stringValue)))
        default:
            return .null
        }
    }

    /// Subscriber counts per channel over every live node.
    func clusterChannelCounts() async -> [String: Int] {
        var total = await channelCounts()
        for (_, answer) in await survey(op: "channels") {
            for member in answer.objectValue?.members ?? [] {
                total[member.key, default: 0] += Int(member.value.int64Value ?? 0)
            }
        }
        return total
    }

    /// Disconnects every connection of `user` on every node except `client` (e.g. the personal channel's
    /// single-connection mode), through the same path as the server API's `disconnect`.
    func disconnect(user: String, except client: String, with disconnect: Disconnect) async {
        let params = JSONObject([
            ("user", .string(user)), ("whitelist", .array([.string(client)])),
            ("disconnect", .object(JSONObject([("code", .number(String(disconnect.code))), ("reason", .string(disconnect.reason))]))),
        ])
        do {
            _ = try await ServerAPI(node: self).act("disconnect", APIRequestReader(object: params))
        } catch {
            logger.warning("disconnect of other connections failed", metadata: ["user": "\(user)", "error": "\(error)"])
        }
    }
}
