import Hummingbird

/// Answers 405 with an `Allow` header, in the API's error shape, when a request's path is a route of the API
/// and its method is not one of that route's (Hummingbird alone answers 404).
///
/// Added to the router after every route: a middleware applies only to the routes added after it, so this one
/// wraps nothing but the router's not-found responder.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path pattern and the methods it answers.
    let routes: [(path: RouterPath, methods: [HTTPRequest.Method])]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [(path: RouterPath, methods: [HTTPRequest.Method])] = []
        for route in routes {
            if let index = byPath.firstIndex(where: { $0.path == route.path }) {
                byPath[index].methods.append(route.method)
            } else {
                byPath.append((route.path, [route.method]))
            }
        }
        self.routes = byPath
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            let apiError = APIError(
                .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.method.rawValue) is not allowed here; allowed: \(allow).")
            var response = JSONResponse.encode(apiError.body, status: apiError.status)
            response.headers[.allow] = allow
            return response
        }
    }

    /// The methods of the route whose pattern matches `path`, if any.
    func allowedMethods(path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for route in routes where route.path.components.count == segments.count {
            if zip(route.path.components, segments).allSatisfy({ $0 ~= $1 }) { return route.methods }
        }
        return []
    }
}
