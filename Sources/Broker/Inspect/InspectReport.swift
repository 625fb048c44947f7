import BrokerProtocol

/// Tables for `broker inspect`, from the server API's results (pure, so tests can check them).
public enum InspectReport {
    public static func nodes(_ result: JSONValue) -> String {
        let nodes = result.objectValue?["nodes"]?.arrayValue ?? []
        let rows = nodes.map { n -> [String] in
            let o = n.objectValue ?? JSONObject()
            return [
                text(o["name"]), text(o["version"]), uptime(o["uptime"]?.int64Value ?? 0), text(o["engine"]),
                o["engine_healthy"]?.boolValue == false ? "no" : "yes", text(o["num_clients"]), text(o["num_users"]),
                text(o["num_channels"]), text(o["num_subs"]), text(o["messages_in_per_second"]),
                text(o["messages_out_per_second"]), megabytes(o["rss"]?.int64Value ?? 0),
            ]
        }
        return table(
            ["NODE", "VERSION", "UPTIME", "ENGINE", "HEALTHY", "CLIENTS", "USERS", "CHANNELS", "SUBS", "IN/S", "OUT/S", "RSS"],
            rows, numeric: [5, 6, 7, 8, 9, 10, 11]) + "\(nodes.count) node(s)\n"
    }

    public static func channels(_ result: JSONValue) -> String {
        let channels = result.objectValue?["channels"]?.objectValue?.members ?? []
        let rows = channels.map { [$0.key, text($0.value.objectValue?["num_clients"])] }
        let total = channels.reduce(Int64(0)) { $0 + ($1.value.objectValue?["num_clients"]?.int64Value ?? 0) }
        return table(["CHANNEL", "SUBSCRIBERS"], rows, numeric: [1]) + "\(channels.count) channel(s), \(total) subscription(s)\n"
    }

    public static func presence(_ result: JSONValue, stats: JSONValue?) -> String {
        let clients = result.objectValue?["presence"]?.objectValue?.members ?? []
        let rows = clients.map { m -> [String] in
            let o = m.value.objectValue ?? JSONObject()
            return [m.key, text(o["user"]), compact(o["conn_info"] ?? o["b64conn_info"]), compact(o["chan_info"] ?? o["b64chan_info"])]
        }
        var out = table(["CLIENT", "USER", "CONN_INFO", "CHAN_INFO"], rows)
        let s = stats?.objectValue
        out += "\(text(s?["num_clients"] ?? .number(String(clients.count)))) client(s), \(text(s?["num_users"] ?? .null)) user(s)\n"
        return out
    }

    public static func history(_ result: JSONValue) -> String {
        let o = result.objectValue ?? JSONObject()
        let pubs = o["publications"]?.arrayValue ?? []
        let rows = pubs.map { p -> [String] in
            let po = p.objectValue ?? JSONObject()
            let data = po["data"].map(compact) ?? po["b64data"].map { "base64:" + text($0) } ?? ""
            return [text(po["offset"]), data, compact(po["info"])]
        }
        return table(["OFFSET", "DATA", "PUBLISHER"], rows, numeric: [0])
            + "\(pubs.count) publication(s); stream top offset \(text(o["offset"])), epoch \(text(o["epoch"]))\n"
    }

    public static func connections(_ result: JSONValue) -> String {
        let conns = result.objectValue?["connections"]?.objectValue?.members ?? []
        let rows = conns.map { m -> [String] in
            let o = m.value.objectValue ?? JSONObject()
            let channels = o["state"]?.objectValue?["channels"]?.objectValue?.keys ?? []
            return [m.key, text(o["user"]), text(o["node"]), text(o["transport"]), text(o["protocol"]), channels.joined(separator: ",")]
        }
        return table(["CLIENT", "USER", "NODE", "TRANSPORT", "PROTOCOL", "CHANNELS"], rows) + "\(conns.count) connection(s)\n"
    }

    // MARK: Formatting

    /// Columns padded to their widest cell (numbers right-aligned), or "(none)" under the header.
    static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return numeric.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n"
        for row in rows { out += line(row) + "\n" }
        if rows.isEmpty { out += "(none)\n" }
        return out
    }

    static func text(_ v: JSONValue?) -> String {
        guard let v else { return "" }
        if let s = v.stringValue { return s }
        if v.isNull { return "" }
        return v.serializedString
    }

    /// A JSON value on one line, cut at 60 characters.
    static func compact(_ v: JSONValue?) -> String {
        guard let v, !v.isNull else { return "" }
        let s = v.stringValue.map { "\"\($0)\"" } ?? v.serializedString
        return s.count > 60 ? String(s.prefix(57)) + "..." : s
    }

    static func uptime(_ seconds: Int64) -> String {
        let d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        if d > 0 { return "\(d)d\(h)h\(m)m" }
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        return m > 0 ? "\(m)m\(s)s" : "\(s)s"
    }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}
