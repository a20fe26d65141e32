#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import HTTPServer

/// A minimal, blocking HTTP/1.1 client for callbacks: `http://` to loopback only (the simulators
/// only ever call a gateway on the same machine), one request per connection
/// (`Connection: close`), one deadline over connect, send and receive.
///
/// It blocks its thread: call it from a callback worker queue, never from the cooperative pool.
/// A chunked answer is returned with its body undecoded (the gateway's server never sends one).
enum LoopbackHTTPClient {
    /// An answer as read off the wire.
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Why a request did not get an answer.
    struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Low-cardinality reason (`unsupported_url`, `connect_failed`, `timeout`, …).
        let reason: String
        /// Detail: the errno, or what was wrong.
        let detail: String
        var description: String { detail.isEmpty ? reason : "\(reason): \(detail)" }

        static func unsupportedURL(_ why: String) -> Failure { Failure(reason: "unsupported_url", detail: why) }
        static func system(_ call: String, _ code: Int32) -> Failure {
            code == EAGAIN || code == EWOULDBLOCK || code == EINPROGRESS || code == ETIMEDOUT
                ? Failure(reason: "timeout", detail: call)
                : Failure(reason: "\(call)_failed", detail: "errno \(code)")
        }
        static let timeout = Failure(reason: "timeout", detail: "")
        static func malformed(_ why: String) -> Failure { Failure(reason: "malformed_response", detail: why) }
    }

    /// Where to connect: a loopback address, a port, and the request target.
    struct Target: Sendable, Equatable {
        var host: String
        var port: Int
        var path: String

        init(host: String, port: Int, path: String) {
            self.host = host
            self.port = port
            self.path = path
        }

        /// Parses `http://host[:port][/path][?query]`, refusing anything but loopback hosts.
        init(url: String) throws(Failure) {
            guard url.lowercased().hasPrefix("http://") else { throw .unsupportedURL("only http:// is supported") }
            let rest = url.dropFirst("http://".count)
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            var path = String(rest[authorityEnd...])
            if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
            if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
            guard !authority.contains("@") else { throw .unsupportedURL("userinfo is not supported") }
            var hostPart = authority
            var portPart: Substring?
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { throw .unsupportedURL("unterminated IPv6 literal") }
                hostPart = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { throw .unsupportedURL("bad authority") }
                    portPart = after.dropFirst()
                }
            } else if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            }
            var port = 80
            if let portPart {
                guard let parsed = Int(portPart), (1...65535).contains(parsed) else { throw .unsupportedURL("bad port") }
                port = parsed
            }
            let host = hostPart.lowercased()
            guard Self.isLoopback(host) else { throw .unsupportedURL("host \(host) is not loopback") }
            self.host = host == "localhost" ? "127.0.0.1" : host
            self.port = port
            self.path = path
        }

        /// `localhost`, 127.0.0.0/8 or `::1`, written numerically (no name resolution).
        static func isLoopback(_ host: String) -> Bool {
            if host == "localhost" || host == "::1" { return true }
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
            return octets[0] == "127"
        }
    }

    /// Sends one request and reads the whole answer.
    static func send(
        method: String, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], timeout: Duration
    ) throws(Failure) -> Response {
        let target = try Target(url: url)
        let deadline = ContinuousClock.now + timeout
        let family = target.host.contains(":") ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        defer { close(fd) }
        try setTimeouts(fd, remaining: deadline - .now)
        try connect(fd, host: target.host, port: target.port)

        var head = "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.host.contains(":") ? "[\(target.host)]" : target.host):\(target.port)\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try sendAll(fd, Array(head.utf8) + body, deadline: deadline)
        return try readResponse(fd, deadline: deadline, isHead: method == "HEAD")
    }

    private static func setTimeouts(_ fd: Int32, remaining: Duration) throws(Failure) {
        guard remaining > .zero else { throw .timeout }
        let micros = Int(max(remaining.nanoseconds / 1000, 1000))
        var value = timeval(tv_sec: micros / 1_000_000, tv_usec: micros % 1_000_000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size) == 0,
              setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size) == 0
        else { throw .system("setsockopt", errno) }
    }

    private static func connect(_ fd: Int32, host: String, port: Int) throws(Failure) {
        // SO_SNDTIMEO bounds a blocking connect on Linux (it fails with EINPROGRESS on expiry).
        func attempt(_ pointer: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
            var outcome: Int32
            repeat { outcome = Glibc.connect(fd, pointer, length) } while outcome != 0 && errno == EINTR
            return outcome
        }
        let result: Int32
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw .unsupportedURL("bad host") }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { attempt($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw .unsupportedURL("bad host") }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { attempt($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else { throw .system("connect", errno) }
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw .system("send", errno)
            }
            offset += sent
            if offset < bytes.count { try setTimeouts(fd, remaining: deadline - .now) }
        }
    }

    private static func readResponse(_ fd: Int32, deadline: ContinuousClock.Instant, isHead: Bool) throws(Failure) -> Response {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var parsed: (status: Int, headers: HTTPHeaders, bodyStart: Int, length: Int?)?
        while true {
            if parsed == nil, let head = try parseHead(buffer) {
                parsed = head
                if isHead || head.status == 204 || head.status == 304 || head.status < 200 {
                    return Response(status: head.status, headers: head.headers, body: [])
                }
            }
            if let parsed, let length = parsed.length, buffer.count - parsed.bodyStart >= length {
                return Response(status: parsed.status, headers: parsed.headers, body: Array(buffer[parsed.bodyStart..<parsed.bodyStart + length]))
            }
            try setTimeouts(fd, remaining: deadline - .now)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET, let parsed, parsed.length == nil { break }
                throw .system("recv", errno)
            }
            if count == 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            if buffer.count > 16 * 1024 * 1024 { throw .malformed("answer larger than 16 MiB") }
        }
        // End of stream: fine when the body was delimited by the close.
        guard let parsed else { throw .malformed("closed before a complete head") }
        guard parsed.length == nil else { throw .malformed("closed inside the body") }
        return Response(status: parsed.status, headers: parsed.headers, body: Array(buffer[parsed.bodyStart...]))
    }

    /// The status, headers, body offset and Content-Length of a complete head, or nil when the
    /// head is not complete yet.
    static func parseHead(_ buffer: [UInt8]) throws(Failure) -> (status: Int, headers: HTTPHeaders, bodyStart: Int, length: Int?)? {
        guard buffer.count >= 4 else { return nil }
        var end: Int?
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            end = index
            break
        }
        guard let end else {
            if buffer.count > 64 * 1024 { throw .malformed("head larger than 64 KiB") }
            return nil
        }
        let lines = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw .malformed("bad status line")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.add(name: String(line[..<colon]), value: String(value))
        }
        var length: Int?
        if headers["transfer-encoding"] == nil, let text = headers["content-length"] {
            guard let value = Int(text), value >= 0 else { throw .malformed("bad Content-Length") }
            length = value
        }
        return (status, headers, end + 4, length)
    }
}
