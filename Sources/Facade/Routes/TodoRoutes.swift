import Foundation
import Hummingbird

/// Todos (``TodoUseCases``).
struct TodoRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var title: String
        /// Defaults to the creator.
        var assignee_member_id: UUID?
        /// `YYYY-MM-DD`.
        var due_date: String?
        var post_id: UUID?
    }

    struct UpdateRequest: Decodable {
        var title: String?
        var assignee_member_id: UUID?
        var due_date: String?
        var done: Bool?
        var post_id: UUID?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/todos") { request, context in try await self.create(request, context) }
        group.get("workspaces/:workspaceID/todos") { request, context in try await self.list(request, context) }
        group.get("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.get(request, context) }
        group.patch("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.update(request, context) }
        group.delete("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.delete(request, context) }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.todos.create(as: userID, in: workspaceID, TodoUseCases.Draft(
            title: body.title, assignee: body.assignee_member_id, dueDate: body.due_date, postID: body.post_id))
        return JSONResponse.raw(json, status: .created)
    }

    /// Filters: `assignee=me|<member id>`, `done=true|false`.
    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        let query = request.uri.queryParameters
        var done: Bool?
        if let rawDone = query["done"] {
            guard let value = Bool(String(rawDone)) else {
                throw APIError.validation(field: "done", .invalidFormat, "Must be true or false.")
            }
            done = value
        }
        let assignee = query["assignee"].map(String.init)
        let result = try await deps.todos.list(as: userID, in: workspaceID, assignee: assignee, done: done, page: page)
        return JSONResponse.raw(result.json)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        return JSONResponse.raw(try await deps.todos.get(as: userID, in: workspaceID, todoID: todoID))
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        let json = try await deps.todos.update(as: userID, in: workspaceID, todoID: todoID, TodoUseCases.Changes(
            title: body.title, assignee: body.assignee_member_id, dueDate: body.due_date, done: body.done,
            postID: body.post_id))
        return JSONResponse.raw(json)
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        try await deps.todos.delete(as: userID, in: workspaceID, todoID: todoID)
        return JSONResponse.noContent()
    }
}
