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

extension HTTPResponse {
    /// A refused submission in the gateway's error shape (OpenAI's too), naming a job that was kept.
    static func error(_ refusal: SubmissionRefusal) -> HTTPResponse {
        var response = HTTPResponse.error(refusal.error)
        if let id = refusal.keptJobID { response.headers.add(name: "X-Generation-Id", value: id) }
        if refusal.replayed { response.headers.add(name: "Idempotent-Replayed", value: "true") }
        return response
    }
}

extension HTTPHeaders {
    /// What every front door says of an admitted job: its id, what was reserved for it and the
    /// budget left after that (API.md §3, §7).
    mutating func addSubmission(_ accepted: AcceptedSubmission) {
        add(name: "X-Generation-Id", value: accepted.job.id)
        add(name: "X-Gateway-Cost-USD", value: accepted.price.apiString)
        if let remaining = accepted.budgetRemaining { add(name: "X-Budget-Remaining-USD", value: remaining.apiString) }
    }
}

extension HTTPRequest {
    /// `X-Webhook-URL`, checked for length (the service checks it against the URL policy).
    func webhookURLHeader() throws(APIError) -> String? {
        guard let header = headers["x-webhook-url"] else { return nil }
        guard !header.isEmpty, header.utf8.count <= GenerationRequest.maxWebhookURLLength else {
            throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url", message: "X-Webhook-URL must be a URL of at most 2048 characters", param: "webhook_url")
        }
        return header
    }
}

extension JSONValue {
    /// A request body as JSON: 400 `invalid_json` when it is not.
    static func parseBody(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw APIError(status: 400, kind: .invalidRequest, code: "invalid_json", message: "the body is not valid JSON: \(error)")
        }
    }
}
