/// An error the HTTP layer answers by itself (parse errors, limits, timeouts, 404, 405, overload).
///
/// The server has no JSON of its own: the application supplies an `HTTPErrorRenderer` that turns
/// this into its error body.
public struct HTTPServerError: Sendable, Equatable {
    /// The status to answer with.
    public var status: Int
    /// A stable snake_case code (`uri_too_long`, `not_found`, `method_not_allowed`, …).
    public var code: String
    /// A short message for humans; never contains request bytes.
    public var message: String
    /// Extra headers the answer must carry (`Allow` on a 405).
    public var headers: HTTPHeaders

    /// Creates an error.
    public init(status: Int, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    init(_ parserError: HTTPParserError) {
        self.init(status: parserError.status, code: parserError.name, message: parserError.detail)
    }

    /// 408: the head (or body) did not arrive in time.
    static let requestTimeout = HTTPServerError(status: 408, code: "request_timeout", message: "the request was not received in time")
    /// 503: over `maxConnections`.
    static let overloaded = HTTPServerError(status: 503, code: "server_overloaded", message: "too many open connections; retry later")
    /// 500: the handler produced a response that cannot be sent (e.g. a header value with CR/LF).
    static let invalidResponse = HTTPServerError(status: 500, code: "internal_error", message: "internal error")
}

/// Turns an `HTTPServerError` into the application's error response.
public typealias HTTPErrorRenderer = @Sendable (HTTPServerError) -> HTTPResponse

/// A renderer with a plain-text body, for servers that have no error format of their own.
public let plainTextErrorRenderer: HTTPErrorRenderer = { error in
    var headers = error.headers
    headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
    return HTTPResponse(status: error.status, headers: headers, body: error.message + "\n")
}
