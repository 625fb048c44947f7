import Foundation
import Hummingbird

/// Sign-up, sign-in (email + password or Google ID token) and `GET /v1/me`.
struct AuthRoutes {
    let deps: AppDependencies

    struct SignUpRequest: Decodable {
        var email: String
        var password: String
    }

    struct SignInRequest: Decodable {
        var email: String
        var password: String
    }

    struct GoogleRequest: Decodable {
        var id_token: String
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("auth/signup") { request, context in try await self.signUp(request, context) }
        group.post("auth/signin") { request, context in try await self.signIn(request, context) }
        group.post("auth/google") { request, context in try await self.google(request, context) }
        group.get("me") { request, _ in try await self.me(request) }
    }

    func signUp(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SignUpRequest.self, context: context)
        let signedIn = try await deps.accounts.signUp(email: body.email, password: body.password)
        return Self.response(signedIn, status: .created)
    }

    func signIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SignInRequest.self, context: context)
        return Self.response(try await deps.accounts.signIn(email: body.email, password: body.password), status: .ok)
    }

    /// 501 `google_sign_in_disabled` when Google sign-in is not configured, before the body is read.
    func google(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let google = deps.googleSignIn else { throw APIError.googleSignInDisabled }
        let body = try await request.decodeJSON(GoogleRequest.self, context: context)
        return Self.response(try await google.signIn(idToken: body.id_token), status: .ok)
    }

    func me(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        return JSONResponse.raw(try await deps.accounts.me(userID: userID))
    }

    /// `{"token": "...", "user": {...}}`
    static func response(_ signedIn: SignedIn, status: HTTPResponse.Status) -> Response {
        JSONResponse.raw("{\"token\":\(JSONResponse.quote(signedIn.token)),\"user\":\(signedIn.userJSON)}", status: status)
    }
}
