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

/// Constant-time comparison of two secrets' bytes (API.md §1).
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8), b = Array(rhs.utf8)
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
    }
    return difference == 0
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
