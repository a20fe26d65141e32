import Testing
@testable import HTTPServer

/// Deadlines that a slow client cannot stretch by sending a byte now and then.
@Suite("ConnectionStateMachine deadlines")
struct ConnectionStateMachineDeadlineTests {
    typealias Machine = ConnectionStateMachine<ManualClock>

    let clock = ManualClock()

    func makeMachine(header: Duration = .seconds(10), idle: Duration = .seconds(60), body: Duration = .seconds(30)) -> Machine {
        var configuration = Machine.Configuration(headerTimeout: header, idleTimeout: idle, maxBufferedBytes: 1 << 20)
        configuration.bodyTimeout = body
        return Machine(configuration: configuration, limits: HTTPParserLimits(), renderError: plainTextErrorRenderer, now: clock.now)
    }

    func feed(_ machine: inout Machine, _ text: String) -> [Machine.Action] {
        Array(text.utf8).withUnsafeBytes { machine.bytesReceived($0, now: clock.now) }
    }

    static func sent408(_ actions: [Machine.Action]) -> Bool {
        actions.contains { if case .send(let bytes) = $0 { String(decoding: bytes.prefix(12), as: UTF8.self) == "HTTP/1.1 408" } else { false } }
    }

    /// A partial head that arrived with an earlier request gets the header timeout from the moment
    /// the connection turns to it, not the idle timeout that every new byte would reset.
    @Test func aPipelinedPartialHeadHasTheHeaderTimeout() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60))
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHo")
        clock.advance(by: .seconds(5))
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        // One byte every 3 s: each is activity, none extends the head's deadline (10 s from now).
        for _ in 0..<3 {
            clock.advance(by: .seconds(3))
            #expect(machine.timerFired(now: clock.now).isEmpty)
            _ = feed(&machine, "s")
        }
        clock.advance(by: .seconds(1))
        #expect(Self.sent408(machine.timerFired(now: clock.now)))
    }

    /// Bytes buffered while a handler ran count from when the connection turns to them.
    @Test func aHeadBufferedDuringAHandlerIsTimedFromTheAnswer() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60))
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = feed(&machine, "GET /b HT")  // arrives while /a's handler runs
        clock.advance(by: .seconds(30))  // a slow handler is not the client's fault
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        clock.advance(by: .seconds(9))
        #expect(machine.timerFired(now: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(Self.sent408(machine.timerFired(now: clock.now)))
    }

    /// A body must arrive whole within `bodyTimeout` of its head, however steadily it trickles.
    @Test func aTricklingBodyEndsAtTheBodyTimeout() {
        var machine = makeMachine(idle: .seconds(60), body: .seconds(30))
        _ = feed(&machine, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
        for _ in 0..<2 {
            clock.advance(by: .seconds(10))
            #expect(machine.timerFired(now: clock.now).isEmpty)
            _ = feed(&machine, "x")
        }
        clock.advance(by: .seconds(10))
        #expect(Self.sent408(machine.timerFired(now: clock.now)), "30 s after the head, 3 bytes of 100")
    }

    /// A body that arrives in time is handled; the next request starts with fresh deadlines.
    @Test func aBodyInTimeIsHandledAndTheNextRequestIsTimedAfresh() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60), body: .seconds(30))
        _ = feed(&machine, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nab")
        clock.advance(by: .seconds(29))
        let actions = feed(&machine, "c")
        #expect(actions.contains { if case .handle = $0 { true } else { false } })
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        // Idle now: the idle timeout applies, not the old body deadline.
        clock.advance(by: .seconds(59))
        #expect(machine.timerFired(now: clock.now).isEmpty)
    }
}
