import Foundation
import Logging
import PostgresNIO

/// Writes to `comments`.
enum CommentCommands {
    /// A new comment, returned as the API's Comment: commenting is the busiest write, so a prepared statement.
    struct CreateStatement: PostgresPreparedStatement {
        static let name = "comment_create"
        static let sql = """
            WITH c AS (INSERT INTO comments (post_id, member_id, body) VALUES ($1, $2, $3) RETURNING *)
            SELECT \(Projection.comment())::text FROM c JOIN members a ON a.id = c.member_id
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .text]
        typealias Row = String

        var postID: UUID
        var memberID: UUID
        var body: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(postID)
            bindings.append(memberID)
            bindings.append(body)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    static func create(
        _ connection: PostgresConnection, postID: UUID, memberID: UUID, body: String, logger: Logger
    ) async throws -> String? {
        let statement = CreateStatement(postID: postID, memberID: memberID, body: body)
        for try await json in try await connection.execute(statement, logger: logger) { return json }
        return nil
    }
}
