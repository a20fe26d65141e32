import Testing
@testable import HTTPServer

/// Content codings on the connection: request bodies inflated as they arrive, responses gzipped.
@Suite("ConnectionStateMachine codings")
struct ConnectionStateMachineCodingTests {
    typealias Machine = ConnectionStateMachine<ManualClock>

    let clock = ManualClock()

    func makeMachine(maxBody: Int = 1 << 20, compression: ResponseCompression = ResponseCompression(gzip: false)) -> Machine {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = maxBody
        var configuration = Machine.Configuration(headerTimeout: .seconds(10), idleTimeout: .seconds(60), maxBufferedBytes: 1 << 22)
        configuration.compression = compression
        return Machine(configuration: configuration, limits: limits, renderError: plainTextErrorRenderer, now: clock.now)
    }

    /// Sends a POST whose body is `body` coded as `coding`, in two pieces.
    func post(_ machine: inout Machine, _ body: [UInt8], coding: String) -> [Machine.Action] {
        let head = Array("POST /v1/generations HTTP/1.1\r\nHost: t\r\nContent-Encoding: \(coding)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        let bytes = head + body
        let split = head.count + body.count / 2
        var actions = bytes[..<split].withUnsafeBytes { machine.bytesReceived($0, now: clock.now) }
        actions += bytes[split...].withUnsafeBytes { machine.bytesReceived($0, now: clock.now) }
        return actions
    }

    static func handled(_ actions: [Machine.Action]) -> HTTPRequest? {
        for case .handle(let request) in actions { return request }
        return nil
    }

    static func sentStatus(_ actions: [Machine.Action]) -> String? {
        for case .send(let bytes) in actions { return String(decoding: bytes.prefix(12), as: UTF8.self) }
        return nil
    }

    @Test func aGzipBodyReachesTheHandlerInflatedWithoutItsCoding() throws {
        var machine = makeMachine()
        let json = Array(#"{"model":"krea-2-medium","prompt":"a lighthouse at dawn"}"#.utf8)
        let gzipped = try #require(Gzip.compress(json))
        let request = try #require(Self.handled(post(&machine, gzipped, coding: "gzip")))
        #expect(request.body == json)
        #expect(request.head.headers["content-encoding"] == nil)
        // The connection stays usable.
        #expect(Self.sentStatus(machine.handlerFinished(HTTPResponse(status: 202), now: clock.now)) == "HTTP/1.1 202")
    }

    @Test func aBombIs413AndTheConnectionCloses() throws {
        var machine = makeMachine(maxBody: 65_536)
        let bomb = try #require(Gzip.compress([UInt8](repeating: 0, count: 10_000_000)))
        let actions = post(&machine, bomb, coding: "gzip")
        #expect(Self.handled(actions) == nil)
        #expect(Self.sentStatus(actions) == "HTTP/1.1 413")
        #expect(actions.contains { if case .close = $0 { true } else { false } })
    }

    @Test func aBrokenStreamIs400AndAnUnknownCodingIs415() throws {
        var broken = makeMachine()
        let gzip = try #require(Gzip.compress(Array(repeating: UInt8(ascii: "x"), count: 3000)))
        let truncated = post(&broken, Array(gzip.dropLast(3)), coding: "gzip")
        #expect(Self.handled(truncated) == nil && Self.sentStatus(truncated) == "HTTP/1.1 400")
        var unknown = makeMachine()
        let refused = post(&unknown, Array("{}".utf8), coding: "br")
        #expect(Self.handled(refused) == nil && Self.sentStatus(refused) == "HTTP/1.1 415")
    }

    @Test func responsesAreGzippedForClientsThatAcceptGzip() throws {
        var machine = makeMachine(compression: ResponseCompression(gzip: true, minBytes: 100))
        let get = Array("GET /v1/generations HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n".utf8)
        _ = get.withUnsafeBytes { machine.bytesReceived($0, now: clock.now) }
        let body = Array(String(repeating: #"{"id":"gen_1"},"#, count: 100).utf8)
        let actions = machine.handlerFinished(HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body), now: clock.now)
        var sent: [UInt8] = []
        for case .send(let bytes) in actions { sent += bytes }
        let text = String(decoding: sent, as: UTF8.self)
        #expect(text.contains("Content-Encoding: gzip\r\n") && text.contains("Vary: Accept-Encoding\r\n"))
        #expect(sent.count < body.count / 4)
    }
}
