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
        for field in headers.fields {
            if field.name.isEmpty { return false }
            if !allBytes(of: field.name, satisfy: HTTPSyntax.isTokenByte) { return false }
            if !allBytes(of: field.value, satisfy: HTTPSyntax.isFieldValueByte) { return false }
        }
        return true
    }

    /// `text.utf8.allSatisfy(predicate)`, over the contiguous bytes when the string has them
    /// (native strings do), which skips the view's per-byte bookkeeping.
    private static func allBytes(of text: String, satisfy predicate: (UInt8) -> Bool) -> Bool {
        if let result = text.utf8.withContiguousStorageIfAvailable({ bytes in
            for byte in bytes where !predicate(byte) { return false }
            return true
        }) {
            return result
        }
        return text.utf8.allSatisfy(predicate)
    }

    /// The bytes of a final response. `isHead` sends the headers of the body without the body.
    static func encode(_ response: HTTPResponse, keepAlive: Bool, requestVersion: HTTPVersion, isHead: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192 + response.body.count)
        if let line = statusLines[response.status] {
            out.append(contentsOf: line)
        } else {
            out.append(contentsOf: "HTTP/1.1 \(response.status) \(HTTPReasonPhrase.phrase(for: response.status))\r\n".utf8)
        }
        for field in response.headers.fields where !isOwned(field.name) {
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: field.value.utf8)
            out.append(UInt8(ascii: "\r"))
            out.append(UInt8(ascii: "\n"))
        }
        HTTPDate.appendField(to: &out)
        // RFC 9110 §8.6: no Content-Length in a 1xx or 204 (and a 304 has no body to measure).
        let bodyAllowed = response.status != 204 && response.status != 304 && response.status >= 200
        if bodyAllowed {
            out.append(contentsOf: contentLengthPrefix)
            appendDecimal(response.body.count, to: &out)
            out.append(UInt8(ascii: "\r"))
            out.append(UInt8(ascii: "\n"))
        }
        if !keepAlive {
            out.append(contentsOf: connectionClose)
        } else if requestVersion == .http1_0 {
            out.append(contentsOf: connectionKeepAlive)
        }
        out.append(UInt8(ascii: "\r"))
        out.append(UInt8(ascii: "\n"))
        if bodyAllowed && !isHead { out.append(contentsOf: response.body) }
        return out
    }

    private static let contentLengthPrefix: [UInt8] = Array("Content-Length: ".utf8)
    private static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive: [UInt8] = Array("Connection: keep-alive\r\n".utf8)

    /// Appends the decimal digits of a non-negative number (no `String` in between).
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0)
        if value < 10 { out.append(UInt8(ascii: "0") + UInt8(value)); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// The interim answer to `Expect: 100-continue`.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}

/// IMF-fixdate (RFC 9110 §5.6.7), computed at most once a second.
enum HTTPDate {
    /// The second and the whole `Date: …\r\n` field line for it.
    private static let cache = Mutex<(second: Int, field: [UInt8])>((-1, []))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Appends `Date: <now>\r\n`.
    static func appendField(to out: inout [UInt8]) {
        out.append(contentsOf: currentField())
    }

    private static func currentField() -> [UInt8] {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = spec.tv_sec
        return cache.withLock { cached in
            if cached.second == second { return cached.field }
            let field = Array("Date: \(format(epochSeconds: second))\r\n".utf8)
            cached = (second, field)
            return field
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
