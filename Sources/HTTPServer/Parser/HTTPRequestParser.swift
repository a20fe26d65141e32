/// One thing the parser has to say after being fed bytes.
public enum HTTPParserEvent: Sendable, Equatable {
    /// Nothing more until more bytes arrive.
    case needMoreData
    /// A complete request line and header section.
    case head(HTTPRequestHead)
    /// Some body bytes (de-chunked).
    case body([UInt8])
    /// The message is complete; trailers of a chunked body, if any.
    case end(trailers: HTTPHeaders)
    /// The request is malformed or over a limit; the parser stays in this state.
    case error(HTTPParserError)
}

/// A pure, incremental, push-based HTTP/1.x request parser (RFC 9112).
///
/// Feed bytes with `append(_:)`, then call `next()` until it answers `.needMoreData`. It does no
/// I/O. Limits are checked while bytes accumulate, so an oversized head is refused before it has
/// been received whole. After `.end`, the next request of a pipelined stream follows.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable, Equatable {
        case requestLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case endOfMessage
        case failed(HTTPParserError)
    }

    /// The limits in force.
    public let limits: HTTPParserLimits

    var state: State = .requestLine
    var buffer: [UInt8] = []
    /// Index of the first unconsumed byte in `buffer`.
    var start = 0
    /// Where the search for the next LF resumes, so byte-at-a-time feeding stays linear.
    var scanFrom = 0

    // The message being assembled.
    var method = ""
    var target = ""
    var version = HTTPVersion.http1_1
    var headers = HTTPHeaders()
    var trailers = HTTPHeaders()
    var headerBytes = 0
    var bodyBytes = 0
    var emptyLinesBeforeRequest = 0

    /// A parser with the given limits.
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Whether no byte of a next request has been received (used to tell an idle keep-alive
    /// connection from one that stalls halfway through a head).
    public var isIdle: Bool { state == .requestLine && start == buffer.count }

    /// Bytes received but not consumed yet.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanFrom -= start
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            scanFrom -= start
            start = 0
        }
    }

    /// Advances the state machine as far as the buffered bytes allow and reports one event.
    public mutating func next() -> HTTPParserEvent {
        switch state {
        case .failed(let error):
            return .error(error)
        case .requestLine:
            return parseRequestLine()
        case .headers:
            return parseHeaders()
        case .fixedBody(let remaining):
            return readFixedBody(remaining: remaining)
        case .chunkSize:
            return parseChunkSize()
        case .chunkData(let remaining):
            return readChunkData(remaining: remaining)
        case .chunkDataEnd:
            return readChunkDataEnd()
        case .trailers:
            return parseTrailers()
        case .endOfMessage:
            resetForNextMessage()
            return .end(trailers: HTTPHeaders())
        }
    }

    // MARK: - Lines

    enum LineScan {
        case line(Range<Int>)
        case incomplete
        case tooLong
        case invalid(String)
    }

    /// Finds the next CRLF-terminated line of at most `limit` content bytes.
    ///
    /// RFC 9112 §2.2: a bare CR is refused, and so is a bare LF (we do not take the lenient
    /// reading, so that no two parsers on the path can disagree about where a line ends).
    mutating func scanLine(limit: Int) -> LineScan {
        if scanFrom < start { scanFrom = start }
        let found: Int? = buffer.withUnsafeBufferPointer { bytes in
            var index = scanFrom
            while index < bytes.count {
                if bytes[index] == 0x0A { return index }
                index += 1
            }
            return nil
        }
        guard let lf = found else {
            scanFrom = buffer.count
            // Allow the CR of a line that is exactly at the limit.
            if buffer.count - start > limit + 1 { return .tooLong }
            return .incomplete
        }
        scanFrom = lf + 1
        // The length first: fed in pieces, a line this long is refused before its LF arrives, so
        // fed whole it must be refused the same way (found by fuzzing: whole vs byte by byte).
        if lf - start > limit + 1 { return .tooLong }
        guard lf > start, buffer[lf - 1] == 0x0D else { return .invalid("line ends in a bare LF") }
        let end = lf - 1
        if end - start > limit { return .tooLong }
        if buffer[start..<end].contains(0x0D) { return .invalid("bare CR in a line") }
        let range = start..<end
        start = lf + 1
        return .line(range)
    }

    mutating func fail(_ error: HTTPParserError) -> HTTPParserEvent {
        state = .failed(error)
        return .error(error)
    }

    // MARK: - Request line

    mutating func parseRequestLine() -> HTTPParserEvent {
        while true {
            switch scanLine(limit: limits.maxRequestLineBytes) {
            case .incomplete: return .needMoreData
            case .tooLong: return fail(.requestLineTooLong())
            case .invalid(let why): return fail(.malformed(why))
            case .line(let range):
                // RFC 9112 §2.2: ignore at least one empty line before the request line.
                if range.isEmpty {
                    emptyLinesBeforeRequest += 1
                    if emptyLinesBeforeRequest > 4 { return fail(.malformed("too many empty lines before the request line")) }
                    continue
                }
                if let error = readRequestLine(buffer[range]) { return fail(error) }
                state = .headers
                return parseHeaders()
            }
        }
    }

    mutating func readRequestLine(_ line: ArraySlice<UInt8>) -> HTTPParserError? {
        // RFC 9112 §3: method SP request-target SP HTTP-version, single spaces. (Scanned in place:
        // this runs once per request, so no array of parts is built.)
        let space = UInt8(ascii: " ")
        guard let firstSpace = line.firstIndex(of: space),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: space),
              !line[(secondSpace + 1)...].contains(space)
        else { return .malformed("request line is not method, target and version") }
        let methodBytes = line[line.startIndex..<firstSpace]
        let targetBytes = line[(firstSpace + 1)..<secondSpace]
        let v = line[(secondSpace + 1)...]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(HTTPSyntax.isTokenByte) else { return .malformed("invalid method") }
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .malformed("invalid request target") }
        guard let first = targetBytes.first,
              first == UInt8(ascii: "/") || first == UInt8(ascii: "*") || Self.hasPrefix(targetBytes, "http")
        else {
            return .malformed("invalid request target")
        }
        let base = v.startIndex
        guard v.count == 8, Self.hasPrefix(v, "HTTP/"), HTTPSyntax.isDigit(v[base + 5]), v[base + 6] == UInt8(ascii: "."),
              HTTPSyntax.isDigit(v[base + 7])
        else {
            return .malformed("invalid HTTP version")
        }
        let major = Int(v[base + 5] - 0x30), minor = Int(v[base + 7] - 0x30)
        guard major == 1 else { return .versionNotSupported() }
        method = String(decoding: methodBytes, as: UTF8.self)
        target = String(decoding: targetBytes, as: UTF8.self)
        version = HTTPVersion(major: 1, minor: minor >= 1 ? 1 : 0)
        return nil
    }

    /// Whether the bytes start with the ASCII `prefix` (case-sensitive).
    static func hasPrefix(_ bytes: ArraySlice<UInt8>, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        var index = bytes.startIndex
        for offset in 0..<prefix.utf8CodeUnitCount {
            if bytes[index] != prefix.utf8Start[offset] { return false }
            index += 1
        }
        return true
    }

    // MARK: - Header fields

    /// Reads field lines until the empty line; shared by the header section and trailers.
    mutating func readFieldLines(into fields: inout HTTPHeaders) -> HTTPParserError?? {
        while true {
            let remaining = limits.maxHeaderBytes - headerBytes
            switch scanLine(limit: max(remaining - 2, 0)) {
            case .incomplete: return .some(nil)
            case .tooLong: return .headersTooLarge("header section is larger than the limit")
            case .invalid(let why): return .malformed(why)
            case .line(let range):
                if range.isEmpty { return nil }
                headerBytes += range.count + 2
                if headerBytes > limits.maxHeaderBytes { return .headersTooLarge("header section is larger than the limit") }
                if fields.count >= limits.maxHeaderCount { return .headersTooLarge("more header fields than the limit") }
                switch HTTPSyntax.parseFieldLine(buffer[range]) {
                case .failure(let error): return error
                case .success(let field): fields.add(name: field.name, value: field.value)
                }
            }
        }
    }

    mutating func parseHeaders() -> HTTPParserEvent {
        // Moved out and back so that appending does not copy the list (it is not shared meanwhile).
        var fields = headers
        headers = HTTPHeaders()
        let outcome = readFieldLines(into: &fields)
        headers = fields
        switch outcome {
        case .some(.some(let error)): return fail(error)
        case .some(.none): return .needMoreData
        case .none: break
        }
        switch HTTPFraming.resolve(version: version, headers: headers, limits: limits) {
        case .failure(let error):
            return fail(error)
        case .success(let resolved):
            let head = HTTPRequestHead(
                method: method, target: target, version: version, headers: headers,
                framing: resolved.framing, keepAlive: resolved.keepAlive, expectsContinue: resolved.expectsContinue)
            switch resolved.framing {
            case .none, .length(0): state = .endOfMessage
            case .length(let count): state = .fixedBody(remaining: count)
            case .chunked: state = .chunkSize
            }
            return .head(head)
        }
    }

    // MARK: - Bodies

    mutating func takeBytes(upTo count: Int) -> [UInt8] {
        let available = min(count, buffer.count - start)
        let bytes = Array(buffer[start..<start + available])
        start += available
        return bytes
    }

    mutating func readFixedBody(remaining: Int) -> HTTPParserEvent {
        if remaining == 0 { resetForNextMessage(); return .end(trailers: HTTPHeaders()) }
        guard buffer.count > start else { return .needMoreData }
        let bytes = takeBytes(upTo: remaining)
        state = .fixedBody(remaining: remaining - bytes.count)
        return .body(bytes)
    }

    mutating func parseChunkSize() -> HTTPParserEvent {
        switch scanLine(limit: limits.maxChunkLineBytes) {
        case .incomplete: return .needMoreData
        case .tooLong: return fail(.malformed("chunk-size line is too long"))
        case .invalid(let why): return fail(.malformed(why))
        case .line(let range):
            switch HTTPSyntax.parseChunkSize(buffer[range]) {
            case .failure(let error): return fail(error)
            case .success(let size):
                if size == 0 { state = .trailers; return parseTrailers() }
                // Checked before the bytes arrive: no chunk can push the body past the limit.
                if size > limits.maxBodyBytes - bodyBytes { return fail(.bodyTooLarge()) }
                bodyBytes += size
                state = .chunkData(remaining: size)
                return readChunkData(remaining: size)
            }
        }
    }

    mutating func readChunkData(remaining: Int) -> HTTPParserEvent {
        guard buffer.count > start else { return .needMoreData }
        let bytes = takeBytes(upTo: remaining)
        state = bytes.count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - bytes.count)
        return .body(bytes)
    }

    mutating func readChunkDataEnd() -> HTTPParserEvent {
        guard buffer.count - start >= 2 else {
            if buffer.count > start, buffer[start] != 0x0D { return fail(.malformed("chunk data is not followed by CRLF")) }
            return .needMoreData
        }
        // RFC 9112 §7.1: chunk-data is followed by CRLF; anything else is a framing error.
        guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else { return fail(.malformed("chunk data is not followed by CRLF")) }
        start += 2
        state = .chunkSize
        return parseChunkSize()
    }

    mutating func parseTrailers() -> HTTPParserEvent {
        var fields = trailers
        trailers = HTTPHeaders()
        let outcome = readFieldLines(into: &fields)
        trailers = fields
        switch outcome {
        case .some(.some(let error)): return fail(error)
        case .some(.none): return .needMoreData
        case .none:
            let received = trailers
            resetForNextMessage()
            return .end(trailers: received)
        }
    }

    mutating func resetForNextMessage() {
        state = .requestLine
        method = ""
        target = ""
        headers = HTTPHeaders()
        trailers = HTTPHeaders()
        headerBytes = 0
        bodyBytes = 0
        emptyLinesBeforeRequest = 0
    }
}
