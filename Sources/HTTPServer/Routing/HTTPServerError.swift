/// An error the HTTP layer answers by itself (parse errors, limits, timeouts, 404, 405, overload).
///
/// The server has no JSON of its own: the application supplies an `HTTPErrorRenderer` that turns
/// this into its error body.
public struct HTTPServerError: Error, Sendable, Equatable {
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

extension HTTPServerError {
    /// 413: the body, inflated, is over the limit (API.md §11: the limit is on the inflated size).
    public static let bodyTooLarge = HTTPServerError(status: 413, code: "body_too_large", message: "request body is larger than the limit")
    /// 400: a `Content-Encoding: gzip`/`deflate` body that is not a valid, complete stream.
    public static let invalidBodyEncoding = HTTPServerError(
        status: 400, code: "invalid_body_encoding", message: "the request body is not a valid, complete stream of its Content-Encoding")
    /// 415: a content coding other than gzip, deflate or identity.
    public static let unsupportedContentEncoding = HTTPServerError(
        status: 415, code: "unsupported_media_type", message: "Content-Encoding must be gzip, deflate or identity")
}
