import Foundation
import Hummingbird

/// `GET /health` and `GET /openapi.json` (no authentication).
struct SystemRoutes {
    let deps: AppDependencies
    let openAPIDocument: String

    func register(_ router: Router<AppRequestContext>) {
        router.get("health") { _, _ in try await self.health() }
        router.get("openapi.json") { _, _ in JSONResponse.raw(self.openAPIDocument) }
    }

    /// 200 when the database answers, else 503.
    func health() async throws -> Response {
        do {
            try await HealthQuery.ping(deps.db)
            return JSONResponse.raw(#"{"status":"ok"}"#)
        } catch {
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "The database does not answer.")
        }
    }

    /// The hand-written OpenAPI document bundled as a resource, compact like every other response.
    static func loadOpenAPIDocument() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw MigrationError.missingResources
        }
        return JSONResponse.compact(try String(contentsOf: url, encoding: .utf8))
    }
}
