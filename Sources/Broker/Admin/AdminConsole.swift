import BrokerProtocol
import Foundation
import Logging
import NIOHTTP1

/// The admin web console (`admin.enabled`): its page and assets, sign-in, and the admin API that runs
/// server-API methods for a signed-in operator.
///
/// Paths, under `admin.handler_prefix` (empty by default, as in Centrifugo):
/// - `GET /` the page, `GET /admin/static/console.js|json-check.js|console.css|icon.svg` its scripts, style
///   and icon;
/// - `POST /admin/auth` sign in with the password (form or JSON `password`): the session comes back as
///   `{"token"}` and as an HttpOnly, SameSite=Strict cookie;
/// - `POST /admin/logout`, `GET /admin/session`;
/// - `POST /admin/api` `{"method","params"}`: the same code path as the server API, for the methods an
///   operator needs (``AdminConsole/methods``); every call is logged with the session that made it;
/// - `GET /admin/events` server-sent events that keep the page live (``AdminEventStreamHandler``).
///
/// A session is ``AdminSessionToken`` (`Authorization: token <t>` or the cookie). With `admin.insecure`
/// no session is needed; the broker warns about that at start.
final class AdminConsole: Sendable {
    static let cookieName = "broker_admin"
    /// Server-API methods the console may call; the others (e.g. `broadcast`, `batch`) are not needed
    /// by an operator looking at the system.
    static let methods: Set<String> = [
        "info", "channels", "presence", "presence_stats", "history", "publish", "disconnect", "unsubscribe", "connections",
    ]
    /// Methods that change something: logged at notice level.
    static let actions: Set<String> = ["publish", "disconnect", "unsubscribe"]

    let node: Node
    let api: ServerAPI
    let prefix: String
    let limiter = SignInLimiter()
    var config: AdminConfig { node.config.admin }
    var logger: Logger { node.logger }

    init(node: Node, api: ServerAPI) {
        self.node = node
        self.api = api
        self.prefix = node.config.admin.handlerPrefix
    }

    func handles(path: String) -> Bool { AdminConsole.isConsolePath(path, prefix: prefix) }

    /// Whether `path` is one of the console's under `prefix` (`admin.handler_prefix`).
    static func isConsolePath(_ path: String, prefix: String) -> Bool {
        path == prefix + "/" || (!prefix.isEmpty && path == prefix) || path.hasPrefix(prefix + "/admin/")
    }

    func isEventStream(path: String) -> Bool { path == prefix + "/admin/events" }

    func route(head: HTTPRequestHead, path: String, body: [UInt8], remote: String) async -> HTTPResponse {
        if !prefix.isEmpty && path == prefix {
            // The page's relative links need the trailing slash.
            return HTTPResponse(status: .permanentRedirect, contentType: "", body: [], headers: [("Location", prefix + "/")])
        }
        let sub = String(path.dropFirst(prefix.count))
        switch (head.method, sub) {
        case (.GET, "/"):
            return AdminConsole.page(ConsoleAssets.indexHTML, type: "text/html; charset=utf-8")
        case (.GET, "/admin/static/console.js"):
            return AdminConsole.page(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
        case (.GET, "/admin/static/console.css"):
            return AdminConsole.page(ConsoleAssets.style, type: "text/css; charset=utf-8")
        case (.GET, "/admin/static/json-check.js"):
            return AdminConsole.page(ConsoleAssets.jsonCheck, type: "text/javascript; charset=utf-8")
        case (.GET, "/admin/static/icon.svg"):
            return AdminConsole.page(ConsoleAssets.icon, type: "image/svg+xml")
        case (.POST, "/admin/auth"):
            return signIn(head: head, body: body, remote: remote)
        case (.POST, "/admin/logout"):
            if let session = authenticate(head) {
                logger.info("admin signed out", metadata: ["admin_session": "\(session.sessionID)", "remote": "\(remote)"])
            }
            return AdminConsole.json(#"{}"#, headers: [("Set-Cookie", cookie(value: "", maxAge: 0))])
        case (.GET, "/admin/session"):
            let signedIn = config.insecure || authenticate(head) != nil
            return AdminConsole.json(#"{"signed_in":\#(signedIn),"insecure":\#(config.insecure)}"#)
        case (.POST, "/admin/api"):
            guard let session = authorize(head) else { return AdminConsole.unauthorized }
            if !sameOrigin(head) { return AdminConsole.error(.forbidden, "cross-origin request refused") }
            return await call(body: body, session: session, remote: remote)
        case (_, "/"), (_, "/admin/static/console.js"), (_, "/admin/static/console.css"), (_, "/admin/static/json-check.js"),
            (_, "/admin/static/icon.svg"), (_, "/admin/auth"),
            (_, "/admin/logout"), (_, "/admin/session"), (_, "/admin/api"), (_, "/admin/events"):
            return AdminConsole.error(.methodNotAllowed, "method not allowed")
        default:
            return AdminConsole.error(.notFound, "not found")
        }
    }

    // MARK: Sessions

    /// The session a request carries (header first, then cookie), if valid.
    func authenticate(_ head: HTTPRequestHead) -> AdminSessionToken? {
        let now = node.clock.nowMillis() / 1000
        if let auth = head.headers.first(name: "Authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "token" {
                return AdminSessionToken.verify(String(parts[1]), secret: config.secret, now: now)
            }
            return nil
        }
        for header in head.headers["Cookie"] {
            for pair in header.split(separator: ";") {
                let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == AdminConsole.cookieName {
                    return AdminSessionToken.verify(String(kv[1]), secret: config.secret, now: now)
                }
            }
        }
        return nil
    }

    /// The session to act as: the request's, or an anonymous one in insecure mode; nil = refuse.
    func authorize(_ head: HTTPRequestHead) -> AdminSessionToken? {
        if let session = authenticate(head) { return session }
        return config.insecure ? AdminSessionToken(sessionID: "insecure", expiresAt: .max) : nil
    }

    /// A browser's request from another site would carry the cookie only under SameSite=Strict rules,
    /// but an `Origin` that is not this host is refused outright as well.
    private func sameOrigin(_ head: HTTPRequestHead) -> Bool {
        guard let origin = head.headers.first(name: "Origin"), origin != "null" else { return true }
        guard let host = head.headers.first(name: "Host") else { return false }
        let stripped = origin.replacingOccurrences(of: "https://", with: "").replacingOccurrences(of: "http://", with: "")
        return stripped.lowercased() == host.lowercased()
    }

    private func signIn(head: HTTPRequestHead, body: [UInt8], remote: String) -> HTTPResponse {
        let now = node.clock.nowMillis()
        let wait = limiter.retryAfter(address: remote, now: now)
        if wait > 0 {
            logger.warning("admin sign-in refused: too many attempts", metadata: ["remote": "\(remote)"])
            let seconds = String((wait + 999) / 1000)
            return AdminConsole.error(.tooManyRequests, "too many sign-in attempts; try again in \(seconds) s", headers: [("Retry-After", seconds)])
        }
        guard !config.insecure else {
            return AdminConsole.error(.badRequest, "admin.insecure is on: no sign-in needed")
        }
        guard let password = AdminConsole.password(from: body, contentType: head.headers.first(name: "Content-Type") ?? "") else {
            return AdminConsole.error(.badRequest, "expected a password (form field or JSON member \"password\")")
        }
        guard AdminConsole.constantTimeEqual(password, config.password), !config.password.isEmpty else {
            limiter.recordFailure(address: remote, now: now)
            logger.warning("admin sign-in failed: wrong password", metadata: ["remote": "\(remote)"])
            return AdminConsole.error(.unauthorized, "wrong password")
        }
        let (token, session) = AdminSessionToken.issue(secret: config.secret, now: now / 1000)
        logger.notice("admin signed in", metadata: ["admin_session": "\(session.sessionID)", "remote": "\(remote)"])
        let body = JSONValue.object(JSONObject([("token", .string(token))])).serialized
        return HTTPResponse(
            status: .ok, contentType: "application/json", body: body,
            headers: AdminConsole.securityHeaders + [("Set-Cookie", cookie(value: token, maxAge: AdminSessionToken.lifetime))])
    }

    private func cookie(value: String, maxAge: Int64) -> String {
        "\(AdminConsole.cookieName)=\(value); Path=\(prefix.isEmpty ? "/" : prefix); Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
    }

    static func password(from body: [UInt8], contentType: String) -> String? {
        if contentType.lowercased().hasPrefix("application/json") {
            return (try? JSONParser.parse(body))?.objectValue?["password"]?.stringValue
        }
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "password" {
                return String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
        }
        return nil
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    // MARK: Admin API

    private func call(body: [UInt8], session: AdminSessionToken, remote: String) async -> HTTPResponse {
        guard let request = (try? JSONParser.parse(body))?.objectValue, let method = request["method"]?.stringValue else {
            return AdminConsole.error(.badRequest, "expected {\"method\":…,\"params\":{…}}")
        }
        guard AdminConsole.methods.contains(method) else {
            return AdminConsole.error(.notFound, "unknown method \(method)")
        }
        let params = request["params"] ?? .object(JSONObject())
        let metadata: Logger.Metadata = [
            "admin_session": "\(session.sessionID)", "remote": "\(remote)", "method": "\(method)",
            "params": "\(String(decoding: params.serialized, as: UTF8.self))",
        ]
        if AdminConsole.actions.contains(method) {
            logger.notice("admin action", metadata: metadata)
        } else {
            logger.debug("admin query", metadata: metadata)
        }
        var body = await api.reply(method: method, request: params)
        if AdminConsole.isUnknownChannel(body), let channel = params.objectValue?["channel"]?.stringValue {
            body = UnknownChannelDetail.reply(channel: channel, config: node.config.channel)
        }
        return HTTPResponse(status: .ok, contentType: "application/json", body: body, headers: AdminConsole.securityHeaders)
    }

    /// Whether a server-API reply is error 102, `{"error":{"code":102,…}}`.
    static func isUnknownChannel(_ reply: [UInt8]) -> Bool {
        guard reply.starts(with: #"{"error""#.utf8) else { return false }
        return (try? JSONParser.parse(reply))?.objectValue?["error"]?.objectValue?["code"]?.int64Value == 102
    }

    // MARK: Responses

    /// Sent with everything the console serves: scripts only from this origin, no inline code, no
    /// framing, nothing cached.
    static let securityHeaders: [(String, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    static let unauthorized = error(.unauthorized, "sign in to the admin console first")

    static func page(_ text: String, type: String) -> HTTPResponse {
        HTTPResponse(status: .ok, contentType: type, body: Array(text.utf8), headers: securityHeaders)
    }

    static func json(_ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: .ok, contentType: "application/json", body: Array(text.utf8), headers: securityHeaders + headers)
    }

    static func error(_ status: HTTPResponseStatus, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        let body = JSONValue.object(JSONObject([("error", .string(message))])).serialized
        return HTTPResponse(status: status, contentType: "application/json", body: body, headers: securityHeaders + headers)
    }
}
