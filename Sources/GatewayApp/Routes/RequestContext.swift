import GatewayCore
import HTTPServer

/// Who is calling: a gateway key, or the operator with the master key.
enum Caller: Sendable {
    case key(AuthenticatedKey)
    case master

    /// Whether this caller may see a job owned by `keyID`.
    func canSee(ownerKeyID: String) -> Bool {
        switch self {
        case .master: return true
        case .key(let key): return key.id == ownerKeyID
        }
    }
}

extension HTTPResponse {
    /// A JSON response.
    static func json(_ status: Int, _ body: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// An API error.
    static func error(_ error: APIError) -> HTTPResponse { GatewayApplication.render(error) }
}
