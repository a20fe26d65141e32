import Testing
@testable import HTTPServer

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    /// Found by fuzzing: a chunk-size line over the limit that ends in a bare LF was "bare LF" when
    /// the bytes came at once and "too long" when they trickled in. The length wins either way.
    @Test func anOverlongLineEndingInABareLFIsTooLongHoweverItArrives() {
        var limits = HTTPParserLimits()
        limits.maxChunkLineBytes = 16
        let text = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "1", count: 40) + "\n"
        let whole = parse(text, limits: limits)
        #expect(whole.error == parseByteAtATime(text, limits: limits).error)
        #expect(whole.error == .malformed("chunk-size line is too long"))
    }

    static let samples: [String] = [
        "GET /v1/models HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
        "POST /v1/generations HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
        "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nPOST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.0\r\n\r\n",
        "\r\nGET /after-empty-line HTTP/1.1\r\nHost: a\r\n\r\n",
    ]

    @Test("byte-at-a-time and random splits give the same result as one buffer", arguments: samples)
    func parser_SplitFeedingMatchesWholeBuffer(sample: String) {
        let whole = parse(sample)
        #expect(whole.error == nil)
        #expect(!whole.messages.isEmpty)
        #expect(parseByteAtATime(sample) == whole)
        for seed in UInt64(1)...UInt64(50) {
            #expect(parseRandomSplits(sample, seed: seed) == whole)
        }
    }

    @Test func parser_ReadsRequestLineHeadersAndRepeatedHeaders() {
        let outcome = parse("GET /v1/generations?limit=5&after=x HTTP/1.1\r\nHost: gw\r\nAccept: a\r\naccept: b\r\nX-Empty:\r\n\r\n")
        let head = try! #require(outcome.messages.first?.head)
        #expect(head.method == "GET")
        #expect(head.target == "/v1/generations?limit=5&after=x")
        #expect(head.version == .http1_1)
        #expect(head.headers.values("Accept") == ["a", "b"])
        #expect(head.headers["x-empty"] == "")
        #expect(head.framing == .none)
        #expect(head.keepAlive)
        let request = HTTPRequest(head: head)
        #expect(request.path == "/v1/generations")
        #expect(request.queryParameters == ["limit": "5", "after": "x"])
    }

    @Test func parser_TrimsOptionalWhitespaceAroundValues() {
        let head = parse("GET / HTTP/1.1\r\nHost:  a \t\r\nX-Y:\tv  w\t\r\n\r\n").messages.first?.head
        #expect(head?.headers["host"] == "a")
        #expect(head?.headers["x-y"] == "v  w")
    }

    @Test func parser_ChunkedBodyWithExtensionsAndTrailers() {
        let outcome = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=1;b=\"q\"\r\nabc\r\nA\r\n0123456789\r\n0;last\r\nX-T: 1\r\nX-U: 2\r\n\r\n")
        let message = try! #require(outcome.messages.first)
        #expect(message.head.framing == .chunked)
        #expect(message.body == Array("abc0123456789".utf8))
        #expect(message.trailers.values("x-t") == ["1"])
        #expect(message.trailers.values("x-u") == ["2"])
    }

    @Test func parser_HTTP10Defaults() {
        let plain = try! #require(parse("GET / HTTP/1.0\r\n\r\n").messages.first?.head)
        #expect(plain.version == .http1_0)
        #expect(!plain.keepAlive)
        let kept = try! #require(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").messages.first?.head)
        #expect(kept.keepAlive)
        // RFC 9110 §10.1.1: a 1.0 client's Expect is ignored.
        let expect = try! #require(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").messages.first?.head)
        #expect(!expect.expectsContinue)
    }

    @Test func parser_KeepAliveRules() {
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").messages.first?.head.keepAlive == false)
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n").messages.first?.head.keepAlive == false)
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").messages.first?.head.keepAlive == true)
    }

    @Test func parser_ExpectContinue() {
        let head = try! #require(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok").messages.first?.head)
        #expect(head.expectsContinue)
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nContent-Length: 2\r\n\r\nok").error?.status == 417)
    }

    @Test func parser_PipelinedRequestsComeOutInOrder() {
        let text = (0..<100).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()
        let outcome = parseRandomSplits(text, seed: 7)
        #expect(outcome.messages.map(\.head.target) == (0..<100).map { "/\($0)" })
    }

    @Test func parser_AbsoluteFormTargetKeepsPath() {
        let head = try! #require(parse("GET http://gw.example/v1/models?x=1 HTTP/1.1\r\nHost: gw.example\r\n\r\n").messages.first?.head)
        #expect(HTTPRequest(head: head).path == "/v1/models")
    }

    // MARK: Limits: each at the limit and one past it

    @Test func parser_RequestLineLimit() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 64)
        let prefix = "GET /", suffix = " HTTP/1.1"
        let atLimit = prefix + String(repeating: "a", count: 64 - prefix.count - suffix.count) + suffix
        #expect(atLimit.utf8.count == 64)
        #expect(parse(atLimit + "\r\nHost: a\r\n\r\n", limits: limits).error == nil)
        #expect(parseByteAtATime(atLimit + "\r\nHost: a\r\n\r\n", limits: limits).messages.count == 1)
        let over = prefix + "b" + String(repeating: "a", count: 64 - prefix.count - suffix.count) + suffix
        #expect(parse(over + "\r\nHost: a\r\n\r\n", limits: limits).error?.status == 414)
        // Refused while still arriving, before any line end.
        #expect(parse(String(repeating: "G", count: 70), limits: limits).error?.status == 414)
    }

    @Test func parser_HeaderBytesLimit() {
        let limits = HTTPParserLimits(maxHeaderBytes: 100)
        // "Host: a\r\n" is 9 bytes; a filler field "X: " + n + "\r\n" fills the rest exactly.
        let filler = String(repeating: "v", count: 100 - 9 - 5)
        let atLimit = "GET / HTTP/1.1\r\nHost: a\r\nX: \(filler)\r\n\r\n"
        #expect(parse(atLimit, limits: limits).messages.count == 1)
        #expect(parseByteAtATime(atLimit, limits: limits).messages.count == 1)
        let over = "GET / HTTP/1.1\r\nHost: a\r\nX: \(filler)v\r\n\r\n"
        #expect(parse(over, limits: limits).error?.status == 431)
        #expect(parseByteAtATime(over, limits: limits).error?.status == 431)
        // Refused before the section ends.
        #expect(parse("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 200), limits: limits).error?.status == 431)
    }

    @Test func parser_HeaderCountLimit() {
        let limits = HTTPParserLimits(maxHeaderCount: 10)
        let nine = (0..<9).map { "X-\($0): v\r\n" }.joined()
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\n\(nine)\r\n", limits: limits).messages.count == 1)
        let ten = (0..<10).map { "X-\($0): v\r\n" }.joined()
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\n\(ten)\r\n", limits: limits).error?.status == 431)
    }

    @Test func parser_DefaultLimitsMatchTheContract() {
        let limits = HTTPParserLimits()
        #expect(limits.maxRequestLineBytes == 8192)
        #expect(limits.maxHeaderBytes == 65536)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxBodyBytes == 1_048_576)
    }

    @Test func parser_ContentLengthBodyLimit() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits).messages.first?.body.count == 10)
        // Refused from the head alone, before any body byte arrives.
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits).error?.status == 413)
    }

    @Test func parser_ChunkedBodyLimit() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        let atLimit = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"
        #expect(parse(atLimit, limits: limits).messages.first?.body.count == 10)
        let over = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n"
        #expect(parse(over, limits: limits).error?.status == 413)
    }

    // MARK: Request smuggling and malformed framing (RFC 9112 §6.3, §2.2, §5)

    static let badFraming: [(String, String)] = [
        ("CL with TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("TE with CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
        ("chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        ("TE not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
        ("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two CLs", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
        ("CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello"),
        ("CL with plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
        ("CL with minus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello"),
        ("CL with inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nhello"),
        ("CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"),
        ("CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        ("chunk-size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nx\r\n0\r\n\r\n"),
        ("chunk-size not hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"),
        ("chunk-size with sign", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n"),
        ("missing CRLF after chunk data", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"),
        ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        ("bad header name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n"),
        ("empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"),
        ("no colon", "GET / HTTP/1.1\r\nHost: a\r\nJustText\r\n\r\n"),
        ("bare CR in header", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n"),
        ("bare LF line end", "GET / HTTP/1.1\nHost: a\n\n"),
        ("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n"),
        ("missing Host in 1.1", "GET / HTTP/1.1\r\nAccept: a\r\n\r\n"),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("two spaces in request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
        ("space inside the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("no version", "GET /\r\nHost: a\r\n\r\n"),
        ("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("short version", "GET / HTTP/1.\r\nHost: a\r\n\r\n"),
        ("long version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"),
        ("version without dot", "GET / HTTP/1x1\r\nHost: a\r\n\r\n"),
        ("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"),
        ("target without slash", "GET v1 HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
    ]

    @Test("ambiguous or malformed framing is a 400", arguments: badFraming)
    func parser_RefusesAmbiguousFraming(name: String, text: String) {
        let whole = parse(text)
        #expect(whole.error?.status == 400, "\(name)")
        #expect(whole.messages.isEmpty, "\(name)")
        #expect(parseByteAtATime(text).error?.status == 400, "\(name)")
    }

    @Test func parser_UnknownCodingEndingInChunkedIs501() {
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error?.status == 501)
    }

    @Test func parser_OtherHTTPVersionIs505() {
        #expect(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n").error?.status == 505)
    }

    @Test func parser_StaysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n".utf8))
        guard case .error = parser.next() else { Issue.record("expected an error"); return }
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .error = parser.next() else { Issue.record("expected the error to persist"); return }
    }

    @Test func parser_IdleOnlyBetweenMessages() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.append(Array("GET / HT".utf8))
        _ = parser.next()
        #expect(!parser.isIdle)
        parser.append(Array("TP/1.1\r\nHost: a\r\n\r\n".utf8))
        _ = parser.next()
        _ = parser.next()
        #expect(parser.isIdle)
    }
}
