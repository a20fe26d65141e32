/// A response produced by a handler. The encoder adds `Date`, `Content-Length` and `Connection`.
public struct HTTPResponse: Sendable {
    /// The status code (100…999; 1xx are not allowed as a final response).
    public var status: Int
    /// Header fields; `Content-Length`, `Transfer-Encoding`, `Date` and `Connection` set here are
    /// replaced by the encoder.
    public var headers: HTTPHeaders
    /// The whole body.
    public var body: [UInt8]
    /// The route pattern that produced this answer (`/v1/generations/{id}`), set by `Router`;
    /// `nil` for 404/405 and errors of the server itself. Never sent.
    public var route: String?
    /// Work the client need not wait for (an access log line, metrics): run once, on the
    /// connection's thread, right after the answer was handed to the socket — or dropped, when
    /// the connection closed first. Never sent.
    public var afterResponse: (@Sendable () -> Void)?

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Creates a response whose body is the UTF-8 of a string.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: String) {
        self.init(status: status, headers: headers, body: Array(body.utf8))
    }
}

/// The status line reason phrases we send (RFC 9110 §15).
enum HTTPReasonPhrase {
    static func phrase(for status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
