#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Serializes responses (RFC 9112 §4, §6). It sets `Date`, `Content-Length` and `Connection`
/// itself and refuses header names or values that could split the response.
enum HTTPResponseEncoder {
    /// Whether the encoder owns this header (a handler's value for it is dropped).
    static func isOwned(_ name: String) -> Bool {
        HTTPHeaders.namesEqual(name, "content-length") || HTTPHeaders.namesEqual(name, "transfer-encoding")
            || HTTPHeaders.namesEqual(name, "date") || HTTPHeaders.namesEqual(name, "connection")
    }

    /// `HTTP/1.1 <status> <reason>\r\n` for the statuses we send, built once.
    private static let statusLines: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for status in [100, 200, 201, 202, 204, 301, 302, 304, 400, 401, 402, 403, 404, 405, 408, 409, 410, 413,
                       414, 415, 417, 422, 429, 431, 500, 501, 502, 503, 504, 505] {
            lines[status] = Array("HTTP/1.1 \(status) \(HTTPReasonPhrase.phrase(for: status))\r\n".utf8)
        }
        return lines
    }()

    /// Whether every header name is a token and every value is free of CR, LF, NUL and other
    /// control bytes except HTAB.
    static func isValid(_ headers: HTTPHeaders) -> Bool {
        headers.allSatisfy { field in
            !field.name.isEmpty && field.name.utf8.allSatisfy(HTTPSyntax.isTokenByte)
                && field.value.utf8.allSatisfy(HTTPSyntax.isFieldValueByte)
        }
    }

    /// The bytes of a final response. `isHead` sends the headers of the body without the body.
    static func encode(_ response: HTTPResponse, keepAlive: Bool, requestVersion: HTTPVersion, isHead: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + response.body.count)
        if let line = statusLines[response.status] {
            out.append(contentsOf: line)
        } else {
            out.append(contentsOf: "HTTP/1.1 \(response.status) \(HTTPReasonPhrase.phrase(for: response.status))\r\n".utf8)
        }
        for field in response.headers where !isOwned(field.name) {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Date: ".utf8)
        out.append(contentsOf: HTTPDate.now().utf8)
        out.append(contentsOf: "\r\n".utf8)
        // RFC 9110 §8.6: no Content-Length in a 1xx or 204 (and a 304 has no body to measure).
        let bodyAllowed = response.status != 204 && response.status != 304 && response.status >= 200
        if bodyAllowed {
            out.append(contentsOf: "Content-Length: \(response.body.count)\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if requestVersion == .http1_0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if bodyAllowed && !isHead { out.append(contentsOf: response.body) }
        return out
    }

    /// The interim answer to `Expect: 100-continue`.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}

/// IMF-fixdate (RFC 9110 §5.6.7), computed at most once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = spec.tv_sec
        return cache.withLock { cached in
            if cached.second == second { return cached.text }
            let text = format(epochSeconds: second)
            cached = (second, text)
            return text
        }
    }

    static func format(epochSeconds: Int) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
